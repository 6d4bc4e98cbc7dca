package catalog

import "testing"

// FuzzValidateFile feeds arbitrary bytes through the ingestion checks
// (parse, envelope, formats, kind rules, relations): they must never
// panic, and every problem must point at a real position.
func FuzzValidateFile(f *testing.F) {
	f.Add([]byte("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: x\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n  dependsOn: [x]\n"))
	f.Add([]byte("kind: Location\nspec:\n  targets: [a, b]\n---\n- 1\n"))
	f.Add([]byte("apiVersion: scaffolder.backstage.io/v1beta3\nkind: Template\nmetadata: {name: t}\nspec: {type: s, steps: [{action: a}]}\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, d := range ValidateFile(nil, "fuzz.yaml", data) {
			if d.Line < 0 || d.Column < 0 || d.Message == "" {
				t.Fatalf("bad diagnostic %+v", d)
			}
		}
	})
}

package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTemplateDryRun(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("template.yaml", `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata: {name: hello}
spec:
  owner: group:default/team-a
  type: service
  parameters:
    - required: [name]
      properties:
        name: {type: string}
  steps:
    - id: fetch
      action: fetch:template
      input:
        url: ./skeleton
        values: {name: "${{ parameters.name }}"}
    - id: publish
      action: publish:git
      input: {repoUrl: "github.com?owner=acme&repo=${{ parameters.name }}"}
    - id: register
      action: catalog:register
      input:
        repoContentsUrl: ${{ steps.publish.output.repoContentsUrl }}
  output:
    links:
      - title: Repository
        url: ${{ steps.publish.output.remoteUrl }}
`)
	write("skeleton/README.md", "# ${{ values.name }}\n")
	write("values.yaml", "name: billing-api\n")

	code, out, errOut := run("template", "dry-run", dir, "--values", filepath.Join(dir, "values.yaml"), "--show-files")
	if code != 0 {
		t.Fatalf("dry-run = %d\n%s%s", code, out, errOut)
	}
	for _, w := range []string{"README.md (", "| # billing-api", "https://github.com/acme/billing-api.git",
		"would register https://github.com/acme/billing-api/tree/main/catalog-info.yaml"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	// A missing required value fails with the field named.
	write("empty.yaml", "{}\n")
	code, _, errOut = run("template", "dry-run", dir, "--values", filepath.Join(dir, "empty.yaml"))
	if code != 1 || !strings.Contains(errOut, "name") {
		t.Errorf("without a required value: %d %s", code, errOut)
	}
}

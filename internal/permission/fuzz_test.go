package permission_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/atrium-dev/atrium/internal/auth"
	"github.com/atrium-dev/atrium/internal/permission"
)

// billionLaughs is the classic alias bomb: a few hundred bytes that
// expand to 10^9 strings.
func billionLaughs() string {
	var b strings.Builder
	b.WriteString(`a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]` + "\n")
	prev := "a"
	for _, name := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		b.WriteString(name + ": &" + name + " [")
		for i := range 10 {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString("*" + prev)
		}
		b.WriteString("]\n")
		prev = name
	}
	b.WriteString("rules: *i\n")
	return b.String()
}

func FuzzParse(f *testing.F) {
	f.Add(decidePolicy)
	f.Add(goodPolicy)
	f.Add(brokenPolicy)
	f.Add(ruleHead + "    permissions: [catalog.entity.delete]\n    decision: conditional\n    conditions: {allOf: [{hasSpec: {key: a.b, value: x}}, {not: {expr: 'resource.kind == \"API\"'}}]}\n")
	f.Add(ruleHead + "    permissions: ['*']\n    decision: allow\n    when: 'principal.kind == \"user\"'\n")
	f.Add(billionLaughs())
	f.Add("rules: " + strings.Repeat("[", 5000) + strings.Repeat("]", 5000))
	f.Add("rules: " + strings.Repeat("{a: ", 5000) + "x" + strings.Repeat("}", 5000))
	f.Add(ruleHead + "    permissions: [catalog.entity.delete]\n    decision: conditional\n    conditions: " +
		strings.Repeat("{not: ", 200) + "{isEntityOwner: {}}" + strings.Repeat("}", 200) + "\n")
	f.Add("rules:\n" + strings.Repeat("  - {name: x, principals: ['*'], permissions: ['*'], decision: allow}\n", 200))
	f.Add("rules: []\n---\n" + strings.Repeat("# comment\n", 1000))
	f.Add("\xff\xfe\x00r\x00u")

	ids := []auth.Identity{bob, ci, {}}
	f.Fuzz(func(t *testing.T, src string) {
		pol, err := permission.Parse("fuzz.yaml", []byte(src))
		if err != nil {
			var pe *permission.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not a *ParseError: %v", err, err)
			}
			return
		}
		for _, perm := range permission.Registered() {
			for _, id := range ids {
				d := pol.Decide(id, perm)
				switch d.Result {
				case permission.Allow, permission.Deny:
					if d.Conditions != nil {
						t.Fatalf("%s decision with conditions", d.Result)
					}
				case permission.Conditional:
					b, err := json.Marshal(d.Conditions)
					if err != nil {
						t.Fatalf("marshal conditions: %v", err)
					}
					var back permission.Condition
					if err := json.Unmarshal(b, &back); err != nil {
						t.Fatalf("conditions %s do not read back: %v", b, err)
					}
					if perm.Action == permission.ActionRead {
						if _, err := d.Conditions.Filter(); err != nil {
							t.Fatalf("read conditions %s have no filter: %v", b, err)
						}
					}
				default:
					t.Fatalf("unknown result %q", d.Result)
				}
			}
		}
	})
}

package synth

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// This file holds a small, independent checker of catalog files, used on
// both the generated organisation and the hand-written examples/: it
// follows a Location's targets (globs included), parses every document, and
// checks Backstage's name, tag and required-field rules, that every
// reference resolves, and that both sides of parent/children and
// members/memberOf agree.

var (
	nameRE = regexp.MustCompile(`^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`)
	tagRE  = regexp.MustCompile(`^[a-z0-9:+#]+(\-[a-z0-9:+#]+)*$`)
)

type ent struct {
	kind, name, file string
	doc              map[string]any
}

func (e ent) ref() string { return strings.ToLower(e.kind) + ":default/" + e.name }

func (e ent) spec() map[string]any {
	s, _ := e.doc["spec"].(map[string]any)
	return s
}

// loadTree reads root and everything its Location targets reach.
func loadTree(t *testing.T, root string) []ent {
	t.Helper()
	var out []ent
	seen := map[string]bool{}
	var visit func(file string)
	visit = func(file string) {
		if seen[file] {
			t.Errorf("%s: read twice", file)
			return
		}
		seen[file] = true
		for _, e := range parseFile(t, file) {
			out = append(out, e)
			if e.kind != "Location" {
				continue
			}
			spec := e.spec()
			var targets []string
			if tg, ok := spec["target"].(string); ok {
				targets = append(targets, tg)
			}
			for _, tg := range asList(spec["targets"]) {
				targets = append(targets, tg.(string))
			}
			for _, tg := range targets {
				matches, err := filepath.Glob(filepath.Join(filepath.Dir(file), tg))
				if err != nil || len(matches) == 0 {
					t.Errorf("%s: target %q matches no file", file, tg)
					continue
				}
				for _, m := range matches {
					visit(m)
				}
			}
		}
	}
	visit(root)
	return out
}

func parseFile(t *testing.T, file string) []ent {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []ent
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		md, _ := doc["metadata"].(map[string]any)
		name, _ := md["name"].(string)
		kind, _ := doc["kind"].(string)
		out = append(out, ent{kind: kind, name: name, file: file, doc: doc})
	}
	return out
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// refFields lists, per kind, the spec fields holding references and the
// default kind of an unqualified one ("" = must be qualified).
var refFields = map[string][]struct{ field, defKind string }{
	"Component": {{"owner", "group"}, {"system", "system"}, {"subcomponentOf", "component"}, {"providesApis", "api"}, {"consumesApis", "api"}, {"dependsOn", ""}},
	"API":       {{"owner", "group"}, {"system", "system"}},
	"Resource":  {{"owner", "group"}, {"system", "system"}, {"dependsOn", ""}},
	"System":    {{"owner", "group"}, {"domain", "domain"}},
	"Domain":    {{"owner", "group"}, {"subdomainOf", "domain"}},
	"Group":     {{"parent", "group"}, {"children", "group"}, {"members", "user"}},
	"User":      {{"memberOf", "group"}},
	"Template":  {{"owner", "group"}},
}

var required = map[string][]string{
	"Component": {"type", "lifecycle", "owner"},
	"API":       {"type", "lifecycle", "owner", "definition"},
	"Resource":  {"type", "owner"},
	"System":    {"owner"},
	"Domain":    {"owner"},
	"Group":     {"type", "children"},
	"User":      {"memberOf"},
	"Template":  {"type", "steps"},
}

func normRef(s, defKind string) (string, error) {
	kind, rest, ok := strings.Cut(s, ":")
	if !ok || strings.Contains(kind, "/") {
		if defKind == "" {
			return "", fmt.Errorf("reference %q must name its kind", s)
		}
		kind, rest = defKind, s
	}
	if !strings.Contains(rest, "/") {
		rest = "default/" + rest
	}
	return strings.ToLower(kind + ":" + rest), nil
}

// checkCatalog returns every problem found in ents.
func checkCatalog(ents []ent) []string {
	var problems []string
	bad := func(e ent, format string, args ...any) {
		problems = append(problems, fmt.Sprintf("%s: %s %s: %s", filepath.Base(e.file), e.kind, e.name, fmt.Sprintf(format, args...)))
	}
	byRef := map[string]ent{}
	for _, e := range ents {
		if !nameRE.MatchString(e.name) || len(e.name) > 63 {
			bad(e, "invalid name")
		}
		if _, dup := byRef[e.ref()]; dup {
			bad(e, "duplicate")
		}
		byRef[e.ref()] = e
		md, _ := e.doc["metadata"].(map[string]any)
		for _, tg := range asList(md["tags"]) {
			if s, _ := tg.(string); !tagRE.MatchString(s) || len(s) > 63 {
				bad(e, "invalid tag %v", tg)
			}
		}
		for _, f := range required[e.kind] {
			if _, ok := e.spec()[f]; !ok {
				bad(e, "missing spec.%s", f)
			}
		}
	}
	// refs[from] = set of normalised refs per field, to check both sides.
	refsOf := func(e ent, field, defKind string) []string {
		var raw []any
		switch v := e.spec()[field].(type) {
		case string:
			raw = []any{v}
		case []any:
			raw = v
		}
		var out []string
		for _, r := range raw {
			s, _ := r.(string)
			n, err := normRef(s, defKind)
			if err != nil {
				bad(e, "spec.%s: %v", field, err)
				continue
			}
			out = append(out, n)
		}
		return out
	}
	for _, e := range ents {
		for _, f := range refFields[e.kind] {
			for _, r := range refsOf(e, f.field, f.defKind) {
				if _, ok := byRef[r]; !ok {
					bad(e, "spec.%s: %s does not resolve", f.field, r)
				}
			}
		}
		switch e.kind {
		case "Group":
			for _, c := range refsOf(e, "children", "group") {
				if kid, ok := byRef[c]; ok && !slices.Contains(refsOf(kid, "parent", "group"), e.ref()) {
					bad(e, "child %s does not name it as parent", c)
				}
			}
			for _, p := range refsOf(e, "parent", "group") {
				if par, ok := byRef[p]; ok && !slices.Contains(refsOf(par, "children", "group"), e.ref()) {
					bad(e, "parent %s does not list it as a child", p)
				}
			}
			for _, m := range refsOf(e, "members", "user") {
				if u, ok := byRef[m]; ok && !slices.Contains(refsOf(u, "memberOf", "group"), e.ref()) {
					bad(e, "member %s is not memberOf it", m)
				}
			}
		case "User":
			for _, g := range refsOf(e, "memberOf", "group") {
				if grp, ok := byRef[g]; ok && !slices.Contains(refsOf(grp, "members", "user"), e.ref()) {
					bad(e, "group %s does not list it as a member", g)
				}
			}
		}
	}
	sort.Strings(problems)
	return problems
}

func countKinds(ents []ent) map[string]int {
	m := map[string]int{}
	for _, e := range ents {
		m[e.kind]++
	}
	return m
}

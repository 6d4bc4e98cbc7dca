package entity

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var (
	label63 = strings.Repeat("a", 63)
	label64 = strings.Repeat("a", 64)
	// dns253 and dns254 are dotted DNS names of exactly 253 and 254 bytes.
	dns253 = label63 + "." + label63 + "." + label63 + "." + strings.Repeat("b", 61)
	dns254 = label63 + "." + label63 + "." + label63 + "." + strings.Repeat("b", 62)
)

func TestFormatRules(t *testing.T) {
	type rule struct {
		name string
		fn   func(string) bool
		ok   []string
		bad  []string
	}
	rules := []rule{
		{
			name: "object name", fn: IsValidObjectName,
			ok: []string{"a", "petstore", "visits-tracking-service", "CircleciBuildsDumpV2_avro_gcs", "a--b", "a.b_c-d", "9", label63},
			bad: []string{"", "-a", "a-", "_a", "a.", "a b", "a/b", "a:b", "<script>", "<script>alert(1)</script>", "a\xffb", "ä", label64,
				"a\n"},
		},
		{
			name: "namespace (DNS label)", fn: IsValidDNSLabel,
			ok:  []string{"default", "a", "a-b", "a--b", "0", label63},
			bad: []string{"", "A", "Default", "a_b", "a.b", "-a", "a-", label64, "<script>"},
		},
		{
			name: "DNS subdomain", fn: IsValidDNSSubdomain,
			ok:  []string{"backstage.io", "a", "my-company.net", dns253},
			bad: []string{"", ".", "a..b", "Backstage.io", "a_b.io", dns254, label64 + ".io"},
		},
		{
			name: "kind", fn: IsValidKind,
			ok:  []string{"Component", "API", "a", "a1", "Z" + strings.Repeat("z", 62)},
			bad: []string{"", "1a", "Com-ponent", "Com_ponent", "a.b", "Z" + strings.Repeat("z", 63), "<script>"},
		},
		{
			name: "apiVersion", fn: IsValidAPIVersion,
			ok: []string{"backstage.io/v1alpha1", "scaffolder.backstage.io/v1beta3", "v1", "my-company.net/v1", "V1",
				dns253 + "/v1", "a/" + label63},
			bad: []string{"", "1.0", "a/b/c", "/v1", "backstage.io/", "Backstage.io/v1", "backstage.io/v-1",
				dns254 + "/v1", "a/" + label64},
		},
		{
			name: "label and annotation key", fn: IsValidLabelKey,
			ok:  []string{"tier", "backstage.io/custom", "backstage.io/techdocs-ref", "a.b/C_d", dns253 + "/x", "x/" + label63},
			bad: []string{"", "a/b/c", "example.com/", "/x", "Example.com/x", dns254 + "/x", "x/" + label64, "a b", "x/<script>"},
		},
		{
			name: "label value", fn: IsValidLabelValue,
			ok:  []string{"", "gold", "ValueStuff", label63},
			bad: []string{"a b", "-x", label64, "Random value Generator"},
		},
		{
			name: "tag", fn: IsValidTag,
			ok:  []string{"java", "c++", "c#", "a:b", "go-lang", "1", label63},
			bad: []string{"", "Java", "a--b", "a_b", "a.b", "-a", "a-", label64, "<script>"},
		},
		{
			name: "url", fn: IsValidURL,
			ok: []string{"https://x.io", "http://localhost:3000/a?b#c", "mailto:a@b.c", "file:///tmp/x", "slack://channel",
				" https://x.io ", "javascript:alert(1)"},
			bad: []string{"", "/relative", "x.io", "http://", "https:// x", "1http://x", "://x", "ht tp://x"},
		},
	}
	for _, r := range rules {
		t.Run(r.name, func(t *testing.T) {
			for _, s := range r.ok {
				if !r.fn(s) {
					t.Errorf("%s: %q rejected, want accepted", r.name, s)
				}
			}
			for _, s := range r.bad {
				if r.fn(s) {
					t.Errorf("%s: %q accepted, want rejected", r.name, s)
				}
			}
		})
	}
}

// validEntity returns a Component that passes FromMap, edited by edit.
func validEntity(t *testing.T, edit func(e *Entity)) *Entity {
	t.Helper()
	e, probs := FromMap(doc(nil))
	if probs != nil {
		t.Fatalf("FromMap: %v", probs)
	}
	if edit != nil {
		edit(e)
	}
	return e
}

func formatMsg(field, expectation, found string) string {
	return `"` + field + `" is not valid; expected ` + expectation + ` but found "` + found + `". ` + formatDocURL
}

func TestValidateFormats(t *testing.T) {
	tests := []struct {
		name string
		edit func(e *Entity)
		want Problems
	}{
		{name: "valid", edit: nil, want: nil},
		{
			name: "name with script injection",
			edit: func(e *Entity) { e.Metadata.Name = "<script>alert(1)</script>" },
			want: Problems{{Path: "metadata.name", Message: formatMsg("metadata.name", expectObjectName, "<script>alert(1)</script>")}},
		},
		{
			name: "name of 64 characters",
			edit: func(e *Entity) { e.Metadata.Name = label64 },
			want: Problems{{Path: "metadata.name", Message: formatMsg("metadata.name", expectObjectName, label64)}},
		},
		{
			name: "name with invalid UTF-8 is reported as valid UTF-8",
			edit: func(e *Entity) { e.Metadata.Name = "a\xffb" },
			want: Problems{{Path: "metadata.name", Message: formatMsg("metadata.name", expectObjectName, "a\uFFFDb")}},
		},
		{
			name: "empty name from code",
			edit: func(e *Entity) { e.Metadata.Name = "" },
			want: Problems{{Path: "metadata.name", Message: formatMsg("metadata.name", expectObjectName, "")}},
		},
		{
			name: "namespace",
			edit: func(e *Entity) { e.Metadata.Namespace = "Pets" },
			want: Problems{{Path: "metadata.namespace", Message: formatMsg("metadata.namespace", expectDNSLabel, "Pets")}},
		},
		{
			name: "apiVersion and kind",
			edit: func(e *Entity) { e.APIVersion = "a/b/c"; e.Kind = "1Component" },
			want: Problems{
				{Path: "apiVersion", Message: formatMsg("apiVersion", expectPrefixed, "a/b/c")},
				{Path: "kind", Message: formatMsg("kind", expectKind, "1Component")},
				{Path: "kind", Message: "No processor recognized the entity 1component:default/petstore as valid, possibly caused by a foreign kind or apiVersion"},
			},
		},
		{
			name: "labels: bad key, bad value, empty value ok",
			edit: func(e *Entity) {
				e.Metadata.Labels = map[string]string{"a/b/c": "ok", "tier": "not ok", "empty": ""}
			},
			want: Problems{
				{Path: "metadata.labels.a/b/c", Message: formatMsg("labels.a/b/c", expectPrefixed, "a/b/c")},
				{Path: "metadata.labels.tier", Message: formatMsg("labels.tier", expectObjectName, "not ok")},
			},
		},
		{
			name: "annotations: any value, key checked",
			edit: func(e *Entity) {
				e.Metadata.Annotations = map[string]string{"backstage.io/x": "any <value> at all", "bad key": ""}
			},
			want: Problems{{Path: "metadata.annotations.bad key", Message: formatMsg("annotations.bad key", expectPrefixed, "bad key")}},
		},
		{
			name: "tags",
			edit: func(e *Entity) { e.Metadata.Tags = []string{"java", "Go", "c++", "a:b", label64} },
			want: Problems{
				{Path: "metadata.tags.1", Message: formatMsg("tags.1", expectTag, "Go")},
				{Path: "metadata.tags.4", Message: formatMsg("tags.4", expectTag, label64)},
			},
		},
		{
			name: "links",
			edit: func(e *Entity) {
				e.Metadata.Links = []Link{{URL: "https://ok.io", Title: "ok"}, {URL: "not a url", Title: "  ", Icon: "\t"}}
			},
			want: Problems{
				{Path: "metadata.links.1.url", Message: formatMsg("links.1.url", expectURL, "not a url")},
				{Path: "metadata.links.1.title", Message: formatMsg("links.1.title", expectNonEmpty, "  ")},
				{Path: "metadata.links.1.icon", Message: formatMsg("links.1.icon", expectNonEmpty, "\t")},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := validEntity(t, tt.edit)
			got := Validate(e)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Validate mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateLongValueIsTruncatedInMessage(t *testing.T) {
	e := validEntity(t, func(e *Entity) { e.Metadata.Name = strings.Repeat("é", 1000) })
	got := Validate(e)
	if len(got) != 1 {
		t.Fatalf("got %v, want one problem", got)
	}
	if !strings.Contains(got[0].Message, "…(2000 bytes)") || len(got[0].Message) > 600 {
		t.Errorf("message not truncated: %d bytes", len(got[0].Message))
	}
	if !strings.Contains(got[0].Message, strings.Repeat("é", 100)) {
		t.Error("truncation split a character or kept too little")
	}
}

func TestValidateDefaultsNamespace(t *testing.T) {
	e := validEntity(t, nil)
	if e.Metadata.Namespace != "" {
		t.Fatalf("precondition: namespace %q", e.Metadata.Namespace)
	}
	if probs := Validate(e); probs != nil {
		t.Fatalf("Validate: %v", probs)
	}
	if e.Metadata.Namespace != DefaultNamespace {
		t.Errorf("namespace = %q, want %q", e.Metadata.Namespace, DefaultNamespace)
	}
	e = validEntity(t, func(e *Entity) { e.Metadata.Namespace = "pets" })
	Validate(e)
	if e.Metadata.Namespace != "pets" {
		t.Errorf("an explicit namespace was changed to %q", e.Metadata.Namespace)
	}
}

func TestValidateKindLookup(t *testing.T) {
	notRecognized := func(ref string) Problems {
		return Problems{{Path: "kind", Message: "No processor recognized the entity " + ref + " as valid, possibly caused by a foreign kind or apiVersion"}}
	}
	tests := []struct {
		name       string
		apiVersion string
		kind       string
		kinds      *KindRegistry
		want       Problems
	}{
		{name: "v1alpha1", apiVersion: "backstage.io/v1alpha1", kind: "Component"},
		{name: "v1beta1", apiVersion: "backstage.io/v1beta1", kind: "Component"},
		{name: "kind is case-sensitive", apiVersion: "backstage.io/v1alpha1", kind: "component", want: notRecognized("component:default/petstore")},
		{name: "unknown apiVersion", apiVersion: "backstage.io/v2", kind: "Component", want: notRecognized("component:default/petstore")},
		{name: "foreign kind", apiVersion: "backstage.io/v1alpha1", kind: "Widget", want: notRecognized("widget:default/petstore")},
		{name: "Template needs the scaffolder apiVersion", apiVersion: "backstage.io/v1alpha1", kind: "Template", want: notRecognized("template:default/petstore")},
		{name: "empty registry recognizes nothing", apiVersion: "backstage.io/v1alpha1", kind: "Component", kinds: NewKindRegistry(), want: notRecognized("component:default/petstore")},
		{
			name: "custom kind registered", apiVersion: "example.com/v1", kind: "Widget",
			kinds: func() *KindRegistry {
				r := BuiltinKinds()
				r.Register(KindDef{Kind: "Widget", APIVersions: []string{"example.com/v1"}})
				return r
			}(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := validEntity(t, func(e *Entity) { e.APIVersion, e.Kind = tt.apiVersion, tt.kind })
			var got Problems
			if tt.kinds != nil {
				got = ValidateWith(e, tt.kinds)
			} else {
				got = Validate(e)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateNil(t *testing.T) {
	if got := Validate(nil); len(got) != 1 {
		t.Errorf("Validate(nil) = %v, want one problem", got)
	}
}

func TestKindRegistry(t *testing.T) {
	r := BuiltinKinds()
	want := []string{"API", "Component", "Domain", "Group", "Location", "Resource", "System", "Template", "User"}
	if diff := cmp.Diff(want, r.Kinds()); diff != "" {
		t.Errorf("Kinds() mismatch (-want +got):\n%s", diff)
	}
	if BuiltinKinds() == r {
		t.Error("BuiltinKinds must return a fresh registry")
	}
	mustPanic := func(name string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s: no panic", name)
			}
		}()
		f()
	}
	mustPanic("duplicate", func() { r.Register(KindDef{Kind: "Component", APIVersions: []string{"x/v9", "backstage.io/v1beta1"}}) })
	if _, ok := r.Lookup("x/v9", "Component"); ok {
		t.Error("a panicking Register must not register part of the definition")
	}
	mustPanic("no kind", func() { r.Register(KindDef{APIVersions: []string{"x/v1"}}) })
	mustPanic("no apiVersion", func() { r.Register(KindDef{Kind: "X"}) })
	r.Register(KindDef{Kind: "Component", APIVersions: []string{"x/v9"}})
	if _, ok := r.Lookup("x/v9", "Component"); !ok {
		t.Error("a new apiVersion of a known kind must register")
	}
}

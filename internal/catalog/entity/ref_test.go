package entity

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseRef(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		d       RefDefaults
		want    Ref
		wantErr string // substring of the error; "" means no error
	}{
		{name: "full", in: "component:ns/name", want: Ref{"component", "ns", "name"}},
		{name: "case kept", in: "Component:NS/Name", want: Ref{"Component", "NS", "Name"}},
		{name: "no namespace takes default", in: "group:team-a", want: Ref{"group", "default", "team-a"}},
		{name: "no namespace takes given default", in: "group:team-a", d: RefDefaults{Namespace: "other"}, want: Ref{"group", "other", "team-a"}},
		{name: "explicit namespace beats default", in: "group:x/team-a", d: RefDefaults{Namespace: "other"}, want: Ref{"group", "x", "team-a"}},
		{name: "no kind takes default", in: "ns/name", d: RefDefaults{Kind: "Group"}, want: Ref{"Group", "ns", "name"}},
		{name: "name only", in: "name", d: RefDefaults{Kind: "Group", Namespace: "n"}, want: Ref{"Group", "n", "name"}},
		{name: "explicit kind beats default", in: "user:name", d: RefDefaults{Kind: "Group"}, want: Ref{"user", "default", "name"}},
		{name: "name with colon after kind", in: "k:a:b", want: Ref{"k", "default", "a:b"}},
		{name: "name with slash", in: "k:ns/a/b", want: Ref{"k", "ns", "a/b"}},
		{name: "slash before colon: colon is in the name", in: "ns/a:b", d: RefDefaults{Kind: "K"}, want: Ref{"K", "ns", "a:b"}},
		{name: "slash before colon without default kind", in: "ns/a:b", wantErr: "had missing or empty kind"},
		{name: "namespace may hold a colon", in: "k:a:b/c", want: Ref{"k", "a:b", "c"}},
		{name: "first slash splits even inside a URL", in: "url:https://x", want: Ref{"url", "https:", "/x"}},
		{name: "empty", in: "", wantErr: "must not be empty"},
		{name: "empty kind", in: ":ns/name", wantErr: "was not on the form"},
		{name: "empty namespace", in: "k:/name", wantErr: "was not on the form"},
		{name: "empty namespace without kind", in: "/name", d: RefDefaults{Kind: "K"}, wantErr: "was not on the form"},
		{name: "empty name after kind", in: "k:", wantErr: "was not on the form"},
		{name: "empty name after namespace", in: "k:ns/", wantErr: "was not on the form"},
		{name: "only colon", in: ":", wantErr: "was not on the form"},
		{name: "only slash", in: "/", d: RefDefaults{Kind: "K"}, wantErr: "was not on the form"},
		{name: "missing kind", in: "name", wantErr: `entity reference "name" had missing or empty kind`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRef(tt.in, tt.d)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseRef(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseRef(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseRef(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestRefStringAndKey(t *testing.T) {
	tests := []struct {
		name            string
		ref             Ref
		wantStr, wantKy string
	}{
		{"kind lowercased only", Ref{"Component", "NS", "Pet"}, "component:NS/Pet", "component:ns/pet"},
		{"empty namespace is default", Ref{"Group", "", "a"}, "group:default/a", "group:default/a"},
		{"name with separators", Ref{"K", "n", "a:b/c"}, "k:n/a:b/c", "k:n/a:b/c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.ref.String(); got != tt.wantStr {
				t.Errorf("String() = %q, want %q", got, tt.wantStr)
			}
			if got := tt.ref.Key(); got != tt.wantKy {
				t.Errorf("Key() = %q, want %q", got, tt.wantKy)
			}
		})
	}
	if !(Ref{"Group", "Default", "A"}).Equal(Ref{"group", "default", "a"}) {
		t.Error("Equal must ignore case")
	}
}

func FuzzParseRef(f *testing.F) {
	for _, s := range []string{"component:ns/name", "a:b:c", "ns/a:b", "k:a:b/c/d", ":", "/", "", "x", "k:", "ü:ñ/é"} {
		f.Add(s)
	}
	d := RefDefaults{Kind: "Group", Namespace: "dflt"}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRef(s, d)
		if err != nil {
			return
		}
		if r.Kind == "" || r.Namespace == "" || r.Name == "" {
			t.Fatalf("ParseRef(%q) = %#v with an empty part", s, r)
		}
		again, err := ParseRef(r.String(), RefDefaults{})
		if err != nil {
			t.Fatalf("ParseRef(%q).String() = %q does not parse: %v", s, r.String(), err)
		}
		// String lowercases the kind; everything else must survive.
		want := Ref{Kind: strings.ToLower(r.Kind), Namespace: r.Namespace, Name: r.Name}
		if again != want {
			t.Fatalf("round trip of %q: got %#v, want %#v", s, again, want)
		}
		if again.Key() != r.Key() {
			t.Fatalf("round trip of %q changed Key: %q != %q", s, again.Key(), r.Key())
		}
	})
}

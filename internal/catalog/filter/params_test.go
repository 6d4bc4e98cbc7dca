package filter

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/atrium-dev/atrium/internal/derrors"
)

// checkInvalid fails unless err is a *derrors.Error of kind ErrInvalid
// whose message contains want.
func checkInvalid(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one containing %q", want)
	}
	var de *derrors.Error
	if !errors.As(err, &de) || de.Kind != derrors.ErrInvalid {
		t.Fatalf("got error %#v, want a *derrors.Error of kind ErrInvalid", err)
	}
	if !strings.Contains(de.Message, want) {
		t.Errorf("got message %q, want it to contain %q", de.Message, want)
	}
}

func match(key string, values ...string) Match { return Match{Key: key, Values: values} }

func TestParseParams(t *testing.T) {
	tests := []struct {
		name    string
		filters []string
		want    Expr
	}{
		{name: "none", filters: nil, want: nil},
		{name: "only empty strings", filters: []string{"", " , ,", ","}, want: nil},
		{name: "single statement", filters: []string{"kind=component"}, want: match("kind", "component")},
		{
			name:    "repeated key ORs its values",
			filters: []string{"kind=component,kind=api"},
			want:    match("kind", "component", "api"),
		},
		{
			name:    "set is ANDed, keys in first-seen order",
			filters: []string{"a=1,b=2,a=3"},
			want:    All{Exprs: []Expr{match("a", "1", "3"), match("b", "2")}},
		},
		{
			name:    "several filters are ORed",
			filters: []string{"a=1", "b=2,b=3,c=4"},
			want: Any{Exprs: []Expr{
				match("a", "1"),
				All{Exprs: []Expr{match("b", "2", "3"), match("c", "4")}},
			}},
		},
		{
			name:    "relations key",
			filters: []string{"relations.memberof=group:default/ops"},
			want:    match("relations.memberof", "group:default/ops"),
		},
		{
			name:    "annotation key keeps its slash",
			filters: []string{"metadata.annotations.backstage.io/orphan=true"},
			want:    match("metadata.annotations.backstage.io/orphan", "true"),
		},
		{name: "bare key is exists", filters: []string{"spec.type"}, want: Exists{Key: "spec.type"}},
		{
			name:    "catalog-client form of CATALOG_FILTER_EXISTS",
			filters: []string{"kind=A,kind=B,spec.type"},
			want:    All{Exprs: []Expr{match("kind", "a", "b"), Exists{Key: "spec.type"}}},
		},
		{
			name:    "bare and valued key: the values win",
			filters: []string{"kind,kind=api"},
			want:    match("kind", "api"),
		},
		{name: "empty value", filters: []string{"spec.owner="}, want: match("spec.owner", "")},
		{name: "value keeps later '='", filters: []string{"metadata.annotations.x=a=b=c"}, want: match("metadata.annotations.x", "a=b=c")},
		{
			name:    "whitespace trimmed",
			filters: []string{" a = 1 , b = 2 , a = 3 "},
			want:    All{Exprs: []Expr{match("a", "1", "3"), match("b", "2")}},
		},
		{name: "inner whitespace kept", filters: []string{"metadata.title=My  Service"}, want: match("metadata.title", "my  service")},
		{name: "case folded", filters: []string{"Kind=Component,KIND=API"}, want: All{Exprs: []Expr{match("kind", "component"), match("kind", "api")}}},
		{name: "same-case key merges after folding values", filters: []string{"kind=API,kind=api"}, want: match("kind", "api")},
		{name: "unicode folded", filters: []string{"metadata.name=ÉQUIPE"}, want: match("metadata.name", "équipe")},
		{name: "empty strings among filters skipped", filters: []string{"", "kind=api"}, want: match("kind", "api")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseParams(tt.filters)
			if err != nil {
				t.Fatalf("ParseParams(%q): %v", tt.filters, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseParams(%q) mismatch (-want +got):\n%s", tt.filters, diff)
			}
		})
	}
}

func TestParseParamsErrors(t *testing.T) {
	tests := []struct {
		name    string
		filters []string
		want    string
	}{
		{name: "empty key", filters: []string{"x=2,=a"}, want: `"=a" is not a valid statement`},
		{name: "only equals", filters: []string{"="}, want: `"=" is not a valid statement`},
		{name: "blank key", filters: []string{"kind=api", "  =x"}, want: `"=x" is not a valid statement`},
		{name: "invalid UTF-8", filters: []string{"kind=\xff"}, want: "is not valid UTF-8"},
		{name: "NUL", filters: []string{"kind=a\x00b"}, want: "contains a NUL character"},
		{name: "too many statements", filters: []string{strings.Repeat("k=v,", 10) + manyKeys(maxNodes)}, want: "more than 1000 statements"},
		{name: "too many values", filters: []string{strings.Repeat("k=v,", maxValues+1)}, want: "more than 10000 values"},
		{name: "long statement is shortened", filters: []string{"=" + strings.Repeat("x", 1000)}, want: `xxx"…`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseParams(tt.filters)
			checkInvalid(t, err, tt.want)
			if got != nil {
				t.Errorf("got %#v with the error, want nil", got)
			}
		})
	}
}

// manyKeys returns n statements with distinct keys.
func manyKeys(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "k%d=v,", i)
	}
	return b.String()
}

package filter

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseOrder(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		want   []Order
	}{
		{name: "none", values: nil, want: nil},
		{name: "asc", values: []string{"asc:metadata.name"}, want: []Order{{Field: "metadata.name"}}},
		{
			name:   "several, lowercased",
			values: []string{"desc:Metadata.Title", "asc:kind"},
			want:   []Order{{Field: "metadata.title", Desc: true}, {Field: "kind"}},
		},
		{name: "field may hold colons", values: []string{"asc:metadata.annotations.a:b"}, want: []Order{{Field: "metadata.annotations.a:b"}}},
		{name: "field taken as written", values: []string{"asc: kind"}, want: []Order{{Field: " kind"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseOrder(tt.values)
			if err != nil {
				t.Fatalf("ParseOrder(%q): %v", tt.values, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseOrder(%q) mismatch (-want +got):\n%s", tt.values, diff)
			}
		})
	}
}

func TestParseOrderErrors(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		want   string
	}{
		{name: "no direction", values: []string{"metadata.name"}, want: `Invalid order parameter "metadata.name", expected "<asc or desc>:<field name>"`},
		{name: "empty field", values: []string{"asc:"}, want: `Invalid order parameter "asc:"`},
		{name: "upper-case direction", values: []string{"ASC:kind"}, want: `Invalid order parameter "ASC:kind"`},
		{name: "other direction", values: []string{"up:kind"}, want: "expected"},
		{name: "empty", values: []string{""}, want: `Invalid order parameter ""`},
		{name: "newline", values: []string{"asc:a\nb"}, want: "Invalid order parameter"},
		{name: "second bad", values: []string{"asc:kind", "x"}, want: `"x"`},
		{name: "invalid UTF-8", values: []string{"asc:\xff"}, want: "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseOrder(tt.values)
			checkInvalid(t, err, tt.want)
		})
	}
}

func TestParseOrderFields(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		want   []Order
	}{
		{name: "none", values: nil, want: nil},
		{name: "default asc", values: []string{"metadata.name"}, want: []Order{{Field: "metadata.name"}}},
		{name: "asc", values: []string{"metadata.name,asc"}, want: []Order{{Field: "metadata.name"}}},
		{name: "desc, lowercased", values: []string{"Metadata.Name,desc"}, want: []Order{{Field: "metadata.name", Desc: true}}},
		{name: "text after a second comma ignored", values: []string{"kind,desc,whatever"}, want: []Order{{Field: "kind", Desc: true}}},
		{name: "several", values: []string{"kind", "metadata.name,desc"}, want: []Order{{Field: "kind"}, {Field: "metadata.name", Desc: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseOrderFields(tt.values)
			if err != nil {
				t.Fatalf("ParseOrderFields(%q): %v", tt.values, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseOrderFields(%q) mismatch (-want +got):\n%s", tt.values, diff)
			}
		})
	}
}

func TestParseOrderFieldsErrors(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		want   string
	}{
		{name: "bad order", values: []string{"kind,up"}, want: `Invalid order field order, must be asc or desc (got "up" in orderField "kind,up")`},
		{name: "upper-case order", values: []string{"kind,DESC"}, want: "must be asc or desc"},
		{name: "empty order", values: []string{"kind,"}, want: "must be asc or desc"},
		{name: "empty field", values: []string{""}, want: `Invalid orderField ""`},
		{name: "empty field with order", values: []string{",asc"}, want: `Invalid orderField ",asc"`},
		{name: "NUL", values: []string{"ki\x00nd"}, want: "NUL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseOrderFields(tt.values)
			checkInvalid(t, err, tt.want)
		})
	}
}

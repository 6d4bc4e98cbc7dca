package web

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// classes returns "class:text" for each non-blank token of a line.
func classes(l codeLine) []string {
	var out []string
	for _, t := range l.Tokens {
		if strings.TrimSpace(t.Text) == "" {
			continue
		}
		out = append(out, strings.TrimPrefix(t.Class, "tok-")+":"+strings.TrimSpace(t.Text))
	}
	return out
}

func TestHighlight(t *testing.T) {
	tests := []struct {
		lang, src string
		want      [][]string
	}{
		{"yaml", "# c\nkey: value # note\nn: 12\nb: true\nlist: [a, 'b']\n- item\nblock: |\n  text: inside\nnext: ~",
			[][]string{
				{"com:# c"},
				{"key:key", "punct::", "str:value", "com:# note"},
				{"key:n", "punct::", "num:12"},
				{"key:b", "punct::", "kw:true"},
				{"key:list", "punct::", "punct:[", "str:a", "punct:,", "str:'b'", "punct:]"},
				{"punct:-", "str:item"},
				{"key:block", "punct::", "punct:|"},
				{"str:text: inside"},
				{"key:next", "punct::", "kw:~"},
			}},
		{"json", `{"a": [1, "x", null]}`, [][]string{{"punct:{", `key:"a"`, "punct::", "punct:[", "num:1", "punct:,", `str:"x"`, "punct:,", "kw:null", "punct:]}"}}},
		{"graphql", "type Q { a(x: Int!): [S] @deprecated }\n\"\"\"doc\nmore\"\"\"", [][]string{
			{"kw:type", "type:Q", "punct:{", ":a", "punct:(", ":x", "punct::", "type:Int", "punct:!):", "punct:[", "type:S", "punct:]", "kw:@deprecated", "punct:}"},
			{`str:"""doc`}, {`str:more"""`},
		}},
		{"proto", "rpc A(B) returns (stream C); // hi\n/* x\ny */ string s = 1;", [][]string{
			{"kw:rpc", ":A", "punct:(", ":B", "punct:)", "kw:returns", "punct:(", "kw:stream", ":C", "punct:);", "com:// hi"},
			{"com:/* x"}, {"com:y */", "type:string", ":s", "punct:=", "num:1", "punct:;"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			v := highlight("x", tt.lang, tt.src)
			var got [][]string
			for _, l := range v.Lines {
				got = append(got, classes(l))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s\ngot %q", diff, got)
			}
			if text := codeText(v); text != tt.src {
				t.Errorf("text changed: %q", text)
			}
		})
	}
}

func FuzzHighlight(f *testing.F) {
	for _, s := range []string{"a: 'b", `{"a":`, `"""x`, "/* x", "- [a, {b: c}]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		for _, lang := range []string{"yaml", "json", "graphql", "proto"} {
			want := strings.TrimRight(strings.ReplaceAll(src, "\r\n", "\n"), "\n")
			if got := codeText(highlight("x", lang, src)); got != want {
				t.Fatalf("%s: text changed: %q != %q", lang, got, want)
			}
		}
	})
}

func TestOutlines(t *testing.T) {
	flat := func(items []outlineItem) []string {
		var out []string
		var walk func([]outlineItem, string)
		walk = func(its []outlineItem, indent string) {
			for _, it := range its {
				out = append(out, indent+it.Kind+" "+it.Label)
				walk(it.Children, indent+"  ")
			}
		}
		walk(items, "")
		return out
	}
	t.Run("grpc", func(t *testing.T) {
		got := flat(outlineFor("grpc", exampleDefinition(t, "route-planner-api.yaml")))
		want := []string{"package acme.routing.v1", "service RoutePlanner",
			"  rpc GetRoutes(GetRoutesRequest) → GetRoutesResponse", "  rpc LocateStop(LocateStopRequest) → Stop",
			"  rpc WatchRoute(WatchRouteRequest) → stream Stop"}
		if diff := cmp.Diff(want, got[:len(want)]); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("graphql", func(t *testing.T) {
		got := flat(outlineFor("graphql", exampleDefinition(t, "customer-graphql-api.yaml")))
		if got[0] != "type Shipment" || !strings.Contains(strings.Join(got, "\n"), "type Query\n  field ") {
			t.Errorf("outline:\n%s", strings.Join(got, "\n"))
		}
	})
	t.Run("asyncapi", func(t *testing.T) {
		got := flat(outlineFor("asyncapi", exampleDefinition(t, "shipment-events-api.yaml")))
		want := []string{"info Shipment Events 1.3.0", "section Servers", "  server production (kafka-secure)",
			"section Channels", "  channel shipmentEvents → shipment-events", "section Operations", "  operation send publishShipmentEvent",
			"section Messages", "  message ShipmentStatusChanged"}
		if diff := cmp.Diff(want, got[:min(len(got), len(want))]); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("lines", func(t *testing.T) {
		src := "syntax = \"proto3\";\n\nservice S {\n  rpc A(B) returns (C);\n}\n"
		items := outlineFor("grpc", src)
		if items[0].Line != 3 || items[0].Children[0].Line != 4 {
			t.Errorf("lines: %+v", items)
		}
	})
}

func TestJSONToYAML(t *testing.T) {
	got, err := jsonToYAML([]byte(`{"b":1,"a":{"z":"multi\nline","y":[true,null,1.5]}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := "b: 1\na:\n  z: |-\n    multi\n    line\n  y:\n    - true\n    - null\n    - 1.5\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

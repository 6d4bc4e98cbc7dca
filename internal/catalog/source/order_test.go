package source

import (
	"encoding/json"
	"testing"
)

func TestOrderedJSON(t *testing.T) {
	docs, err := Parse("t.yaml", []byte(`kind: Template
base: &base
  zz: 1
  aa: 2
spec:
  type: service
  owner: group:a
  parameters:
    - properties:
        zeta: {type: string, title: "Z <b>"}
        alpha: {type: number, default: 1.5}
        mid: [3, {y: 1, x: 2}]
      required: [zeta]
  merged:
    <<: *base
    own: true
`))
	if err != nil {
		t.Fatal(err)
	}
	got := string(docs[0].OrderedJSON("spec"))
	want := `{"type":"service","owner":"group:a","parameters":[{"properties":{"zeta":{"type":"string","title":"Z \u003cb\u003e"},` +
		`"alpha":{"type":"number","default":1.5},"mid":[3,{"y":1,"x":2}]},"required":["zeta"]}],"merged":{"own":true,"aa":2,"zz":1}}`
	if got != want {
		t.Errorf("OrderedJSON =\n%s\nwant\n%s", got, want)
	}
	// The same values as Data.
	var a, b any
	json.Unmarshal([]byte(got), &a)
	raw, _ := json.Marshal(docs[0].Data["spec"])
	json.Unmarshal(raw, &b)
	if ja, _ := json.Marshal(a); string(ja) != string(raw) {
		t.Errorf("values differ:\n%s\n%s", ja, raw)
	}
	if docs[0].OrderedJSON("nope") != nil {
		t.Error("a missing key gave JSON")
	}
}

func TestOrderedDocument(t *testing.T) {
	docs, err := Parse("t.yaml", []byte("kind: Template\napiVersion: v\nspec:\n  zeta: 1\n  alpha: {b: 1, a: 2}\n"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := docs[0].OrderedDocument()
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"kind":"Template","apiVersion":"v","spec":{"zeta":1,"alpha":{"b":1,"a":2}}}`; string(got) != want {
		t.Errorf("OrderedDocument = %s, want %s", got, want)
	}
}

package entity

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestTemplateSpecKeepsItsOrder(t *testing.T) {
	written := `{"apiVersion":"scaffolder.backstage.io/v1beta3","kind":"Template","metadata":{"name":"t"},` +
		`"spec":{"type":"service","owner":"group:a","parameters":[{"properties":{"zeta":{"type":"string"},"alpha":{"type":"string"}}}]}}`
	var e Entity
	if err := json.Unmarshal([]byte(written), &e); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(&e)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"spec":{"type":"service","owner":"group:a","parameters":[{"properties":{"zeta":`) {
		t.Errorf("the template's spec lost its order: %s", b)
	}
	// Through a value and a second round trip too.
	var again Entity
	if err := json.Unmarshal(b, &again); err != nil {
		t.Fatal(err)
	}
	if b2, _ := json.Marshal(again); string(b2) != string(b) {
		t.Errorf("round trip changed it:\n%s\n%s", b, b2)
	}

	// A changed spec is written from the map.
	e.Spec["owner"] = "group:b"
	b, _ = json.Marshal(&e)
	if !strings.Contains(string(b), `"owner":"group:b"`) || !strings.Contains(string(b), `"alpha":{"type":"string"},"zeta"`) {
		t.Errorf("a changed spec: %s", b)
	}

	// Other kinds are written as before, keys sorted.
	var c Entity
	if err := json.Unmarshal([]byte(`{"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"name":"c"},"spec":{"type":"service","owner":"a"}}`), &c); err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(c); !strings.Contains(string(b), `"spec":{"owner":"a","type":"service"}`) {
		t.Errorf("a component: %s", b)
	}
}

package store

import (
	"encoding/json"
	"testing"

	"github.com/atrium-dev/atrium/internal/catalog/entity"
)

func TestWithEtagMatchesMarshal(t *testing.T) {
	e := entity.Entity{APIVersion: "backstage.io/v1alpha1", Kind: "Component",
		Metadata: entity.Metadata{UID: "0190a3b2-0000-7000-8000-000000000001", Name: "x", Namespace: "default",
			Annotations: map[string]string{"a": "uid"}, Extra: map[string]any{"zz": 1}},
		Spec: map[string]any{"owner": "team-a", "uid": "0190a3b2-0000-7000-8000-000000000001"}}
	without, err := json.Marshal(&e)
	if err != nil {
		t.Fatal(err)
	}
	got, err := withEtag(without, e.Metadata.UID, "abc123")
	if err != nil {
		t.Fatal(err)
	}
	e.Metadata.Etag = "abc123"
	want, err := json.Marshal(&e)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("withEtag:\n got %s\nwant %s", got, want)
	}
}

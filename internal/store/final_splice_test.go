package store

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"testing"

	"github.com/atrium-dev/atrium/internal/catalog/entity"
)

// spliceSeeds are processed entities as documents: ordinary ones, which
// the splice takes, and ones it must leave to decoding.
var spliceSeeds = []string{
	`{"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"name":"shipping","annotations":{"backstage.io/managed-by-location":"file:/a.yaml"},"tags":["go","b<&>"]},"spec":{"type":"service","owner":"team-a","lifecycle":"production","dependsOn":["resource:db"]}}`,
	`{"apiVersion":"backstage.io/v1alpha1","kind":"Group","metadata":{"name":"team-a","title":"Team \"A\" ☃","links":[{"url":"https://x","title":"X"}],"extraKey":{"b":[1,2.5,"x"]},"another":null},"spec":{"type":"team","children":[]}}`,
	`{"apiVersion":"scaffolder.backstage.io/v1beta3","kind":"Template","metadata":{"name":"t"},"spec":{"zeta":1,"alpha":{"y":true,"x":"}]{["},"steps":[]}}`,
	`{"apiVersion":"backstage.io/v1alpha1","kind":"Location","metadata":{"name":"l"}}`,
	`{"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"name":"c","annotations":{"backstage.io/view-url":" JavaScript:alert(1)"}},"spec":{"type":"x"}}`,
	`{"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"uid":"old","etag":"e","name":"c"},"spec":{}}`,
	`{"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"name":"c"},"spec":{},"relations":[{"type":"ownedBy","targetRef":"group:default/x"}]}`,
}

func spliceInput(processed string, rels []entity.Relation, errs string, orphan bool) stitchInput {
	in := stitchInput{ref: "component:default/c", uid: "0193-uid", processed: sql.NullString{String: processed, Valid: true},
		orphan: orphan, relations: rels}
	if errs != "" {
		in.errors = sql.NullString{String: errs, Valid: true}
	}
	return in
}

// canonical encodes doc as the catalog stores a processed entity, or
// reports false if doc is not an entity.
func canonical(doc []byte) (string, bool) {
	var e entity.Entity
	if json.Unmarshal(doc, &e) != nil {
		return "", false
	}
	e.Relations, e.Status = nil, nil
	e.Metadata.UID, e.Metadata.Etag = "", ""
	b, err := json.Marshal(&e)
	if err != nil {
		return "", false
	}
	return string(b), true
}

// checkSplice holds spliceFinal to decodeFinal on in.
func checkSplice(t *testing.T, in stitchInput) (spliced bool) {
	t.Helper()
	want, err := decodeFinal(in)
	if err != nil {
		return false
	}
	got, ok := spliceFinal(in)
	if ok && !bytes.Equal(got, want) {
		t.Fatalf("spliced final entity differs from the decoded one\n got %s\nwant %s", got, want)
	}
	return ok
}

func TestSpliceFinalMatchesDecoding(t *testing.T) {
	rels := []entity.Relation{{Type: "ownedBy", TargetRef: "group:default/team-a"}, {Type: "partOf", TargetRef: `system:default/<x>`}}
	for i, doc := range spliceSeeds {
		processed, ok := canonical([]byte(doc))
		if !ok {
			t.Fatalf("seed %d is not an entity", i)
		}
		for _, r := range [][]entity.Relation{nil, rels} {
			checkSplice(t, spliceInput(processed, r, "", false))
			checkSplice(t, spliceInput(processed, r, "null", false))
			if checkSplice(t, spliceInput(processed, r, "", true)) {
				t.Errorf("seed %d: an orphan was spliced, without its mark", i)
			}
			if checkSplice(t, spliceInput(processed, r, `[{"type":"t","level":"error","message":"m"}]`, false)) {
				t.Errorf("seed %d: an entity with errors was spliced, without its status", i)
			}
		}
	}
	// The splice must take the ordinary cases, or it saves nothing.
	for i, doc := range spliceSeeds[:4] {
		processed, _ := canonical([]byte(doc))
		if !checkSplice(t, spliceInput(processed, rels, "", false)) {
			t.Errorf("seed %d: an ordinary entity was not spliced: %s", i, processed)
		}
	}
	// Not the catalog's encoding: left to decoding.
	for _, raw := range []string{spliceSeeds[4], spliceSeeds[5], spliceSeeds[6], ` {"apiVersion":"v","kind":"k","metadata":{"name":"n"}}`,
		`{"apiVersion":"v","kind":"k","metadata":{"name":"n"},"spec":{},"status":{}}`} {
		if _, ok := spliceFinal(spliceInput(raw, rels, "", false)); ok {
			t.Errorf("spliced %s", raw)
		}
	}
}

func FuzzSpliceFinal(f *testing.F) {
	for _, s := range spliceSeeds {
		f.Add([]byte(s), "group:default/a", "0193-uid", false)
	}
	f.Fuzz(func(t *testing.T, doc []byte, target, uid string, orphan bool) {
		processed, ok := canonical(doc)
		if !ok {
			return
		}
		in := spliceInput(processed, []entity.Relation{{Type: "ownedBy", TargetRef: target}}, "", orphan)
		in.uid = uid
		checkSplice(t, in)
	})
}

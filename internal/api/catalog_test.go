package api

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atrium-dev/atrium/internal/catalog"
	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/derrors"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// request is one HTTP request against the catalog handler.
type request struct {
	method, target string
	body           string
	contentType    string // defaults to application/json when body is set
}

func (r request) do(t *testing.T, h http.Handler) *httptest.ResponseRecorder {
	t.Helper()
	var body *strings.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	} else {
		body = strings.NewReader("")
	}
	req := httptest.NewRequest(r.method, CatalogPrefix+r.target, body)
	ct := r.contentType
	if ct == "" && r.body != "" {
		ct = "application/json"
	}
	if ct != "-" && ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func newTestHandler(c Catalog, pageSize int) http.Handler {
	h := &catalogHandler{c: c, maxBody: 4096, pageSize: pageSize}
	return h.routes(&errorAdapter{logger: slog.New(slog.DiscardHandler)})
}

// render formats a response for a golden file: status, the headers clients
// depend on, and the body verbatim.
func render(rec *httptest.ResponseRecorder) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "status: %d\n", rec.Code)
	for _, h := range []string{"Content-Type", "Link", "Allow"} {
		if v := rec.Header().Get(h); v != "" {
			fmt.Fprintf(&b, "%s: %s\n", strings.ToLower(h), v)
		}
	}
	b.WriteString("\n")
	b.Write(rec.Body.Bytes())
	b.WriteString("\n")
	return b.Bytes()
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

// TestGolden records the full response of every endpoint, for success and
// for each way a request can be malformed.
func TestGolden(t *testing.T) {
	validation := &catalog.ValidationError{Problems: entity.Problems{
		{Path: "metadata.name", Message: `"Bad Name" is not a valid name`},
		{Message: "spec.type is required"},
	}}
	tests := []struct {
		name  string
		req   request
		setup func(*fakeCatalog)
	}{
		// GET /entities
		{name: "entities-unpaged", req: request{method: "GET", target: "/entities"}},
		{name: "entities-fields", req: request{method: "GET", target: "/entities?fields=kind,metadata.name"}},
		{name: "entities-paged", req: request{method: "GET", target: "/entities?filter=kind=component&limit=2&offset=1"}},
		{name: "entities-paged-after", req: request{method: "GET", target: "/entities?limit=1&after=eyJsaW1pdCI6Miwib2Zmc2V0IjoyfQ%3D%3D"}},
		{name: "entities-paged-last", req: request{method: "GET", target: "/entities?limit=10"}},
		{name: "entities-limit-zero", req: request{method: "GET", target: "/entities?limit=0"}},
		{name: "entities-limit-negative", req: request{method: "GET", target: "/entities?limit=-1"}},
		{name: "entities-limit-not-int", req: request{method: "GET", target: "/entities?limit=1.5"}},
		{name: "entities-limit-twice", req: request{method: "GET", target: "/entities?limit=1&limit=2"}},
		{name: "entities-offset-negative", req: request{method: "GET", target: "/entities?offset=-3"}},
		{name: "entities-after-empty", req: request{method: "GET", target: "/entities?after="}},
		{name: "entities-after-garbage", req: request{method: "GET", target: "/entities?after=!!!"}},
		{name: "entities-after-bad-limit", req: request{method: "GET", target: "/entities?after=eyJsaW1pdCI6IngifQ"}},
		{name: "entities-unknown-param", req: request{method: "GET", target: "/entities?limit=1&foo=bar"}},
		{name: "entities-bad-order", req: request{method: "GET", target: "/entities?order=up:metadata.name"}},
		{name: "entities-bad-fields", req: request{method: "GET", target: "/entities?fields=metadata.tags[0]"}},
		{name: "entities-bad-query-string", req: request{method: "GET", target: "/entities?filter=%zz"}},
		{name: "entities-internal-error", req: request{method: "GET", target: "/entities?limit=1"},
			setup: func(f *fakeCatalog) { f.err = errors.New("pq: password authentication failed for user atrium") }},

		// by-query
		{name: "by-query-get", req: request{method: "GET", target: "/entities/by-query?filter=kind=component&orderField=metadata.name,asc&limit=2&fields=metadata.name"}},
		{name: "by-query-get-limit-zero", req: request{method: "GET", target: "/entities/by-query?limit=0"}},
		{name: "by-query-get-limit-negative", req: request{method: "GET", target: "/entities/by-query?limit=-1"}},
		{name: "by-query-get-total-bad", req: request{method: "GET", target: "/entities/by-query?totalItems=some"}},
		{name: "by-query-get-total-exclude", req: request{method: "GET", target: "/entities/by-query?totalItems=exclude&limit=10"}},
		{name: "by-query-get-bad-order", req: request{method: "GET", target: "/entities/by-query?orderField=metadata.name,up"}},
		{name: "by-query-get-cursor-garbage", req: request{method: "GET", target: "/entities/by-query?cursor=***"}},
		{name: "by-query-get-cursor-empty", req: request{method: "GET", target: "/entities/by-query?cursor="}},
		{name: "by-query-get-cursor-not-json", req: request{method: "GET", target: "/entities/by-query?cursor=aGVsbG8"}},
		{name: "by-query-get-unknown-param", req: request{method: "GET", target: "/entities/by-query?order=asc:kind"}},
		{name: "by-query-post", req: request{method: "POST", target: "/entities/by-query",
			body: `{"query":{"kind":"component"},"limit":2,"orderBy":[{"field":"metadata.name","order":"desc"}],"fullTextFilter":{"term":" Pet "},"fields":["metadata.name"]}`}},
		{name: "by-query-post-empty", req: request{method: "POST", target: "/entities/by-query", body: `{}`}},
		{name: "by-query-post-unknown-key", req: request{method: "POST", target: "/entities/by-query", body: `{"filter":"kind=api"}`}},
		{name: "by-query-post-bad-predicate", req: request{method: "POST", target: "/entities/by-query", body: `{"query":{"$all":{"kind":"a"}}}`}},
		{name: "by-query-post-bad-limit", req: request{method: "POST", target: "/entities/by-query", body: `{"limit":"ten"}`}},

		// single entities
		{name: "by-uid", req: request{method: "GET", target: "/entities/by-uid/uid-2"}},
		{name: "by-uid-missing", req: request{method: "GET", target: "/entities/by-uid/nope"}},
		{name: "by-uid-delete", req: request{method: "DELETE", target: "/entities/by-uid/uid-2"}},
		{name: "by-uid-delete-missing", req: request{method: "DELETE", target: "/entities/by-uid/nope"}},
		{name: "by-name", req: request{method: "GET", target: "/entities/by-name/component/default/petstore"}},
		{name: "by-name-missing", req: request{method: "GET", target: "/entities/by-name/Component/default/nope"}},
		{name: "by-name-unknown-param", req: request{method: "GET", target: "/entities/by-name/component/default/petstore?fields=kind"}},
		{name: "ancestry", req: request{method: "GET", target: "/entities/by-name/component/default/petstore/ancestry"}},
		{name: "ancestry-missing", req: request{method: "GET", target: "/entities/by-name/Component/default/nope/ancestry"}},

		// by-refs
		{name: "by-refs", req: request{method: "POST", target: "/entities/by-refs?filter=kind=component",
			body: `{"entityRefs":["component:default/search","group:team-a","team-a","component:default/petstore"],"fields":["metadata.name"],"ignored":1}`}},
		{name: "by-refs-fields-param", req: request{method: "POST", target: "/entities/by-refs?fields=kind", body: `{"entityRefs":[]}`}},
		{name: "by-refs-missing-refs", req: request{method: "POST", target: "/entities/by-refs", body: `{"fields":["kind"]}`}},
		{name: "by-refs-bad-refs", req: request{method: "POST", target: "/entities/by-refs", body: `{"entityRefs":"component:default/a"}`}},
		{name: "by-refs-no-content-type", req: request{method: "POST", target: "/entities/by-refs", body: `{"entityRefs":[]}`, contentType: "-"}},
		{name: "by-refs-wrong-content-type", req: request{method: "POST", target: "/entities/by-refs", body: `{"entityRefs":[]}`, contentType: "text/plain"}},
		{name: "by-refs-not-object", req: request{method: "POST", target: "/entities/by-refs", body: `["component:default/a"]`}},
		{name: "by-refs-bad-json", req: request{method: "POST", target: "/entities/by-refs", body: `{"entityRefs":[}`}},
		{name: "by-refs-trailing", req: request{method: "POST", target: "/entities/by-refs", body: `{"entityRefs":[]} {}`}},
		{name: "by-refs-too-large", req: request{method: "POST", target: "/entities/by-refs", body: `{"entityRefs":["` + strings.Repeat("a", 5000) + `"]}`}},

		// facets
		{name: "facets-get", req: request{method: "GET", target: "/entity-facets?facet=spec.type&facet=kind&facet=metadata.ns&facet=unknown&filter=kind=component"}},
		{name: "facets-get-missing", req: request{method: "GET", target: "/entity-facets?filter=kind=component"}},
		{name: "facets-get-empty", req: request{method: "GET", target: "/entity-facets?facet="}},
		{name: "facets-post", req: request{method: "POST", target: "/entity-facets", body: `{"facets":["kind"],"query":{"kind":"group"}}`}},
		{name: "facets-post-missing", req: request{method: "POST", target: "/entity-facets", body: `{"query":{"kind":"group"}}`}},
		{name: "facets-post-filter-param", req: request{method: "POST", target: "/entity-facets?filter=kind=api", body: `{"facets":["kind"]}`}},

		// refresh and validate
		{name: "refresh", req: request{method: "POST", target: "/refresh", body: `{"entityRef":"component:default/petstore","authorizationToken":"t"}`}},
		{name: "refresh-missing", req: request{method: "POST", target: "/refresh", body: `{"entityRef":"component:default/nope"}`}},
		{name: "refresh-bad-ref", req: request{method: "POST", target: "/refresh", body: `{"entityRef":"petstore"}`}},
		{name: "refresh-empty-body", req: request{method: "POST", target: "/refresh", body: `{}`}},
		{name: "refresh-no-body", req: request{method: "POST", target: "/refresh", contentType: "application/json"}},
		{name: "validate", req: request{method: "POST", target: "/validate-entity",
			body: `{"entity":{"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"name":"a"}},"location":"url:https://example.com/x.yaml"}`}},
		{name: "validate-problems", setup: func(f *fakeCatalog) { f.validation = validation },
			req: request{method: "POST", target: "/validate-entity",
				body: `{"entity":{"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"name":"Bad Name"}},"location":"url:https://example.com/x.yaml"}`}},
		{name: "validate-file-location", req: request{method: "POST", target: "/validate-entity", body: `{"entity":{},"location":"file:/tmp/x.yaml"}`}},
		{name: "validate-unparseable-location", req: request{method: "POST", target: "/validate-entity", body: `{"entity":{},"location":"nowhere"}`}},
		{name: "validate-entity-not-object", req: request{method: "POST", target: "/validate-entity", body: `{"entity":"x","location":"url:https://e.com/x"}`}},
		{name: "validate-no-location", req: request{method: "POST", target: "/validate-entity", body: `{"entity":{}}`}},
		{name: "validate-bad-json", req: request{method: "POST", target: "/validate-entity", body: `{"entity":`}},

		// locations
		{name: "locations", req: request{method: "GET", target: "/locations"}},
		{name: "locations-empty", req: request{method: "GET", target: "/locations"}, setup: func(f *fakeCatalog) { f.locations = nil }},
		{name: "location-create", req: request{method: "POST", target: "/locations", body: `{"type":"url","target":"https://example.com/c/catalog-info.yaml"}`}},
		{name: "location-create-dry-run", req: request{method: "POST", target: "/locations?dryRun=true", body: `{"type":"url","target":"https://example.com/c/catalog-info.yaml","presence":"optional"}`}},
		{name: "location-create-conflict", req: request{method: "POST", target: "/locations", body: `{"type":"url","target":"https://example.com/a/catalog-info.yaml"}`}},
		{name: "location-create-type-not-allowed", req: request{method: "POST", target: "/locations", body: `{"type":"file","target":"/tmp/x.yaml"}`}},
		{name: "location-create-readonly", req: request{method: "POST", target: "/locations", body: `{"type":"url","target":"https://e.com/x"}`},
			setup: func(f *fakeCatalog) { f.err = derrors.Forbidden("This operation not allowed in readonly mode") }},
		{name: "location-create-unknown-key", req: request{method: "POST", target: "/locations", body: `{"type":"url","target":"https://e.com/x","owner":"me"}`}},
		{name: "location-create-missing-target", req: request{method: "POST", target: "/locations", body: `{"type":"url"}`}},
		{name: "location-create-bad-presence", req: request{method: "POST", target: "/locations", body: `{"type":"url","target":"x","presence":"maybe"}`}},
		{name: "location-create-bad-dry-run", req: request{method: "POST", target: "/locations?dryRun=ture", body: `{"type":"url","target":"x"}`}},
		{name: "location-create-bad-on-conflict", req: request{method: "POST", target: "/locations?onConflict=merge", body: `{"type":"url","target":"x"}`}},
		{name: "location-create-empty", req: request{method: "POST", target: "/locations", body: ` { } `}},
		{name: "location-get", req: request{method: "GET", target: "/locations/loc-1"}},
		{name: "location-get-missing", req: request{method: "GET", target: "/locations/nope"}},
		{name: "location-put", req: request{method: "PUT", target: "/locations/loc-1", body: `{"type":"url","target":"https://example.com/moved.yaml"}`}},
		{name: "location-put-presence", req: request{method: "PUT", target: "/locations/loc-1", body: `{"type":"url","target":"x","presence":"optional"}`}},
		{name: "location-delete", req: request{method: "DELETE", target: "/locations/loc-2"}},
		{name: "location-delete-missing", req: request{method: "DELETE", target: "/locations/nope"}},
		{name: "location-by-entity", req: request{method: "GET", target: "/locations/by-entity/component/default/petstore"}},
		{name: "location-by-entity-missing", req: request{method: "GET", target: "/locations/by-entity/component/default/search"}},
		{name: "locations-by-query", req: request{method: "POST", target: "/locations/by-query", body: `{}`}},
		{name: "analyze", req: request{method: "POST", target: "/analyze-location",
			body: `{"location":{"type":"url","target":"https://github.com/o/r"},"catalogFilename":"catalog.yaml"}`}},
		{name: "analyze-unknown-location-key", req: request{method: "POST", target: "/analyze-location",
			body: `{"location":{"type":"url","target":"https://github.com/o/r","x":1}}`}},
		{name: "analyze-missing-location", req: request{method: "POST", target: "/analyze-location", body: `{"catalogFilename":"x"}`}},
		{name: "analyze-missing-type", req: request{method: "POST", target: "/analyze-location", body: `{"location":{"target":"x"}}`}},

		// routing
		{name: "route-unknown", req: request{method: "GET", target: "/nope?x=1"}},
		{name: "route-method", req: request{method: "PATCH", target: "/entities"}},
		{name: "route-root", req: request{method: "GET", target: ""}},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		if seen[tt.name] {
			t.Fatalf("duplicate test name %q", tt.name)
		}
		seen[tt.name] = true
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeCatalog()
			if tt.setup != nil {
				tt.setup(f)
			}
			rec := tt.req.do(t, newTestHandler(f, 2))
			checkGolden(t, tt.name, render(rec))
		})
	}
}

// FuzzDecodeBody checks that no body makes decoding panic and that every
// rejection is a client error.
func FuzzDecodeBody(f *testing.F) {
	for _, s := range []string{"", "{", "}", "{}", " { } ", `{"type":"url","target":"x"}`, `[1]`, `{"type":1}`, "{\"a\":\x00}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest("POST", "/locations", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		var v locationInput
		err := decodeBody(httptest.NewRecorder(), r, 1024, bodyRules{strict: true}, &v)
		if err == nil {
			return
		}
		if status, _, _ := classify(err); status != http.StatusBadRequest && status != http.StatusRequestEntityTooLarge {
			t.Errorf("decodeBody(%q) = %v, status %d", body, err, status)
		}
	})
}

// FuzzCursor checks that no cursor string makes by-query panic or fail
// with anything but a 400 before reaching the catalog.
func FuzzCursor(f *testing.F) {
	f.Add("eyJ2IjoxLCJwb3NpdGlvbiI6eyJpZCI6MX19") // {"v":1,"position":{"id":1}}
	f.Add("e30")
	f.Add("")
	f.Fuzz(func(t *testing.T, cursor string) {
		_, _, err := decodeCursor(cursor)
		if err == nil {
			return
		}
		if status, _, _ := classify(err); status != http.StatusBadRequest {
			t.Errorf("decodeCursor(%q) = %v, status %d", cursor, err, status)
		}
	})
}

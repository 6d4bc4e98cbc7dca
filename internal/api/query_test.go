package api

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/atrium-dev/atrium/internal/catalog"
	"github.com/atrium-dev/atrium/internal/catalog/filter"
	"github.com/atrium-dev/atrium/internal/derrors"
	"github.com/google/go-cmp/cmp"
)

// TestQueries asserts the catalog.Query each request produces.
func TestQueries(t *testing.T) {
	component := filter.Match{Key: "kind", Values: []string{"component"}}
	tests := []struct {
		name string
		req  request
		want []catalog.Query
	}{
		{
			name: "unpaged streams by id in pages",
			req:  request{method: "GET", target: "/entities?filter=kind=component"},
			want: []catalog.Query{
				{Filter: component, Default: catalog.SortByID, Limit: 2},
				{Filter: component, Default: catalog.SortByID, Limit: 2, After: &catalog.Position{ID: 2}},
				{Filter: component, Default: catalog.SortByID, Limit: 2, After: &catalog.Position{ID: 4}},
			},
		},
		{
			name: "unpaged order keeps the first field and drops missing",
			req:  request{method: "GET", target: "/entities?order=desc:metadata.name&order=asc:kind&filter=kind=component"},
			want: []catalog.Query{
				{Filter: component, Order: []filter.Order{{Field: "metadata.name", Desc: true}}, DropMissing: true, Default: catalog.SortByID, Limit: 2},
				{Filter: component, Order: []filter.Order{{Field: "metadata.name", Desc: true}}, DropMissing: true, Default: catalog.SortByID, Limit: 2, After: &catalog.Position{ID: 2}},
				{Filter: component, Order: []filter.Order{{Field: "metadata.name", Desc: true}}, DropMissing: true, Default: catalog.SortByID, Limit: 2, After: &catalog.Position{ID: 4}},
			},
		},
		{
			name: "paged sorts by ref and keeps every order field",
			req:  request{method: "GET", target: "/entities?limit=3&offset=1&order=desc:metadata.name&order=asc:kind"},
			want: []catalog.Query{{
				Order:   []filter.Order{{Field: "metadata.name", Desc: true}, {Field: "kind"}},
				Default: catalog.SortByRef, Limit: 3, Offset: 1,
			}},
		},
		{
			name: "offset alone pages without a cap",
			req:  request{method: "GET", target: "/entities?offset=4"},
			want: []catalog.Query{{Default: catalog.SortByRef, Limit: -1, Offset: 4}},
		},
		{
			name: "after overrides limit and offset",
			req:  request{method: "GET", target: "/entities?limit=1&offset=9&after=" + url.QueryEscape(mustAfter(t, 7, 14))},
			want: []catalog.Query{{Default: catalog.SortByRef, Limit: 7, Offset: 14}},
		},
		{
			name: "by-query defaults",
			req:  request{method: "GET", target: "/entities/by-query"},
			want: []catalog.Query{{Default: catalog.SortByID, Limit: 200, CountTotal: true}},
		},
		{
			name: "by-query initial",
			req: request{method: "GET", target: "/entities/by-query?filter=kind=component&orderField=metadata.name,desc&orderField=kind" +
				"&offset=3&limit=5&totalItems=exclude&fullTextFilterTerm=%20PeT%20&fullTextFilterFields=metadata.name,%20Spec.Owner"},
			want: []catalog.Query{{
				Filter: component, Order: []filter.Order{{Field: "metadata.name", Desc: true}}, DropMissing: true,
				Default: catalog.SortByID, Limit: 5, Offset: 3,
				FullText: &catalog.FullText{Term: "pet", Fields: []string{"metadata.name", "spec.owner"}},
			}},
		},
		{
			name: "full text defaults to the order field",
			req:  request{method: "GET", target: "/entities/by-query?orderField=metadata.title&fullTextFilterTerm=x"},
			want: []catalog.Query{{
				Order: []filter.Order{{Field: "metadata.title"}}, DropMissing: true, Default: catalog.SortByID, Limit: 200, CountTotal: true,
				FullText: &catalog.FullText{Term: "x", Fields: []string{"metadata.title"}},
			}},
		},
		{
			name: "full text defaults to the uid",
			req:  request{method: "GET", target: "/entities/by-query?fullTextFilterTerm=x&fullTextFilterFields="},
			want: []catalog.Query{{
				Default: catalog.SortByID, Limit: 200, CountTotal: true,
				FullText: &catalog.FullText{Term: "x", Fields: []string{"metadata.uid"}},
			}},
		},
		{
			name: "blank full text term is no filter",
			req:  request{method: "GET", target: "/entities/by-query?fullTextFilterTerm=%20%20"},
			want: []catalog.Query{{Default: catalog.SortByID, Limit: 200, CountTotal: true}},
		},
		{
			name: "by-query post",
			req: request{method: "POST", target: "/entities/by-query",
				body: `{"query":{"kind":"component"},"offset":1,"limit":0,"orderBy":[{"field":"Metadata.Name"}],"totalItems":false,"fullTextFilter":{"term":"A","fields":["spec.type"]}}`},
			want: []catalog.Query{{
				Filter: component, Order: []filter.Order{{Field: "metadata.name"}}, DropMissing: true,
				Default: catalog.SortByID, Limit: 0, Offset: 1,
				FullText: &catalog.FullText{Term: "a", Fields: []string{"spec.type"}},
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeCatalog()
			rec := tt.req.do(t, newTestHandler(f, 2))
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if diff := cmp.Diff(tt.want, f.queries); diff != "" {
				t.Errorf("queries mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func mustAfter(t *testing.T, limit, offset int) string {
	t.Helper()
	s, err := encodeAfter(limit, offset)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestStreamAll checks that the unpaged list holds every entity exactly
// once, in order, whatever the page size.
func TestStreamAll(t *testing.T) {
	for _, size := range []int{1, 2, 4, 5, 10000} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			f := newFakeCatalog()
			rec := request{method: "GET", target: "/entities?fields=metadata.uid"}.do(t, newTestHandler(f, size))
			var got []struct {
				Metadata struct{ UID string } `json:"metadata"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("body is not a JSON array: %v\n%s", err, rec.Body)
			}
			var uids []string
			for _, e := range got {
				uids = append(uids, e.Metadata.UID)
			}
			if diff := cmp.Diff(f.uids, uids); diff != "" {
				t.Errorf("uids mismatch (-want +got):\n%s", diff)
			}
			if want := (len(f.uids)+size-1)/size + 1; len(f.queries) > want {
				t.Errorf("%d queries, want at most %d", len(f.queries), want)
			}
		})
	}
}

// TestStreamFailureAborts checks that a failure after the stream started
// breaks the connection instead of ending a plausible but partial array.
func TestStreamFailureAborts(t *testing.T) {
	f := newFakeCatalog()
	f.failQueryAt = 2
	srv := httptest.NewServer(newTestHandler(f, 2))
	defer srv.Close()
	resp, err := http.Get(srv.URL + CatalogPrefix + "/entities")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil {
		t.Fatalf("read a complete body %q; want a broken stream", body)
	}
	if strings.Contains(string(body), "secret") {
		t.Errorf("error detail leaked into body: %s", body)
	}
}

// TestStreamFailureBeforeStart checks that a failure on the first page is
// an ordinary 500 with no detail.
func TestStreamFailureBeforeStart(t *testing.T) {
	f := newFakeCatalog()
	f.failQueryAt = 1
	rec := request{method: "GET", target: "/entities"}.do(t, newTestHandler(f, 2))
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "secret") {
		t.Errorf("got %d %s", rec.Code, rec.Body)
	}
}

// TestCursorRoundTrip pages forward and back through by-query with cursors
// and checks the query the cursors carry survives unchanged.
func TestCursorRoundTrip(t *testing.T) {
	component := filter.Match{Key: "kind", Values: []string{"component"}}
	base := catalog.Query{
		Filter: component, Order: []filter.Order{{Field: "metadata.name", Desc: true}}, DropMissing: true,
		Default: catalog.SortByID, Limit: 2,
		FullText: &catalog.FullText{Term: "e", Fields: []string{"metadata.name"}},
	}
	type page struct {
		Items []struct {
			Metadata struct{ UID string } `json:"metadata"`
		} `json:"items"`
		TotalItems int      `json:"totalItems"`
		PageInfo   pageInfo `json:"pageInfo"`
	}
	f := newFakeCatalog()
	h := newTestHandler(f, 2)
	get := func(target string) page {
		t.Helper()
		var rec *httptest.ResponseRecorder
		if strings.HasPrefix(target, "POST ") {
			rec = request{method: "POST", target: "/entities/by-query", body: strings.TrimPrefix(target, "POST ")}.do(t, h)
		} else {
			rec = request{method: "GET", target: target}.do(t, h)
		}
		if rec.Code != 200 {
			t.Fatalf("GET %s: %d %s", target, rec.Code, rec.Body)
		}
		var p page
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	uids := func(p page) string {
		var s []string
		for _, it := range p.Items {
			s = append(s, it.Metadata.UID)
		}
		return strings.Join(s, ",")
	}

	p1 := get("/entities/by-query?filter=kind=component&orderField=metadata.name,desc&fullTextFilterTerm=E&limit=2&offset=0")
	if uids(p1) != "uid-1,uid-2" || p1.TotalItems != 5 || p1.PageInfo.PrevCursor != "" || p1.PageInfo.NextCursor == "" {
		t.Fatalf("page 1: %+v", p1)
	}
	// A cursor request ignores filter and order parameters but honours limit.
	p2 := get("/entities/by-query?filter=kind=api&limit=2&cursor=" + url.QueryEscape(p1.PageInfo.NextCursor))
	if uids(p2) != "uid-3,uid-4" || p2.TotalItems != 5 || p2.PageInfo.PrevCursor == "" || p2.PageInfo.NextCursor == "" {
		t.Fatalf("page 2: %+v", p2)
	}
	p3 := get("POST " + fmt.Sprintf(`{"cursor":%q,"limit":2}`, p2.PageInfo.NextCursor))
	if uids(p3) != "uid-5" || p3.PageInfo.NextCursor != "" || p3.PageInfo.PrevCursor == "" {
		t.Fatalf("page 3: %+v", p3)
	}
	back := get("/entities/by-query?limit=2&cursor=" + url.QueryEscape(p3.PageInfo.PrevCursor))
	if uids(back) != "uid-3,uid-4" || back.PageInfo.NextCursor == "" || back.PageInfo.PrevCursor == "" {
		t.Fatalf("back to page 2: %+v", back)
	}
	first := get("/entities/by-query?limit=2&cursor=" + url.QueryEscape(back.PageInfo.PrevCursor))
	if uids(first) != "uid-1,uid-2" || first.PageInfo.PrevCursor != "" || first.PageInfo.NextCursor == "" {
		t.Fatalf("back to page 1: %+v", first)
	}

	want := []catalog.Query{base, base, base, base, base}
	want[0].CountTotal = true
	want[1].After = &catalog.Position{ID: 2}
	want[2].After = &catalog.Position{ID: 4}
	want[3].Before = &catalog.Position{ID: 5}
	want[4].Before = &catalog.Position{ID: 3}
	if diff := cmp.Diff(want, f.queries); diff != "" {
		t.Errorf("queries mismatch (-want +got):\n%s", diff)
	}
}

// TestCursorCarriesPredicate checks that a POST query survives in its cursor.
func TestCursorCarriesPredicate(t *testing.T) {
	f := newFakeCatalog()
	h := newTestHandler(f, 2)
	rec := request{method: "POST", target: "/entities/by-query", body: `{"query":{"$not":{"kind":"group"}},"limit":1}`}.do(t, h)
	var p struct{ PageInfo pageInfo }
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.PageInfo.NextCursor == "" {
		t.Fatalf("no cursor: %v %s", err, rec.Body)
	}
	request{method: "GET", target: "/entities/by-query?cursor=" + p.PageInfo.NextCursor}.do(t, h)
	if len(f.queries) != 2 {
		t.Fatalf("%d queries", len(f.queries))
	}
	if diff := cmp.Diff(f.queries[0].Filter, f.queries[1].Filter); diff != "" || f.queries[0].Filter == nil {
		t.Errorf("filter changed across the cursor (-first +second):\n%s", diff)
	}
}

// TestCursorTampering checks that cursors that do not decode into a
// consistent cursor are rejected with 400 and the reason, and that a
// cursor differing from them only in the defect is accepted.
func TestCursorTampering(t *testing.T) {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64URL(b)
	}
	pos := map[string]any{"id": 1}
	tests := []struct {
		name, cursor, want string
	}{
		{"not base64", "%%%", "Malformed cursor: not base64"},
		{"not json", base64URL([]byte("{")), "Malformed cursor: not a cursor object"},
		{"not an object", enc([]int{1}), "Malformed cursor: not a cursor object"},
		{"unknown field", enc(map[string]any{"v": 1, "position": pos, "admin": true}), "Malformed cursor: not a cursor object"},
		{"old uid position", enc(map[string]any{"v": 1, "position": map[string]any{"uid": "uid-1"}}), "Malformed cursor: not a cursor object"},
		{"id not int", enc(map[string]any{"v": 1, "position": map[string]any{"id": "1"}}), "Malformed cursor: not a cursor object"},
		{"wrong version", enc(map[string]any{"v": 2, "position": pos}), "Malformed cursor: unknown version"},
		{"no position", enc(map[string]any{"v": 1}), "Malformed cursor: no position"},
		{"zero id", enc(map[string]any{"v": 1, "position": map[string]any{"id": 0, "value": "a"}}), "Malformed cursor: no position"},
		{"negative id", enc(map[string]any{"v": 1, "position": map[string]any{"id": -3}}), "Malformed cursor: no position"},
		{"two orders", enc(map[string]any{"v": 1, "position": pos, "order": []any{map[string]any{"field": "a"}, map[string]any{"field": "b"}}}), "Malformed cursor: more than one order field"},
		{"empty order", enc(map[string]any{"v": 1, "position": pos, "order": []any{map[string]any{"field": ""}}}), "Malformed cursor: empty order field"},
		{"filter & query", enc(map[string]any{"v": 1, "position": pos, "filter": []string{"kind=a"}, "query": map[string]any{"kind": "a"}}), "Malformed cursor: both filter and query"},
		{"bad filter", enc(map[string]any{"v": 1, "position": pos, "filter": []string{"=a"}}), "Malformed cursor: "},
		{"bad query", enc(map[string]any{"v": 1, "position": pos, "query": map[string]any{"$all": 1}}), "Malformed cursor: "},
		{"half full text", enc(map[string]any{"v": 1, "position": pos, "fullText": map[string]any{"term": "a"}}), "Malformed cursor: incomplete full text filter"},
		{"negative total", enc(map[string]any{"v": 1, "position": pos, "totalItems": -1}), "Malformed cursor: negative totalItems"},
		{"total not int", enc(map[string]any{"v": 1, "position": pos, "totalItems": "x"}), "Malformed cursor: not a cursor object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeCatalog()
			rec := request{method: "GET", target: "/entities/by-query?cursor=" + url.QueryEscape(tt.cursor)}.do(t, newTestHandler(f, 2))
			if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), tt.want) {
				t.Errorf("got %d %s, want 400 with %q", rec.Code, rec.Body, tt.want)
			}
			if len(f.queries) != 0 {
				t.Errorf("catalog was queried with a bad cursor")
			}
		})
	}
	t.Run("good", func(t *testing.T) {
		f := newFakeCatalog()
		good := enc(map[string]any{"v": 1, "position": map[string]any{"id": 2, "value": "b"}, "order": []any{map[string]any{"field": "metadata.name"}}, "filter": []string{"kind=component"}})
		rec := request{method: "GET", target: "/entities/by-query?cursor=" + url.QueryEscape(good)}.do(t, newTestHandler(f, 2))
		if rec.Code != http.StatusOK {
			t.Fatalf("got %d %s", rec.Code, rec.Body)
		}
		b := "b"
		if len(f.queries) != 1 {
			t.Fatalf("%d queries, want 1", len(f.queries))
		}
		if diff := cmp.Diff(&catalog.Position{ID: 2, Value: &b}, f.queries[0].After); diff != "" {
			t.Errorf("after mismatch (-want +got):\n%s", diff)
		}
	})
}

func base64URL(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// TestNextLink checks the link header against URLSearchParams' serialisation.
func TestNextLink(t *testing.T) {
	tests := []struct {
		query, want string
	}{
		{"limit=2", `</entities?limit=2&after=AFTER>; rel="next"`},
		{"limit=2&offset=4&filter=kind=component,spec.type", `</entities?limit=2&filter=kind%3Dcomponent%2Cspec.type&after=AFTER>; rel="next"`},
		{"after=old&limit=2&after=older", `</entities?after=AFTER&limit=2>; rel="next"`},
		{"fields=metadata.name&filter=metadata.name=a%20b*~", `</entities?fields=metadata.name&filter=metadata.name%3Da+b*%7E&after=AFTER>; rel="next"`},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/entities?"+tt.query, nil)
		if got := nextLink(r, "AFTER"); got != tt.want {
			t.Errorf("nextLink(%q) = %s, want %s", tt.query, got, tt.want)
		}
	}
	r := httptest.NewRequest("GET", "/entities", nil)
	if got, want := nextLink(r, "a+b/c="), `</entities?after=a%2Bb%2Fc%3D>; rel="next"`; got != want {
		t.Errorf("nextLink escaping = %s, want %s", got, want)
	}
}

// TestClassify checks the one table that maps error kinds to responses.
func TestClassify(t *testing.T) {
	tests := []struct {
		err           error
		status        int
		name, message string
	}{
		{derrors.Invalid("bad %s", "x"), 400, "InputError", "bad x"},
		{derrors.New(derrors.ErrUnauthenticated, "who"), 401, "AuthenticationError", "who"},
		{derrors.Forbidden("no"), 403, "NotAllowedError", "no"},
		{derrors.NotFound("gone"), 404, "NotFoundError", "gone"},
		{derrors.Conflict("twice"), 409, "ConflictError", "twice"},
		{derrors.New(derrors.ErrNotImplemented, "later"), 501, "NotImplementedError", "later"},
		{derrors.New(derrors.ErrUnavailable, "busy"), 503, "ServiceUnavailableError", "busy"},
		{fmt.Errorf("store: row 7 of secret_table: %w", derrors.ErrNotFound), 404, "NotFoundError", "not found"},
		{fmt.Errorf("wrapped: %w", derrors.Wrap(derrors.ErrConflict, errors.New("pq: secret"), "clash")), 409, "ConflictError", "clash"},
		{errors.New("pq: connection to 10.0.0.3 refused"), 500, "Error", "Internal server error"},
		{&httpError{status: 413, name: "PayloadTooLargeError", message: "big"}, 413, "PayloadTooLargeError", "big"},
	}
	for _, tt := range tests {
		status, name, message := classify(tt.err)
		if status != tt.status || name != tt.name || message != tt.message {
			t.Errorf("classify(%v) = %d %s %q, want %d %s %q", tt.err, status, name, message, tt.status, tt.name, tt.message)
		}
	}
}

// TestPrefix checks that paths outside the mount point get a JSON 404 and
// escaped paths keep working.
func TestPrefix(t *testing.T) {
	h := NewCatalogHandler(newFakeCatalog(), nil, Options{})
	for _, tc := range []struct {
		path   string
		status int
	}{
		{"/api/catalogue/entities", 404},
		{"/api/other", 404},
		{"/api/catalog/entities/by-name/component/default/petstore", 200},
		{"/api/catalog/entities/by-name/component/default/pet%2Fstore", 404},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", tc.path, nil))
		if rec.Code != tc.status || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
			t.Errorf("GET %s: %d %s", tc.path, rec.Code, rec.Body)
		}
	}
}

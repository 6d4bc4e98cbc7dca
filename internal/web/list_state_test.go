package web

import (
	"encoding/json"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/atrium-dev/atrium/internal/catalog"
	"github.com/atrium-dev/atrium/internal/catalog/filter"
)

func TestParseListState(t *testing.T) {
	tests := []struct {
		name    string
		query   string
		want    listState
		wantErr bool
	}{
		{"empty is the default kind", "", listState{Kind: "component", Limit: 20}, false},
		{"backstage form", "filters[kind]=API&filters[type]=openapi&filters[owners]=team-a&filters[owners]=team-b&filters[lifecycles]=production&filters[tags]=java&filters[namespace]=default&filters[text]=pay",
			listState{Kind: "api", Types: []string{"openapi"}, Owners: []string{"team-a", "team-b"}, Lifecycles: []string{"production"},
				Tags: []string{"java"}, Namespaces: []string{"default"}, Text: "pay", Limit: 20}, false},
		{"qs indices", "filters[owners][10]=c&filters[owners][0]=a&filters[owners][2]=b", listState{Kind: "component", Owners: []string{"a", "b", "c"}, Limit: 20}, false},
		{"qs brackets", "filters[tags][]=a", listState{Kind: "component", Tags: []string{"a"}, Limit: 20}, false},
		{"all kinds", "filters[kind]=all", listState{Limit: 20}, false},
		{"blank and repeated values dropped", "filters[tags]=+&filters[tags]=a&filters[tags]=a", listState{Kind: "component", Tags: []string{"a"}, Limit: 20}, false},
		{"unknown filters ignored", "filters[user]=owned&filters[x]=y&other=1", listState{Kind: "component", Limit: 20}, false},
		{"sort, dir and limit", "sort=owner&dir=desc&limit=50", listState{Kind: "component", Sort: "owner", Desc: true, Limit: 50}, false},
		{"unknown sort and limit fall back", "sort=password&limit=100000", listState{Kind: "component", Limit: 20}, false},
		{"optional field sortable", "sort=system", listState{Kind: "component", Sort: "system", Limit: 20}, false},
		{"owner sortable across kinds", "filters[kind]=all&sort=owner", listState{Sort: "owner", Limit: 20}, false},
		{"unknown column not sortable", "sort=description", listState{Kind: "component", Limit: 20}, false},
		{"owner sortable for systems", "filters[kind]=system&sort=owner", listState{Kind: "system", Sort: "owner", Limit: 20}, false},
		{"orphans", "filters[orphan]=true", listState{Kind: "component", Orphan: true, Limit: 20}, false},
		{"too long", "filters[text]=" + string(make([]byte, 300)), listState{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			got, err := parseListState(q, "component")
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(listState{})); diff != "" && !tt.wantErr {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestListStateRoundTrip(t *testing.T) {
	st := listState{Kind: "", Types: []string{"service"}, Owners: []string{"team-a"}, Text: "x y", Sort: "kind", Desc: true, Limit: 100}
	href := st.href("/catalog", "component")
	u, err := url.Parse(href)
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseListState(u.Query(), "component")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(st, got); diff != "" {
		t.Errorf("%s does not round-trip (-want +got):\n%s", href, diff)
	}
}

func TestListStateQuery(t *testing.T) {
	st := listState{Kind: "component", Owners: []string{"team-a", "user:jane", "group:ops/sre"}, Tags: []string{"Java"}, Sort: "owner", Limit: 20}
	q, cur, err := st.query()
	if err != nil {
		t.Fatal(err)
	}
	want := catalog.Query{
		Filter: filter.All{Exprs: []filter.Expr{
			filter.Match{Key: "relations.ownedby", Values: []string{"group:default/team-a", "user:default/jane", "group:ops/sre"}},
			filter.Match{Key: "metadata.tags", Values: []string{"java"}},
			filter.Match{Key: "kind", Values: []string{"component"}},
		}},
		Order:       []filter.Order{{Field: "relations.ownedby"}},
		DropMissing: true, // every component has an owner
		Limit:       20,
		CountTotal:  true,
	}
	if diff := cmp.Diff(want, q); diff != "" {
		t.Errorf("query (-want +got):\n%s", diff)
	}
	if cur != (pageCursor{}) {
		t.Errorf("cursor = %+v, want the first page", cur)
	}

	// Owner is not a field of every entity of every kind: across kinds the
	// list sorts by name instead.
	st = listState{Sort: "owner", Desc: true, Limit: 20, Text: " pay "}
	q, _, _ = st.query()
	// Not every kind has an owner: entities without one sort last.
	if diff := cmp.Diff([]filter.Order{{Field: "relations.ownedby", Desc: true}}, q.Order); diff != "" || q.DropMissing {
		t.Errorf("sort by owner across kinds (-want +got, DropMissing %v):\n%s", q.DropMissing, diff)
	}
	if q.FullText == nil || q.FullText.Term != "pay" {
		t.Errorf("text filter: %+v", q.FullText)
	}
}

func TestCursor(t *testing.T) {
	v := "shipment-service"
	for _, c := range []pageCursor{{Dir: cursorNext, Value: &v, ID: 42, Offset: 20}, {Dir: cursorPrev, ID: 7}, {Dir: cursorLast}} {
		got, err := decodeCursor(c.encode())
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(c, got); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
	}
	for _, bad := range []string{"!!", "e30", "eyJkIjoieCJ9"} { // not base64, {}, {"d":"x"}
		if _, err := decodeCursor(bad); err == nil {
			t.Errorf("decodeCursor(%q) succeeded", bad)
		}
	}
	q, _, err := (listState{Kind: "api", Limit: 20, Cursor: pageCursor{Dir: cursorLast}.encode()}).query()
	if err != nil || q.Before == nil || q.Before.Value != nil {
		t.Errorf("last page query: %+v, %v", q.Before, err)
	}
}

func TestMakePager(t *testing.T) {
	v := "x"
	pos := &catalog.Position{Value: &v, ID: 9}
	st := listState{Kind: "component", Limit: 20}
	tests := []struct {
		name                    string
		cur                     pageCursor
		page                    catalog.Page
		from, to                int
		first, prev, next, last bool
	}{
		{"only page", pageCursor{}, catalog.Page{Items: make([]json.RawMessage, 5), TotalItems: 5, First: pos, Last: pos}, 1, 5, false, false, false, false},
		{"first of many", pageCursor{}, catalog.Page{Items: make([]json.RawMessage, 20), TotalItems: 50, First: pos, Last: pos, HasMore: true}, 1, 20, false, false, true, true},
		{"middle", pageCursor{Dir: cursorNext, Offset: 20}, catalog.Page{Items: make([]json.RawMessage, 20), TotalItems: 50, First: pos, Last: pos, HasMore: true}, 21, 40, true, true, true, true},
		{"back to the start", pageCursor{Dir: cursorPrev, Offset: 3}, catalog.Page{Items: make([]json.RawMessage, 20), TotalItems: 50, First: pos, Last: pos}, 1, 20, false, false, true, true},
		{"last", pageCursor{Dir: cursorLast}, catalog.Page{Items: make([]json.RawMessage, 10), TotalItems: 50, First: pos, Last: pos, HasMore: true}, 41, 50, true, true, false, false},
		{"empty", pageCursor{}, catalog.Page{}, 0, 0, false, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := makePager(st, tt.cur, tt.page, "/catalog", "component")
			if p.From != tt.from || p.To != tt.to {
				t.Errorf("range %d–%d, want %d–%d", p.From, p.To, tt.from, tt.to)
			}
			got := [4]bool{p.FirstHref != "", p.PrevHref != "", p.NextHref != "", p.LastHref != ""}
			if want := [4]bool{tt.first, tt.prev, tt.next, tt.last}; got != want {
				t.Errorf("links first/prev/next/last = %v, want %v", got, want)
			}
		})
	}
}

func TestCatalogColumns(t *testing.T) {
	tests := []struct {
		st   listState
		want []string
	}{
		{listState{Kind: "component"}, []string{"name", "system", "owner", "type", "lifecycle", "namespace", "description", "tags"}},
		{listState{Kind: "component", Types: []string{"service"}, Namespaces: []string{"default"}}, []string{"name", "system", "owner", "lifecycle", "description", "tags"}},
		{listState{Kind: "user"}, []string{"name", "namespace", "description", "tags"}},
		{listState{Kind: "system"}, []string{"name", "owner", "namespace", "description", "tags"}},
		{listState{Kind: "location"}, []string{"name", "type", "targets", "namespace", "description", "tags"}},
		{listState{}, []string{"name", "kind", "owner", "type", "description", "tags"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, catalogColumns(tt.st)); diff != "" {
			t.Errorf("columns for %+v (-want +got):\n%s", tt.st, diff)
		}
	}
}

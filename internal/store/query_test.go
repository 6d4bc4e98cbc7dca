package store

import (
	"context"
	"crypto/sha1"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/catalog/filter"
	"github.com/atrium-dev/atrium/internal/store/storetest"
)

// testEntity is one entity of a hand-built catalog.
type testEntity struct {
	kind, name string
	title      string   // "" = no metadata.title
	specType   string   // "" = no spec.type
	tags       []string // nil = no metadata.tags
	owner      string   // "" = no ownedBy relation
}

func (e testEntity) json() string {
	meta := map[string]any{"name": e.name, "namespace": "default"}
	if e.title != "" {
		meta["title"] = e.title
	}
	if e.tags != nil {
		meta["tags"] = e.tags
	}
	spec := map[string]any{}
	if e.specType != "" {
		spec["type"] = e.specType
	}
	b, _ := json.Marshal(map[string]any{"apiVersion": "backstage.io/v1alpha1", "kind": e.kind, "metadata": meta, "spec": spec})
	return string(b)
}

func (e testEntity) ref() entity.Ref {
	return entity.Ref{Kind: e.kind, Namespace: "default", Name: e.name}
}

// catalogFixture is a store holding a small catalog, ingested through the
// store's own processing and stitching.
type catalogFixture struct {
	st   *Store
	iv   Interval
	uids map[string]string // name -> uid
	// created lists entity names in the order they were first inserted,
	// which is the order of their internal ids.
	created []string
}

var fixtureEntities = []testEntity{
	{kind: "Component", name: "alpha", title: "Zulu title", specType: "service", tags: []string{"go", "kafka"}, owner: "team-a"},
	{kind: "Component", name: "bravo", specType: "website", tags: []string{"go"}, owner: "team-b"},
	{kind: "Component", name: "charlie", title: "alpha title", specType: "service", owner: "team-a"},
	{kind: "Component", name: "delta", specType: "library", tags: []string{"zig", "ada"}},
	{kind: "Component", name: "Echo", title: "Mike title", specType: "service", owner: "team-b"},
	{kind: "Component", name: "fox_trot", specType: "service"},
	{kind: "Group", name: "team-a", specType: "team"},
	{kind: "Group", name: "team-b", specType: "team"},
}

// openTestStore opens an empty store on engine e.
func openTestStore(t *testing.T, e storetest.Engine, opts Options) *Store {
	t.Helper()
	ctx := context.Background()
	var st *Store
	var err error
	switch e {
	case storetest.Postgres:
		st, err = OpenPostgres(ctx, storetest.PostgresURL(t), opts)
	default:
		st, err = Open(ctx, storetest.SQLitePath(t), opts)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newFixture(t *testing.T, e storetest.Engine) *catalogFixture {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	st := openTestStore(t, e, Options{Now: func() time.Time { return now }})
	f := &catalogFixture{st: st, iv: Interval{Min: time.Hour, Max: 2 * time.Hour}, uids: map[string]string{}}
	f.ingest(t, fixtureEntities)
	page, err := st.QueryEntities(ctx, Query{Limit: -1})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range page.Items {
		var e entity.Entity
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatal(err)
		}
		f.uids[e.Metadata.Name] = e.Metadata.UID
	}
	if len(f.uids) != len(fixtureEntities) {
		t.Fatalf("fixture serves %d entities, want %d", len(f.uids), len(fixtureEntities))
	}
	return f
}

// ingest makes entities the complete set the fixture's provider supplies,
// processes the due ones and stitches until the queue is empty, as the
// ingestion loop does. New entities are created in the order given.
func (f *catalogFixture) ingest(t *testing.T, entities []testEntity) {
	t.Helper()
	ctx := context.Background()
	var roots []Child
	edges := map[string][]entity.Edge{}
	// Entities no longer supplied are deleted; supplied again, they are new.
	f.created = slices.DeleteFunc(f.created, func(name string) bool {
		return !slices.ContainsFunc(entities, func(e testEntity) bool { return e.name == name })
	})
	for _, e := range entities {
		roots = append(roots, Child{Ref: e.ref().Key(), Entity: json.RawMessage(e.json()), LocationKey: "test"})
		if e.owner != "" {
			group := entity.Ref{Kind: "Group", Namespace: "default", Name: e.owner}
			edges[e.ref().Key()] = append(edges[e.ref().Key()],
				entity.Edge{Source: e.ref(), Type: entity.RelationOwnedBy, Target: group},
				entity.Edge{Source: group, Type: entity.RelationOwnerOf, Target: e.ref()})
		}
		if !slices.Contains(f.created, e.name) {
			f.created = append(f.created, e.name)
		}
	}
	if _, err := f.st.ReplaceRoots(ctx, "test", roots, false); err != nil {
		t.Fatal(err)
	}
	work, err := f.st.ClaimDue(ctx, 100, f.iv)
	if err != nil {
		t.Fatal(err)
	}
	var results []Result
	for _, w := range work {
		results = append(results, Result{Work: w, OK: true, Processed: w.Unprocessed, ResultHash: fmt.Sprintf("h-%x", sha1.Sum(w.Unprocessed)), Relations: edges[w.Ref]})
	}
	if _, err := f.st.WriteResults(ctx, results, f.iv); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		stats, err := f.st.Stitch(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		if stats.Consumed == 0 {
			break
		}
		if i == 10 {
			t.Fatal("stitch queue does not drain")
		}
	}
}

// byID sorts names by their internal id, the order they were first
// inserted in: the default order, and the order of ties and of entities
// lacking the order field.
func (f *catalogFixture) byID(names ...string) []string {
	out := append([]string(nil), names...)
	sort.SliceStable(out, func(i, j int) bool {
		return slices.Index(f.created, out[i]) < slices.Index(f.created, out[j])
	})
	return out
}

func reversed(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}

func names(t *testing.T, items []json.RawMessage) []string {
	t.Helper()
	var out []string
	for _, b := range items {
		var e entity.Entity
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatal(err)
		}
		out = append(out, e.Metadata.Name)
	}
	return out
}

func concat(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestQueryEntitiesOrderAndPaging(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		f := newFixture(t, eng)
		ctx := context.Background()
		kindComponent := filter.Match{Key: "kind", Values: []string{"component"}}
		byName := []filter.Order{{Field: "metadata.name"}}
		byTitle := []filter.Order{{Field: "metadata.title"}}
		byTitleDesc := []filter.Order{{Field: "metadata.title", Desc: true}}
		untitled := f.byID("bravo", "delta", "fox_trot", "team-a", "team-b")
		services := f.byID("alpha", "charlie", "Echo", "fox_trot")
		tests := []struct {
			name      string
			q         Query
			want      []string
			wantTotal int
			wantMore  bool
		}{
			{"all by id", Query{Limit: -1, CountTotal: true},
				f.byID("alpha", "bravo", "charlie", "delta", "Echo", "fox_trot", "team-a", "team-b"), 8, false},
			{"by ref", Query{Limit: -1, Default: SortByRef},
				[]string{"alpha", "bravo", "charlie", "delta", "Echo", "fox_trot", "team-a", "team-b"}, 0, false},
			{"by name, case-insensitive", Query{Limit: -1, Order: byName, Filter: kindComponent},
				[]string{"alpha", "bravo", "charlie", "delta", "Echo", "fox_trot"}, 0, false},
			{"by name desc", Query{Limit: -1, Order: []filter.Order{{Field: "metadata.name", Desc: true}}, Filter: kindComponent},
				[]string{"fox_trot", "Echo", "delta", "charlie", "bravo", "alpha"}, 0, false},
			{"missing last", Query{Limit: -1, Order: byTitle, CountTotal: true},
				concat([]string{"charlie", "Echo", "alpha"}, untitled), 8, false},
			{"missing last when descending too", Query{Limit: -1, Order: byTitleDesc, CountTotal: true},
				concat([]string{"alpha", "Echo", "charlie"}, reversed(untitled)), 8, false},
			{"drop missing", Query{Limit: -1, Order: byTitle, DropMissing: true, CountTotal: true},
				[]string{"charlie", "Echo", "alpha"}, 3, false},
			{"drop missing desc", Query{Limit: -1, Order: byTitleDesc, DropMissing: true, CountTotal: true},
				[]string{"alpha", "Echo", "charlie"}, 3, false},
			{"array field sorts by its least item", Query{Limit: -1, Order: []filter.Order{{Field: "metadata.tags"}}, DropMissing: true},
				concat([]string{"delta"}, f.byID("alpha", "bravo")), 0, false},
			{"ties break on id", Query{Limit: -1, Order: []filter.Order{{Field: "spec.type"}}, Filter: kindComponent},
				concat([]string{"delta"}, services, []string{"bravo"}), 0, false},
			{"second order field", Query{Limit: -1, Order: []filter.Order{{Field: "spec.type"}, {Field: "metadata.name", Desc: true}}, Filter: kindComponent},
				[]string{"delta", "fox_trot", "Echo", "charlie", "alpha", "bravo"}, 0, false},
			{"limit", Query{Limit: 2, Order: byName, CountTotal: true},
				[]string{"alpha", "bravo"}, 8, true},
			{"limit and offset", Query{Limit: 2, Offset: 5, Order: byName},
				[]string{"fox_trot", "team-a"}, 0, true},
			{"offset to the end", Query{Limit: 2, Offset: 6, Order: byName},
				[]string{"team-a", "team-b"}, 0, false},
			{"offset without limit", Query{Limit: -1, Offset: 6, Order: byName},
				[]string{"team-a", "team-b"}, 0, false},
			{"offset past the end", Query{Limit: 5, Offset: 50, Order: byName, CountTotal: true},
				nil, 8, false},
			{"limit 0 counts only", Query{Limit: 0, Filter: kindComponent, CountTotal: true},
				nil, 6, false},
			{"filter and total", Query{Limit: 1, Filter: filter.Match{Key: "relations.ownedby", Values: []string{"group:default/team-a"}}, Order: byName, CountTotal: true},
				[]string{"alpha"}, 2, true},
			{"exists", Query{Limit: -1, Filter: filter.Exists{Key: "metadata.title"}, Order: byName},
				[]string{"alpha", "charlie", "Echo"}, 0, false},
			{"not", Query{Limit: -1, Filter: filter.All{Exprs: []filter.Expr{kindComponent, filter.Not{Expr: filter.Exists{Key: "metadata.tags"}}}}, Order: byName},
				[]string{"charlie", "Echo", "fox_trot"}, 0, false},
			{"full text", Query{Limit: -1, FullText: &FullText{Term: " ALP ", Fields: []string{"metadata.name", "metadata.title"}}, Order: byName, CountTotal: true},
				[]string{"alpha", "charlie"}, 2, false},
			{"full text escapes LIKE wildcards", Query{Limit: -1, FullText: &FullText{Term: "_", Fields: []string{"metadata.name"}}, CountTotal: true},
				[]string{"fox_trot"}, 1, false},
			{"full text percent", Query{Limit: -1, FullText: &FullText{Term: "%", Fields: []string{"metadata.name"}}, CountTotal: true},
				nil, 0, false},
			{"full text escapes GLOB's star", Query{Limit: -1, FullText: &FullText{Term: "*", Fields: []string{"metadata.name"}}, CountTotal: true},
				nil, 0, false},
			{"full text escapes GLOB's question mark", Query{Limit: -1, FullText: &FullText{Term: "?", Fields: []string{"metadata.name"}}, CountTotal: true},
				nil, 0, false},
			{"full text escapes GLOB's classes", Query{Limit: -1, FullText: &FullText{Term: "[a]", Fields: []string{"metadata.name"}}, CountTotal: true},
				nil, 0, false},
			{"full text with no fields matches nothing", Query{Limit: -1, FullText: &FullText{Term: "alpha"}, CountTotal: true},
				nil, 0, false},
		}
		// Full-text searches are answered from a list of the matches read
		// beforehand (from the text index, or from SQL where the index
		// would be too large), or, matching too many, with a subquery:
		// every way.
		// Background index builds read the limits: wait for them before
		// changing them.
		defer func(rows, bytes int) {
			f.st.Settle()
			maxTextRows, maxTextIndexBytes = rows, bytes
		}(maxTextRows, maxTextIndexBytes)
		for _, mode := range []string{"indexed", "listed", "subquery"} {
			f.st.Settle()
			maxTextRows, maxTextIndexBytes = 20000, 64<<20
			switch mode {
			case "listed":
				maxTextIndexBytes = 0
			case "subquery":
				maxTextRows = 0
			}
			f.st.texts = resultCache[textMatch]{limit: maxTextsCached}
			f.st.textIdx.idx = nil
			for _, tt := range tests {
				t.Run(tt.name+"/"+mode, func(t *testing.T) {
					if ft := tt.q.FullText; mode == "indexed" && ft != nil && len(ft.Fields) > 0 {
						// The first search starts building the index for
						// its fields; the next one reads it.
						if _, err := f.st.QueryEntities(ctx, tt.q); err != nil {
							t.Fatal(err)
						}
						f.st.Settle()
						if f.st.textIdx.idx == nil {
							t.Fatal("no text index was built")
						}
						f.st.texts = resultCache[textMatch]{limit: maxTextsCached}
					}
					page, err := f.st.QueryEntities(ctx, tt.q)
					if err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff(tt.want, names(t, page.Items)); diff != "" {
						t.Errorf("items (-want +got):\n%s", diff)
					}
					if tt.q.CountTotal && page.TotalItems != tt.wantTotal {
						t.Errorf("TotalItems = %d, want %d", page.TotalItems, tt.wantTotal)
					}
					if page.HasMore != tt.wantMore {
						t.Errorf("HasMore = %v, want %v", page.HasMore, tt.wantMore)
					}
					if len(page.Items) > 0 && (page.First == nil || page.Last == nil) {
						t.Errorf("First/Last not set on a non-empty page")
					}
				})
			}
		}
	})
}

// TestQueryEntitiesKeyset pages through orderings with After, then back
// with Before, and checks the concatenation equals the unpaged answer. The
// ordered cases cover the position value's placeholders (each needs its
// own argument) and NULLs sorting last in both directions of travel, with
// and without DropMissing.
func TestQueryEntitiesKeyset(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		f := newFixture(t, eng)
		ctx := context.Background()
		tests := []struct {
			name string
			q    Query
		}{
			{"by id", Query{}},
			{"by id, filtered", Query{Filter: filter.Match{Key: "kind", Values: []string{"component"}}}},
			{"by name", Query{Order: []filter.Order{{Field: "metadata.name"}}, DropMissing: true}},
			{"by name desc", Query{Order: []filter.Order{{Field: "metadata.name", Desc: true}}, DropMissing: true}},
			{"ties", Query{Order: []filter.Order{{Field: "spec.type"}}, DropMissing: true}},
			{"ties desc", Query{Order: []filter.Order{{Field: "spec.type", Desc: true}}, DropMissing: true}},
			{"missing last", Query{Order: []filter.Order{{Field: "metadata.title"}}}},
			{"missing last desc", Query{Order: []filter.Order{{Field: "metadata.title", Desc: true}}}},
		}
		for _, tt := range tests {
			for _, limit := range []int{1, 2, 3} {
				t.Run(fmt.Sprintf("%s/limit %d", tt.name, limit), func(t *testing.T) {
					all := tt.q
					all.Limit = -1
					want, err := f.st.QueryEntities(ctx, all)
					if err != nil {
						t.Fatal(err)
					}
					wantNames := names(t, want.Items)

					var forward []string
					var pages []Page
					q := tt.q
					q.Limit = limit
					for i := 0; i < 20; i++ {
						page, err := f.st.QueryEntities(ctx, q)
						if err != nil {
							t.Fatalf("page %d: %v", i+1, err)
						}
						pages = append(pages, page)
						forward = append(forward, names(t, page.Items)...)
						if !page.HasMore {
							break
						}
						q.After = page.Last
					}
					if diff := cmp.Diff(wantNames, forward); diff != "" {
						t.Errorf("paging forward (-unpaged +paged):\n%s", diff)
					}

					// Back from the last page.
					var backward []string
					q = tt.q
					q.Limit = limit
					q.Before = pages[len(pages)-1].First
					backward = names(t, pages[len(pages)-1].Items)
					for i := 0; i < 20 && q.Before != nil; i++ {
						page, err := f.st.QueryEntities(ctx, q)
						if err != nil {
							t.Fatalf("page back %d: %v", i+1, err)
						}
						backward = append(names(t, page.Items), backward...)
						if !page.HasMore {
							break
						}
						q.Before = page.First
					}
					if diff := cmp.Diff(wantNames, backward); diff != "" {
						t.Errorf("paging backward (-unpaged +paged):\n%s", diff)
					}
				})
			}
		}
	})
}

func TestQueryEntitiesInvalid(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		f := newFixture(t, eng)
		ctx := context.Background()
		pos := &Position{ID: 1}
		for _, q := range []Query{
			{Limit: 1, After: pos, Before: pos},
			{Limit: 1, After: pos, Order: []filter.Order{{Field: "a"}, {Field: "b"}}},
		} {
			if _, err := f.st.QueryEntities(ctx, q); err == nil {
				t.Errorf("QueryEntities(%+v) = nil error", q)
			}
		}
	})
}

func TestFacets(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		f := newFixture(t, eng)
		ctx := context.Background()
		tests := []struct {
			name   string
			facets []string
			filter filter.Expr
			want   map[string][]FacetCount
		}{
			{
				name:   "kinds and types",
				facets: []string{"kind", "spec.type"},
				want: map[string][]FacetCount{
					"kind":      {{"Component", 6}, {"Group", 2}},
					"spec.type": {{"library", 1}, {"service", 4}, {"team", 2}, {"website", 1}},
				},
			},
			{
				name:   "filtered, case kept, arrays counted per item",
				facets: []string{"metadata.name", "metadata.tags"},
				filter: filter.Exists{Key: "metadata.tags"},
				want: map[string][]FacetCount{
					"metadata.name": {{"alpha", 1}, {"bravo", 1}, {"delta", 1}},
					"metadata.tags": {{"ada", 1}, {"go", 2}, {"kafka", 1}, {"zig", 1}},
				},
			},
			{
				name:   "case-insensitive facet key",
				facets: []string{"Spec.Type"},
				filter: filter.Match{Key: "relations.ownedby", Values: []string{"group:default/team-b"}},
				want:   map[string][]FacetCount{"Spec.Type": {{"service", 1}, {"website", 1}}},
			},
			{
				name:   "unknown facet",
				facets: []string{"spec.nope"},
				want:   map[string][]FacetCount{"spec.nope": {}},
			},
			{
				name:   "relations",
				facets: []string{"relations.ownerof"},
				filter: filter.Match{Key: "kind", Values: []string{"group"}},
				want:   map[string][]FacetCount{"relations.ownerof": {{"component:default/alpha", 1}, {"component:default/bravo", 1}, {"component:default/charlie", 1}, {"component:default/echo", 1}}},
			},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := f.st.Facets(ctx, tt.facets, tt.filter)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("Facets (-want +got):\n%s", diff)
				}
			})
		}
		// Echo keeps its case in facets.
		got, err := f.st.Facets(ctx, []string{"metadata.name"}, filter.Match{Key: "metadata.name", Values: []string{"echo"}})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]FacetCount{{"Echo", 1}}, got["metadata.name"]); diff != "" {
			t.Errorf("case of facet values (-want +got):\n%s", diff)
		}
	})
}

func TestEntitiesByRefs(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		f := newFixture(t, eng)
		keys := []string{"component:default/echo", "component:default/nope", "group:default/team-a", "component:default/echo"}
		got, err := f.st.EntitiesByRefs(context.Background(), keys, filter.Match{Key: "kind", Values: []string{"component"}})
		if err != nil {
			t.Fatal(err)
		}
		var refs []string
		for _, b := range got {
			if b == nil {
				refs = append(refs, "null")
				continue
			}
			refs = append(refs, strings.ToLower(names(t, []json.RawMessage{b})[0]))
		}
		if diff := cmp.Diff([]string{"echo", "null", "null", "echo"}, refs); diff != "" {
			t.Errorf("EntitiesByRefs (-want +got):\n%s", diff)
		}
	})
}

// TestQueryEntitiesDrivingMatch checks that a default-ordered query with a
// single-valued match, which the store reads off that match's search rows,
// pages exactly as the same query with a two-valued match (one value
// matching nothing), which it answers from final_entities: same items,
// order, HasMore, positions and totals, forward with After and back with
// Before.
func TestQueryEntitiesDrivingMatch(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		f := newFixture(t, eng)
		ctx := context.Background()
		match := func(key, value string) filter.Match {
			return filter.Match{Key: key, Values: []string{value}}
		}
		// widen adds a value nothing has, which keeps the results but stops the
		// match from driving the query.
		widen := func(m filter.Match) filter.Match {
			return filter.Match{Key: m.Key, Values: append(slices.Clone(m.Values), "no-such-value")}
		}
		kind := match("kind", "component")
		tests := []struct {
			name           string
			driven, bypass filter.Expr
			wantAll        []string
		}{
			{"kind", kind, widen(kind),
				f.byID("alpha", "bravo", "charlie", "delta", "Echo", "fox_trot")},
			{"array field", match("metadata.tags", "go"), widen(match("metadata.tags", "go")),
				f.byID("alpha", "bravo")},
			{"relation", match("relations.ownedby", "group:default/team-b"), widen(match("relations.ownedby", "group:default/team-b")),
				f.byID("bravo", "Echo")},
			{"under all, with the rest", filter.All{Exprs: []filter.Expr{filter.Exists{Key: "metadata.title"}, kind}},
				filter.All{Exprs: []filter.Expr{filter.Exists{Key: "metadata.title"}, widen(kind)}},
				f.byID("alpha", "charlie", "Echo")},
			{"under all, with a not", filter.All{Exprs: []filter.Expr{kind, filter.Not{Expr: match("spec.type", "service")}}},
				filter.All{Exprs: []filter.Expr{widen(kind), filter.Not{Expr: match("spec.type", "service")}}},
				f.byID("bravo", "delta")},
			{"matches nothing", match("kind", "api"), widen(match("kind", "api")), nil},
		}
		for _, tt := range tests {
			if _, _, ok := drivingMatch(tt.driven); !ok {
				t.Fatalf("%s: %#v does not drive the query", tt.name, tt.driven)
			}
			if _, _, ok := drivingMatch(tt.bypass); ok {
				t.Fatalf("%s: %#v drives the query", tt.name, tt.bypass)
			}
			for _, limit := range []int{1, 2, 3, 10} {
				t.Run(fmt.Sprintf("%s/limit %d", tt.name, limit), func(t *testing.T) {
					run := func(q Query) (drivenPage, bypassPage Page) {
						t.Helper()
						q.Filter = tt.driven
						d, err := f.st.QueryEntities(ctx, q)
						if err != nil {
							t.Fatalf("driven: %v", err)
						}
						q.Filter = tt.bypass
						b, err := f.st.QueryEntities(ctx, q)
						if err != nil {
							t.Fatalf("bypass: %v", err)
						}
						if diff := cmp.Diff(names(t, b.Items), names(t, d.Items)); diff != "" {
							t.Errorf("items (-bypass +driven):\n%s", diff)
						}
						if diff := cmp.Diff(b, d, cmp.Comparer(func(x, y json.RawMessage) bool { return string(x) == string(y) })); diff != "" {
							t.Errorf("page (-bypass +driven):\n%s", diff)
						}
						return d, b
					}

					q := Query{Limit: limit, CountTotal: true}
					var forward []string
					var last Page
					for i := 0; ; i++ {
						if i == 20 {
							t.Fatal("paging forward does not end")
						}
						d, _ := run(q)
						if q.CountTotal && d.TotalItems != len(tt.wantAll) {
							t.Errorf("TotalItems = %d, want %d", d.TotalItems, len(tt.wantAll))
						}
						forward = append(forward, names(t, d.Items)...)
						last = d
						if !d.HasMore {
							break
						}
						q.After, q.CountTotal = d.Last, false
					}
					if diff := cmp.Diff(tt.wantAll, forward); diff != "" {
						t.Errorf("paging forward (-want +got):\n%s", diff)
					}
					if last.First == nil {
						return
					}
					backward := names(t, last.Items)
					q = Query{Limit: limit, Before: last.First}
					for i := 0; ; i++ {
						if i == 20 {
							t.Fatal("paging backward does not end")
						}
						d, _ := run(q)
						backward = append(names(t, d.Items), backward...)
						if !d.HasMore {
							break
						}
						q.Before = d.First
					}
					if diff := cmp.Diff(tt.wantAll, backward); diff != "" {
						t.Errorf("paging backward (-want +got):\n%s", diff)
					}
				})
			}
		}
	})
}

// TestDefaultOrderIsCreationOrder checks that the default order and the
// positions follow the internal id, the order entities were first seen in,
// and not the uid: the uids are rewritten in reverse here.
func TestDefaultOrderIsCreationOrder(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		f := newFixture(t, eng)
		ctx := context.Background()
		for _, table := range []string{"refresh_state", "final_entities"} {
			if _, err := f.st.w.ExecContext(ctx, `UPDATE `+table+` SET uid = 'u-' || CAST(1000 - id AS TEXT)`); err != nil {
				t.Fatal(err)
			}
		}
		check := func(t *testing.T, filt filter.Expr, want []string) {
			t.Helper()
			var got []string
			var ids []int64
			q := Query{Limit: 1, Filter: filt}
			for range 20 {
				page, err := f.st.QueryEntities(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, names(t, page.Items)...)
				if page.First != nil {
					ids = append(ids, page.First.ID)
				}
				if !page.HasMore {
					break
				}
				q.After = page.Last
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("order (-want +got):\n%s", diff)
			}
			if !slices.IsSorted(ids) || len(slices.Compact(slices.Clone(ids))) != len(ids) || (len(ids) > 0 && ids[0] <= 0) {
				t.Errorf("position ids %v are not positive and strictly increasing", ids)
			}
		}
		check(t, nil, f.created)
		check(t, filter.Match{Key: "kind", Values: []string{"component"}}, f.created[:6])

		// An entity removed and supplied again is seen anew: it goes last.
		var without []testEntity
		for _, e := range fixtureEntities {
			if e.name != "alpha" {
				without = append(without, e)
			}
		}
		f.ingest(t, without)
		f.ingest(t, append(without, fixtureEntities[0]))
		want := []string{"bravo", "charlie", "delta", "Echo", "fox_trot", "team-a", "team-b", "alpha"}
		if diff := cmp.Diff(want, f.created); diff != "" {
			t.Fatalf("fixture creation order (-want +got):\n%s", diff)
		}
		check(t, nil, want)
		check(t, filter.Match{Key: "kind", Values: []string{"component"}}, f.byID("alpha", "bravo", "charlie", "delta", "Echo", "fox_trot"))
	})
}

// TestSelectiveSortMatchesIndexOrder checks that a sorted page of a
// selective filter, which SQLite sorts by values computed from the entity
// row, comes out exactly as when it is read off the search rows in order:
// same entities, same order, and cursors that carry over.
func TestSelectiveSortMatchesIndexOrder(t *testing.T) {
	f := newFixture(t, storetest.SQLite)
	ctx := context.Background()
	filters := map[string]filter.Expr{
		"components": filter.Match{Key: "kind", Values: []string{"component"}},
		"tagged go":  filter.Match{Key: "metadata.tags", Values: []string{"go"}},
	}
	walk := func(q Query) (names []string) {
		t.Helper()
		q.Limit = 2
		for {
			page, err := f.st.QueryEntities(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range page.Items {
				var e entity.Entity
				if err := json.Unmarshal(b, &e); err != nil {
					t.Fatal(err)
				}
				names = append(names, e.Metadata.Name)
			}
			if !page.HasMore {
				return names
			}
			q.After = page.Last
		}
	}
	for _, text := range []*FullText{nil, {Term: "t", Fields: []string{"metadata.name", "metadata.title"}}} {
		for fname, fexpr := range filters {
			if text != nil {
				fname += "+text"
			}
			for _, field := range []string{"metadata.name", "kind", "metadata.namespace", "metadata.title", "spec.type"} {
				for _, desc := range []bool{false, true} {
					for _, dropMissing := range []bool{false, true} {
						name := fmt.Sprintf("%s/%s/desc=%v/dropMissing=%v", fname, field, desc, dropMissing)
						t.Run(name, func(t *testing.T) {
							q := Query{Filter: fexpr, FullText: text, Order: []filter.Order{{Field: field, Desc: desc}}, DropMissing: dropMissing}
							defer func(n int) { selectiveSortMax = n }(selectiveSortMax)
							selectiveSortMax = 2000
							got := walk(q)
							selectiveSortMax = -1
							want := walk(q)
							if len(want) == 0 {
								t.Fatal("the query matches nothing: the test would prove nothing")
							}
							if diff := cmp.Diff(want, got); diff != "" {
								t.Errorf("selective sort differs from index order (-index +selective):\n%s", diff)
							}
						})
					}
				}
			}
		}
	}
}

// TestSparseSortMatchesOuterJoin checks that a page sorted by a field some
// entities lack, put together from the entities having it and then those
// lacking it, is exactly what one outer-joined query gives: walking every
// page forward and backward, with offsets, in both directions of sort.
func TestSparseSortMatchesOuterJoin(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		f := newFixture(t, eng)
		ctx := context.Background()
		names := func(p Page) []string {
			var out []string
			for _, b := range p.Items {
				var e entity.Entity
				if err := json.Unmarshal(b, &e); err != nil {
					t.Fatal(err)
				}
				out = append(out, e.Metadata.Name)
			}
			return out
		}
		type step struct {
			Names   []string
			HasMore bool
			Total   int
		}
		query := func(q Query) Page {
			t.Helper()
			page, err := f.st.QueryEntities(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			return page
		}
		// walk pages forward to the end, then, if backward, from the last
		// page back to the start.
		walk := func(q Query, backward bool) []step {
			t.Helper()
			var steps []step
			page := query(q)
			steps = append(steps, step{names(page), page.HasMore, page.TotalItems})
			for i := 0; page.HasMore; i++ {
				if i > 20 {
					t.Fatal("paging forward does not end")
				}
				q.Offset, q.After = 0, page.Last
				page = query(q)
				steps = append(steps, step{names(page), page.HasMore, page.TotalItems})
			}
			if !backward {
				return steps
			}
			for i := 0; page.First != nil; i++ {
				if i > 20 {
					t.Fatal("paging backward does not end")
				}
				q.Offset, q.After, q.Before = 0, nil, page.First
				page = query(q)
				steps = append(steps, step{names(page), page.HasMore, page.TotalItems})
				if !page.HasMore {
					break
				}
			}
			return steps
		}
		filters := map[string]filter.Expr{"all": nil, "components": filter.Match{Key: "kind", Values: []string{"component"}}}
		for fname, fexpr := range filters {
			for _, field := range []string{"metadata.title", "spec.type", "metadata.tags"} {
				for _, desc := range []bool{false, true} {
					for _, limit := range []int{1, 2, 3, 100, -1} {
						for _, offset := range []int{0, 1, 4} {
							for _, backward := range []bool{false, true} {
								if backward && (limit < 0 || offset > 0) {
									continue
								}
								name := fmt.Sprintf("%s/%s/desc=%v/limit=%d/offset=%d/backward=%v", fname, field, desc, limit, offset, backward)
								t.Run(name, func(t *testing.T) {
									q := Query{Filter: fexpr, Order: []filter.Order{{Field: field, Desc: desc}}, Limit: limit, Offset: offset, CountTotal: true}
									defer func() { sparseSort = true }()
									sparseSort = true
									got := walk(q, backward)
									sparseSort = false
									want := walk(q, backward)
									if len(want) == 0 || (len(want) == 1 && len(want[0].Names) == 0 && offset == 0) {
										t.Fatal("the query matches nothing: the test would prove nothing")
									}
									if diff := cmp.Diff(want, got); diff != "" {
										t.Errorf("two-part sort differs from the outer join (-join +parts):\n%s", diff)
									}
								})
							}
						}
					}
				}
			}
		}
	})
}

func TestChildren(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		f := newFixture(t, eng)
		got, err := f.st.Children(context.Background(), providerSource("test"))
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, e := range fixtureEntities {
			want = append(want, e.ref().Key())
		}
		slices.Sort(want)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Children (-want +got):\n%s", diff)
		}
		if got, err := f.st.Children(context.Background(), "component:default/alpha"); err != nil || len(got) != 0 {
			t.Errorf("a component's children = %v, %v; want none", got, err)
		}
	})
}

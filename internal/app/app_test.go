package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/atrium-dev/atrium/internal/app"
	"github.com/atrium-dev/atrium/internal/config"
)

// examplesDir is the repository's examples folder, found from this file.
func examplesDir(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("runtime.Caller failed")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "examples")
}

// exampleApp builds the app from the default configuration with the
// example catalog, ingested to completion, behind an httptest server.
func exampleApp(t testing.TB) (*app.App, *httptest.Server) {
	t.Helper()
	return exampleAppOn(t, config.Database{Client: config.ClientSQLite, Connection: config.DatabaseConnection{Directory: t.TempDir()}})
}

// exampleAppOn is exampleApp on the database db.
func exampleAppOn(t testing.TB, db config.Database) (*app.App, *httptest.Server) {
	t.Helper()
	ctx := context.Background()
	cfg := config.Default()
	cfg.Backend.Database = db
	cfg.Catalog.Locations[0].Target = filepath.Join(examplesDir(t), "all.yaml")
	// On PostgreSQL the data folder is ./data: keep the tests' files out
	// of the source tree.
	cfg.TechDocs.Publisher.Local.PublishDirectory = filepath.Join(t.TempDir(), "techdocs")
	cfg.Scaffolder.LocalGit.Directory = filepath.Join(t.TempDir(), "git")
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	a, err := app.New(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if err := a.Catalog.SyncConfigLocations(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Catalog.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	return a, srv
}

type relation struct {
	Type      string `json:"type"`
	TargetRef string `json:"targetRef"`
}

type statusItem struct {
	Type    string `json:"type"`
	Level   string `json:"level"`
	Message string `json:"message"`
}

type testEntity struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name        string            `json:"name"`
		Namespace   string            `json:"namespace"`
		UID         string            `json:"uid"`
		Etag        string            `json:"etag"`
		Annotations map[string]string `json:"annotations"`
		Tags        []string          `json:"tags"`
	} `json:"metadata"`
	Spec      map[string]any `json:"spec"`
	Relations []relation     `json:"relations"`
	Status    *struct {
		Items []statusItem `json:"items"`
	} `json:"status"`
}

func (e testEntity) ref() string {
	return strings.ToLower(e.Kind + ":" + e.Metadata.Namespace + "/" + e.Metadata.Name)
}

func (e testEntity) hasRelation(typ, target string) bool {
	return slices.Contains(e.Relations, relation{typ, target})
}

func do(t *testing.T, srv *httptest.Server, method, path, body string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func getJSON(t *testing.T, srv *httptest.Server, path string, v any) {
	t.Helper()
	code, b := do(t, srv, http.MethodGet, path, "")
	if code != http.StatusOK {
		t.Fatalf("GET %s = %d %s", path, code, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: decode: %v\n%s", path, err, b)
	}
}

func postJSON(t *testing.T, srv *httptest.Server, path, body string, v any) {
	t.Helper()
	code, b := do(t, srv, http.MethodPost, path, body)
	if code != http.StatusOK {
		t.Fatalf("POST %s = %d %s", path, code, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("POST %s: decode: %v\n%s", path, err, b)
	}
}

func TestExampleCatalogEndToEnd(t *testing.T) {
	_, srv := exampleApp(t)

	var all []testEntity
	getJSON(t, srv, "/api/catalog/entities", &all)
	byRef := map[string]testEntity{}
	counts := map[string]int{}
	for _, e := range all {
		if _, dup := byRef[e.ref()]; dup {
			t.Errorf("entity %s listed twice", e.ref())
		}
		byRef[e.ref()] = e
		counts[e.Kind]++
		if e.Status != nil && len(e.Status.Items) > 0 {
			t.Errorf("%s has status items: %+v", e.ref(), e.Status.Items)
		}
		if e.Metadata.UID == "" || e.Metadata.Etag == "" {
			t.Errorf("%s lacks uid or etag: %+v", e.ref(), e.Metadata)
		}
		if _, orphan := e.Metadata.Annotations["backstage.io/orphan"]; orphan {
			t.Errorf("%s is marked as an orphan", e.ref())
		}
	}
	// Counted by hand from the files under examples/ (all.yaml and the
	// generated root Location are the two Locations).
	wantCounts := map[string]int{
		"Location": 2, "Group": 10, "User": 12, "Domain": 3, "System": 5,
		"Component": 13, "API": 4, "Resource": 10, "Template": 3,
	}
	if diff := cmp.Diff(wantCounts, counts); diff != "" {
		t.Errorf("entities per kind (-want +got):\n%s", diff)
	}

	t.Run("relations from both ends", func(t *testing.T) {
		tests := []struct {
			name                string
			from, fwd, to, back string
		}{
			{"ownedBy", "component:default/shipment-service", "ownedBy", "group:default/shipping-team", "ownerOf"},
			{"ownedBy api", "api:default/route-planner-api", "ownedBy", "group:default/routing-team", "ownerOf"},
			{"ownedBy resource", "resource:default/shipments-db", "ownedBy", "group:default/infrastructure-team", "ownerOf"},
			{"ownedBy system", "system:default/shipment-tracking", "ownedBy", "group:default/shipping-team", "ownerOf"},
			{"ownedBy domain", "domain:default/logistics", "ownedBy", "group:default/engineering", "ownerOf"},
			{"ownedBy template", "template:default/go-service", "ownedBy", "group:default/devex-team", "ownerOf"},
			{"partOf system", "component:default/shipment-service", "partOf", "system:default/shipment-tracking", "hasPart"},
			{"partOf system api", "api:default/shipments-api", "partOf", "system:default/shipment-tracking", "hasPart"},
			{"partOf system resource", "resource:default/warehouse-db", "partOf", "system:default/analytics-platform", "hasPart"},
			{"partOf domain", "system:default/route-planning", "partOf", "domain:default/logistics", "hasPart"},
			{"subcomponentOf", "component:default/label-renderer", "partOf", "component:default/shipment-service", "hasPart"},
			{"dependsOn resource", "component:default/shipment-service", "dependsOn", "resource:default/shipments-db", "dependencyOf"},
			{"dependsOn component", "component:default/ops-dashboard", "dependsOn", "component:default/analytics-ingest", "dependencyOf"},
			{"resource dependsOn", "resource:default/shipment-events-topic", "dependsOn", "resource:default/event-bus", "dependencyOf"},
			{"providesApi", "component:default/customer-gateway", "providesApi", "api:default/customer-graphql-api", "apiProvidedBy"},
			{"consumesApi", "component:default/eta-predictor", "consumesApi", "api:default/route-planner-api", "apiConsumedBy"},
			{"memberOf", "user:default/fatima-haddad", "memberOf", "group:default/devex-team", "hasMember"},
			{"memberOf second", "user:default/fatima-haddad", "memberOf", "group:default/infrastructure-team", "hasMember"},
			{"childOf", "group:default/shipping-team", "childOf", "group:default/engineering", "parentOf"},
			{"childOf root", "group:default/data", "childOf", "group:default/acme-logistics", "parentOf"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				from, ok := byRef[tt.from]
				if !ok {
					t.Fatalf("%s missing", tt.from)
				}
				to, ok := byRef[tt.to]
				if !ok {
					t.Fatalf("%s missing", tt.to)
				}
				if !from.hasRelation(tt.fwd, tt.to) {
					t.Errorf("%s lacks %s %s; has %v", tt.from, tt.fwd, tt.to, from.Relations)
				}
				if !to.hasRelation(tt.back, tt.from) {
					t.Errorf("%s lacks %s %s; has %v", tt.to, tt.back, tt.from, to.Relations)
				}
			})
		}
	})

	t.Run("relations sorted and deduplicated", func(t *testing.T) {
		for _, e := range all {
			got := append([]relation(nil), e.Relations...)
			sorted := append([]relation(nil), got...)
			sort.Slice(sorted, func(i, j int) bool {
				if sorted[i].Type != sorted[j].Type {
					return sorted[i].Type < sorted[j].Type
				}
				return sorted[i].TargetRef < sorted[j].TargetRef
			})
			sorted = slices.Compact(sorted)
			if diff := cmp.Diff(sorted, got); diff != "" {
				t.Errorf("%s relations not sorted/deduplicated (-want +got):\n%s", e.ref(), diff)
			}
		}
	})

	t.Run("by-name", func(t *testing.T) {
		var e testEntity
		getJSON(t, srv, "/api/catalog/entities/by-name/Component/default/Shipment-Service", &e)
		if e.ref() != "component:default/shipment-service" {
			t.Errorf("got %s", e.ref())
		}
		loc := e.Metadata.Annotations["backstage.io/managed-by-location"]
		want := "file:" + filepath.Join(examplesDir(t), "components", "shipment-tracking.yaml")
		if abs, _ := filepath.Abs(strings.TrimPrefix(want, "file:")); loc != "file:"+abs {
			t.Errorf("managed-by-location = %q, want %q", loc, "file:"+abs)
		}
		code, _ := do(t, srv, http.MethodGet, "/api/catalog/entities/by-name/component/default/nope", "")
		if code != http.StatusNotFound {
			t.Errorf("missing entity: status %d, want 404", code)
		}
	})

	t.Run("by-uid", func(t *testing.T) {
		want := byRef["api:default/shipments-api"]
		var e testEntity
		getJSON(t, srv, "/api/catalog/entities/by-uid/"+want.Metadata.UID, &e)
		if e.ref() != want.ref() || e.Metadata.Etag != want.Metadata.Etag {
			t.Errorf("by-uid got %s (etag %s), want %s (etag %s)", e.ref(), e.Metadata.Etag, want.ref(), want.Metadata.Etag)
		}
	})

	t.Run("filters", func(t *testing.T) {
		tests := []struct {
			name   string
			filter string
			want   []string
		}{
			{"owned by team", "relations.ownedby=group:default/routing-team", []string{
				"api:default/route-planner-api", "component:default/eta-predictor", "component:default/geo-toolkit",
				"component:default/route-planner", "resource:default/eta-model-bucket", "system:default/route-planning",
			}},
			{"kind and type", "kind=component,spec.type=library", []string{
				"component:default/acme-ui-kit", "component:default/geo-toolkit", "component:default/go-service-kit",
			}},
			{"or of sets", "kind=domain&filter=kind=template", []string{
				"domain:default/customer-experience", "domain:default/logistics", "domain:default/platform-foundations",
				"template:default/docs-site", "template:default/event-consumer", "template:default/go-service",
			}},
			{"tag item", "metadata.tags.postgis", []string{"component:default/route-planner", "resource:default/road-network-db"}},
			{"case-insensitive", "KIND=Api,spec.lifecycle=PRODUCTION,metadata.tags=kafka", []string{"api:default/shipment-events-api"}},
			{"member of", "relations.memberof=group:default/devex-team", []string{"user:default/fatima-haddad", "user:default/oskar-lindqvist"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var got []testEntity
				getJSON(t, srv, "/api/catalog/entities?filter="+strings.ReplaceAll(url.QueryEscape(tt.filter), "%26filter%3D", "&filter="), &got)
				var refs []string
				for _, e := range got {
					refs = append(refs, e.ref())
				}
				sort.Strings(refs)
				if diff := cmp.Diff(tt.want, refs); diff != "" {
					t.Errorf("filter %s (-want +got):\n%s", tt.filter, diff)
				}
			})
		}
	})

	t.Run("fields projection", func(t *testing.T) {
		var got []map[string]any
		getJSON(t, srv, "/api/catalog/entities?filter=kind=domain&fields=kind,metadata.name&order=asc:metadata.name", &got)
		want := []map[string]any{
			{"kind": "Domain", "metadata": map[string]any{"name": "customer-experience"}},
			{"kind": "Domain", "metadata": map[string]any{"name": "logistics"}},
			{"kind": "Domain", "metadata": map[string]any{"name": "platform-foundations"}},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("projection (-want +got):\n%s", diff)
		}
	})

	t.Run("paged entities", func(t *testing.T) {
		seen := map[string]bool{}
		next := "/api/catalog/entities?filter=kind=user&limit=5"
		var pages int
		var order []string
		for next != "" && pages < 10 {
			pages++
			resp, err := srv.Client().Get(srv.URL + next)
			if err != nil {
				t.Fatal(err)
			}
			var got []testEntity
			err = json.NewDecoder(resp.Body).Decode(&got)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: %d %v", next, resp.StatusCode, err)
			}
			for _, e := range got {
				if seen[e.ref()] {
					t.Errorf("%s on two pages", e.ref())
				}
				seen[e.ref()] = true
				order = append(order, e.ref())
			}
			next = ""
			if link := resp.Header.Get("Link"); link != "" {
				// </entities?...>; rel="next", relative to the plugin base.
				u := strings.TrimSuffix(strings.TrimPrefix(link, "<"), `>; rel="next"`)
				next = "/api/catalog" + u
			}
		}
		if pages != 3 || len(seen) != 12 {
			t.Errorf("got %d users over %d pages, want 12 over 3", len(seen), pages)
		}
		if !slices.IsSorted(order) {
			t.Errorf("paged /entities not sorted by ref: %v", order)
		}
	})
}

// byQueryPage is the body of by-query answers.
type byQueryPage struct {
	Items      []testEntity `json:"items"`
	TotalItems int          `json:"totalItems"`
	PageInfo   struct {
		NextCursor string `json:"nextCursor"`
		PrevCursor string `json:"prevCursor"`
	} `json:"pageInfo"`
}

// TestExampleCatalogByQueryPaging pages by-query results with cursors.
//
// KNOWN BUG (fails until fixed): every cursor request that has an order
// field answers 500 "query entities: missing argument with index N":
// store.keyset (internal/store/query.go) writes the placeholder returned by
// one b.arg call twice into the SQL, so the statement has more "?" than
// arguments. See also store.TestQueryEntitiesKeyset. With keyset patched
// (on a copy of the tree) this test passes.
func TestExampleCatalogByQueryPaging(t *testing.T) {
	_, srv := exampleApp(t)
	tests := []struct {
		name  string
		query string
		limit int
		want  []string // refs in order
	}{
		{
			name:  "resources by name desc",
			query: "filter=kind=resource&orderField=metadata.name,desc",
			limit: 3,
			want: []string{"warehouse-db", "shipments-db", "shipment-events-topic", "session-cache", "road-network-db",
				"raw-events-bucket", "notification-queue", "label-archive-bucket", "event-bus", "eta-model-bucket"},
		},
		{
			name:  "components by name asc",
			query: "filter=kind=component&orderField=metadata.name,asc",
			limit: 4,
			want: []string{"acme-ui-kit", "analytics-ingest", "customer-gateway", "customer-web", "eta-predictor",
				"geo-toolkit", "go-service-kit", "label-renderer", "legacy-tracking-page", "ops-dashboard",
				"route-planner", "shipment-service", "tracking-notifier"},
		},
		{
			// Many entities share the order value: ties break on id, and no
			// page boundary may drop or repeat one of them.
			name:  "ties on spec.type",
			query: "filter=kind=component&orderField=spec.type,asc",
			limit: 2,
		},
		{
			name:  "no order field, sort by id",
			query: "filter=kind=group",
			limit: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var pages []byQueryPage
			var first byQueryPage
			getJSON(t, srv, "/api/catalog/entities/by-query?"+tt.query+"&limit="+itoa(tt.limit), &first)
			pages = append(pages, first)
			for p := first; p.PageInfo.NextCursor != "" && len(pages) < 50; {
				var next byQueryPage
				getJSON(t, srv, "/api/catalog/entities/by-query?limit="+itoa(tt.limit)+"&cursor="+url.QueryEscape(p.PageInfo.NextCursor), &next)
				if next.PageInfo.PrevCursor == "" {
					t.Errorf("page %d has no prevCursor", len(pages)+1)
				}
				pages = append(pages, next)
				p = next
			}
			if first.PageInfo.PrevCursor != "" {
				t.Errorf("first page has a prevCursor")
			}
			var names []string
			seen := map[string]bool{}
			for i, p := range pages {
				if p.TotalItems != first.TotalItems {
					t.Errorf("page %d totalItems %d, first page %d", i+1, p.TotalItems, first.TotalItems)
				}
				if i < len(pages)-1 && len(p.Items) != tt.limit {
					t.Errorf("page %d has %d items, want %d", i+1, len(p.Items), tt.limit)
				}
				for _, e := range p.Items {
					if seen[e.ref()] {
						t.Errorf("%s appears twice", e.ref())
					}
					seen[e.ref()] = true
					names = append(names, e.Metadata.Name)
				}
			}
			if first.TotalItems != len(names) {
				t.Errorf("totalItems %d, but paging returned %d entities", first.TotalItems, len(names))
			}
			if tt.want != nil {
				if diff := cmp.Diff(tt.want, names); diff != "" {
					t.Errorf("order (-want +got):\n%s", diff)
				}
			}
			// Walking back from the last page with prevCursor gives the same
			// entities in the same order.
			var back []string
			last := pages[len(pages)-1]
			for p, n := last, 0; p.PageInfo.PrevCursor != "" && n < 50; n++ {
				var prev byQueryPage
				getJSON(t, srv, "/api/catalog/entities/by-query?limit="+itoa(tt.limit)+"&cursor="+url.QueryEscape(p.PageInfo.PrevCursor), &prev)
				var ns []string
				for _, e := range prev.Items {
					ns = append(ns, e.Metadata.Name)
				}
				back = append(ns, back...)
				p = prev
			}
			var lastNames []string
			for _, e := range last.Items {
				lastNames = append(lastNames, e.Metadata.Name)
			}
			if diff := cmp.Diff(names, append(back, lastNames...)); diff != "" {
				t.Errorf("walking back with prevCursor (-forward +backward):\n%s", diff)
			}
		})
	}

	t.Run("totals", func(t *testing.T) {
		var all byQueryPage
		getJSON(t, srv, "/api/catalog/entities/by-query?limit=1", &all)
		if all.TotalItems != 62 {
			t.Errorf("totalItems of everything = %d, want 62", all.TotalItems)
		}
		var ex byQueryPage
		getJSON(t, srv, "/api/catalog/entities/by-query?limit=1&totalItems=exclude", &ex)
		if ex.TotalItems != 0 {
			t.Errorf("totalItems=exclude gave %d, want 0", ex.TotalItems)
		}
		// Entities lacking the order field are left out of items and total.
		var sys byQueryPage
		getJSON(t, srv, "/api/catalog/entities/by-query?orderField=spec.domain", &sys)
		if sys.TotalItems != 5 || len(sys.Items) != 5 {
			t.Errorf("order by spec.domain: total %d, %d items; want the 5 systems", sys.TotalItems, len(sys.Items))
		}
	})

	t.Run("full text", func(t *testing.T) {
		var got byQueryPage
		getJSON(t, srv, "/api/catalog/entities/by-query?fullTextFilterTerm=SHIPMENT&fullTextFilterFields=metadata.name&orderField=metadata.name", &got)
		var names []string
		for _, e := range got.Items {
			names = append(names, e.Metadata.Name)
		}
		want := []string{"shipment-events-api", "shipment-events-topic", "shipment-service", "shipment-tracking", "shipments-api", "shipments-db"}
		if diff := cmp.Diff(want, names); diff != "" {
			t.Errorf("full text (-want +got):\n%s", diff)
		}
		if got.TotalItems != len(want) {
			t.Errorf("totalItems %d, want %d", got.TotalItems, len(want))
		}
	})

	t.Run("POST by-query", func(t *testing.T) {
		var got byQueryPage
		postJSON(t, srv, "/api/catalog/entities/by-query", `{"query":{"kind":"system","spec.domain":"domain:default/logistics"},
			"orderBy":[{"field":"metadata.name","order":"asc"}],"fields":["metadata.name"]}`, &got)
		var names []string
		for _, e := range got.Items {
			names = append(names, e.Metadata.Name)
		}
		if diff := cmp.Diff([]string{"route-planning", "shipment-tracking"}, names); diff != "" {
			t.Errorf("POST by-query (-want +got):\n%s", diff)
		}
	})
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestExampleCatalogFacets(t *testing.T) {
	_, srv := exampleApp(t)
	type facet struct {
		Value string `json:"value"`
		Count int    `json:"count"`
	}
	var got struct {
		Facets map[string][]facet `json:"facets"`
	}
	getJSON(t, srv, "/api/catalog/entity-facets?facet=kind&facet=spec.lifecycle&filter=kind=component", &got)
	want := map[string][]facet{
		"kind":           {{"Component", 13}},
		"spec.lifecycle": {{"deprecated", 1}, {"experimental", 3}, {"production", 9}},
	}
	if diff := cmp.Diff(want, got.Facets); diff != "" {
		t.Errorf("component facets (-want +got):\n%s", diff)
	}

	getJSON(t, srv, "/api/catalog/entity-facets?facet=kind", &got)
	wantKinds := []facet{{"API", 4}, {"Component", 13}, {"Domain", 3}, {"Group", 10}, {"Location", 2},
		{"Resource", 10}, {"System", 5}, {"Template", 3}, {"User", 12}}
	if diff := cmp.Diff(wantKinds, got.Facets["kind"]); diff != "" {
		t.Errorf("kind facet (-want +got):\n%s", diff)
	}

	var post struct {
		Facets map[string][]facet `json:"facets"`
	}
	postJSON(t, srv, "/api/catalog/entity-facets", `{"facets":["metadata.tags"],"query":{"kind":"resource"}}`, &post)
	wantTags := []facet{{"clickhouse", 1}, {"kafka", 2}, {"postgis", 1}, {"postgres", 2}, {"redis", 1}, {"s3", 3}, {"sqs", 1}}
	if diff := cmp.Diff(wantTags, post.Facets["metadata.tags"]); diff != "" {
		t.Errorf("tag facet (-want +got):\n%s", diff)
	}
}

func TestExampleCatalogByRefsAndAncestry(t *testing.T) {
	_, srv := exampleApp(t)
	var refs struct {
		Items []*testEntity `json:"items"`
	}
	postJSON(t, srv, "/api/catalog/entities/by-refs", `{"entityRefs":[
		"user:default/noah-kim", "component:default/missing", "api:default/shipments-api",
		"group:shipping-team", "Component:Default/Label-Renderer", "user:default/noah-kim"]}`, &refs)
	var got []string
	for _, e := range refs.Items {
		if e == nil {
			got = append(got, "null")
			continue
		}
		got = append(got, e.ref())
	}
	want := []string{"user:default/noah-kim", "null", "api:default/shipments-api", "null",
		"component:default/label-renderer", "user:default/noah-kim"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("by-refs (-want +got):\n%s", diff)
	}

	var anc struct {
		RootEntityRef string `json:"rootEntityRef"`
		Items         []struct {
			Entity           testEntity `json:"entity"`
			ParentEntityRefs []string   `json:"parentEntityRefs"`
		} `json:"items"`
	}
	getJSON(t, srv, "/api/catalog/entities/by-name/component/default/label-renderer/ancestry", &anc)
	if anc.RootEntityRef != "component:default/label-renderer" {
		t.Errorf("rootEntityRef = %q", anc.RootEntityRef)
	}
	var chain []string
	var parents [][]string
	for _, it := range anc.Items {
		chain = append(chain, it.Entity.ref())
		parents = append(parents, it.ParentEntityRefs)
	}
	if len(chain) != 3 {
		t.Fatalf("ancestry = %v, want the component, acme-logistics and the generated root", chain)
	}
	root := chain[2]
	wantChain := []string{"component:default/label-renderer", "location:default/acme-logistics", root}
	if diff := cmp.Diff(wantChain, chain); diff != "" {
		t.Errorf("ancestry (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(root, "location:default/generated-") {
		t.Errorf("root of the ancestry is %s, want the generated location", root)
	}
	wantParents := [][]string{{"location:default/acme-logistics"}, {root}, {}}
	if diff := cmp.Diff(wantParents, parents); diff != "" {
		t.Errorf("ancestry parents (-want +got):\n%s", diff)
	}
}

func TestHealthAndReadiness(t *testing.T) {
	_, srv := exampleApp(t)
	for _, path := range []string{"/healthz", "/readyz", "/"} {
		code, body := do(t, srv, http.MethodGet, path, "")
		if code != http.StatusOK || len(bytes.TrimSpace(body)) == 0 {
			t.Errorf("GET %s = %d %q", path, code, body)
		}
	}
	code, body := do(t, srv, http.MethodGet, "/api/catalog/nope", "")
	if code != http.StatusNotFound || !bytes.Contains(body, []byte(`"NotFoundError"`)) {
		t.Errorf("unknown API route = %d %s", code, body)
	}
}

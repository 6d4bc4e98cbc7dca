package app_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/atrium-dev/atrium/internal/app"
	"github.com/atrium-dev/atrium/internal/catalog"
	"github.com/atrium-dev/atrium/internal/config"
	"github.com/atrium-dev/atrium/internal/store/storetest"
)

// TestPostgresAnswersLikeSQLite serves the example catalog from SQLite and
// from PostgreSQL and checks that the catalog API answers the same on
// both, byte for byte once uids and etags (random per database) are masked.
func TestPostgresAnswersLikeSQLite(t *testing.T) {
	pgURL := storetest.PostgresURL(t)
	_, lite := exampleApp(t)
	_, pg := exampleAppOn(t, config.Database{Client: config.ClientPostgres, Connection: config.DatabaseConnection{String: pgURL}})

	// Random per database: uids, etags, and cursors (which carry ids).
	mask := regexp.MustCompile(`"(uid|etag|nextCursor|prevCursor)":"[^"]*"`)
	get := func(srv *httptest.Server, path string) (int, string) {
		t.Helper()
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res.StatusCode, mask.ReplaceAllString(string(body), `"$1":"*"`)
	}
	for _, path := range []string{
		"/api/catalog/entities",
		"/api/catalog/entities?filter=kind=component&order=asc:metadata.name",
		"/api/catalog/entities?filter=kind=component,spec.type=service&fields=metadata.name,spec.owner",
		"/api/catalog/entities?filter=relations.ownedBy=group:default/platform",
		"/api/catalog/entities?filter=metadata.tags=go&filter=kind=api&order=desc:metadata.name&limit=3&offset=1",
		"/api/catalog/entities/by-query?filter=kind=component&limit=4&orderField=metadata.name,desc",
		"/api/catalog/entities/by-query?fullTextFilterTerm=order&fullTextFilterFields=metadata.name,metadata.description",
		"/api/catalog/entities/by-query?filter=kind=user&orderField=spec.profile.displayName,asc",
		"/api/catalog/entity-facets?facet=kind&facet=spec.type&facet=metadata.tags&facet=relations.ownedBy",
		"/api/catalog/entity-facets?facet=spec.lifecycle&filter=kind=component",
		"/api/catalog/entities/by-name/component/default/does-not-exist",
		"/api/catalog/entities?filter=bad==",
	} {
		t.Run(path, func(t *testing.T) {
			wantCode, want := get(lite, path)
			gotCode, got := get(pg, path)
			if gotCode != wantCode {
				t.Errorf("status %d on PostgreSQL, %d on SQLite", gotCode, wantCode)
			}
			if diff := cmp.Diff(jsonValue(t, want), jsonValue(t, got)); diff != "" {
				t.Errorf("PostgreSQL answers differently (-sqlite +postgres):\n%s", diff)
			}
		})
	}
}

func jsonValue(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("not JSON: %v: %s", err, s)
	}
	return v
}

// TestCatalogChangesReachOtherReplicas ingests on one replica and expects
// the other, sharing the PostgreSQL database, to hear of the change.
func TestCatalogChangesReachOtherReplicas(t *testing.T) {
	pgURL := storetest.PostgresURL(t)
	ctx := context.Background()
	newApp := func() *app.App {
		cfg := config.Default()
		cfg.Backend.Database = config.Database{Client: config.ClientPostgres, Connection: config.DatabaseConnection{String: pgURL}}
		cfg.Catalog.Locations[0].Target = filepath.Join(examplesDir(t), "all.yaml")
		cfg.TechDocs.Publisher.Local.PublishDirectory = filepath.Join(t.TempDir(), "techdocs")
		cfg.Scaffolder.LocalGit.Directory = filepath.Join(t.TempDir(), "git")
		a, err := app.New(ctx, cfg, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close() })
		return a
	}
	writer, reader := newApp(), newApp()
	sub := reader.Events.Subscribe(catalog.TopicEntitiesChanged)
	defer sub.Close()
	if err := writer.Catalog.SyncConfigLocations(ctx); err != nil {
		t.Fatal(err)
	}
	if err := writer.Catalog.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-sub.Events():
		if e.Lost || e.Origin == reader.Events.Origin() {
			t.Errorf("got %+v, want a change from the other replica", e)
		}
		var payload struct{ Count int }
		if err := json.Unmarshal(e.Payload, &payload); err != nil || payload.Count <= 0 {
			t.Errorf("payload %s: want a positive count (%v)", e.Payload, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no change event reached the other replica within 10 s")
	}
}

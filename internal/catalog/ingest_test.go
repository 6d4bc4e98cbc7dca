package catalog_test

import (
	"context"
	"crypto/sha1"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/atrium-dev/atrium/internal/catalog"
	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/catalog/source"
	"github.com/atrium-dev/atrium/internal/derrors"
	"github.com/atrium-dev/atrium/internal/store"
	"github.com/atrium-dev/atrium/internal/store/storetest"
)

// clock is a fake store clock that tests move forward by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// urlReader adapts source.URLReader to catalog.Reader, as the app does.
type urlReader struct{ r *source.URLReader }

func (u urlReader) Read(ctx context.Context, target string) ([]source.File, error) {
	f, err := u.r.Read(ctx, target)
	if err != nil {
		return nil, err
	}
	return []source.File{f}, nil
}

// allKinds allows every built-in kind from every location.
var allKinds = []catalog.Rule{{Allow: catalog.Kinds("Component", "API", "System", "Domain", "Resource",
	"Location", "User", "Group", "Template")}}

// env is a catalog service over a real store (a temporary SQLite file or
// PostgreSQL schema), with a fake clock and a folder for catalog files.
type env struct {
	t     *testing.T
	dir   string  // catalog files
	db    *sql.DB // the store's database, for checks below the service
	clock *clock
	st    *store.Store
	svc   *catalog.Service
	opts  catalog.Options
}

// newEnv opens a store and builds a service. Readers default to file and
// url (private addresses allowed, for httptest); Rules default to allKinds.
func newEnv(t *testing.T, eng storetest.Engine, opts catalog.Options) *env {
	t.Helper()
	return newEnvWith(t, eng, opts, false)
}

// newEnvWith is newEnv, with the audit log off if noAudit.
func newEnvWith(t *testing.T, eng storetest.Engine, opts catalog.Options, noAudit bool) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), clock: &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}}
	ctx := context.Background()
	var st *store.Store
	var err error
	if eng == storetest.Postgres {
		url := storetest.PostgresURL(t)
		st, err = store.OpenPostgres(ctx, url, store.Options{Now: e.clock.Now, DisableAudit: noAudit})
		if err == nil {
			e.db, err = sql.Open("pgx", url)
		}
	} else {
		path := storetest.SQLitePath(t)
		st, err = store.Open(ctx, path, store.Options{Now: e.clock.Now, DisableAudit: noAudit})
		if err == nil {
			e.db, err = sql.Open("sqlite", "file:"+path+"?mode=ro")
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		e.db.Close()
		st.Close()
	})
	e.st = st
	if opts.Readers == nil {
		opts.Readers = map[string]catalog.Reader{
			"file": &source.FileReader{},
			"url":  urlReader{&source.URLReader{AllowPrivate: true}},
		}
	}
	if opts.Rules == nil {
		opts.Rules = allKinds
	}
	e.opts = opts
	e.svc = catalog.New(st, opts)
	return e
}

// withLocations rebuilds the service over the same store with other
// configured locations, and loads them.
func (e *env) withLocations(locs ...catalog.ConfigLocation) {
	e.t.Helper()
	opts := e.opts
	opts.Locations = locs
	e.opts = opts
	e.svc = catalog.New(e.st, opts)
	if err := e.svc.SyncConfigLocations(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) path(name string) string { return filepath.Join(e.dir, name) }

func (e *env) write(name, content string) string {
	e.t.Helper()
	p := e.path(name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *env) sync() {
	e.t.Helper()
	if err := e.svc.Sync(context.Background()); err != nil {
		e.t.Fatalf("Sync: %v", err)
	}
}

// resync makes every entity due (past the longest processing interval)
// and runs ingestion to completion.
func (e *env) resync() {
	e.t.Helper()
	e.clock.Advance(10 * time.Minute)
	e.sync()
}

// get returns the served entity, or nil if there is none.
func (e *env) get(ref string) *entity.Entity {
	e.t.Helper()
	r, err := entity.ParseRef(ref, entity.RefDefaults{})
	if err != nil {
		e.t.Fatal(err)
	}
	body, err := e.svc.EntityByRef(context.Background(), r)
	if errors.Is(err, derrors.ErrNotFound) {
		return nil
	}
	if err != nil {
		e.t.Fatal(err)
	}
	var ent entity.Entity
	if err := json.Unmarshal(body, &ent); err != nil {
		e.t.Fatal(err)
	}
	return &ent
}

func (e *env) mustGet(ref string) *entity.Entity {
	e.t.Helper()
	ent := e.get(ref)
	if ent == nil {
		e.t.Fatalf("%s is not served", ref)
	}
	return ent
}

// all returns every served entity by ref key.
func (e *env) all() map[string]*entity.Entity {
	e.t.Helper()
	page, err := e.svc.QueryEntities(context.Background(), catalog.Query{Limit: -1})
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]*entity.Entity{}
	for _, b := range page.Items {
		var ent entity.Entity
		if err := json.Unmarshal(b, &ent); err != nil {
			e.t.Fatal(err)
		}
		out[ent.Ref().Key()] = &ent
	}
	return out
}

// rootRef is the ref of the generated Location entity of a root location.
func rootRef(typ, target string) string {
	sum := sha1.Sum([]byte(typ + ":" + target))
	return "location:default/generated-" + hex.EncodeToString(sum[:])
}

// fileRoot configures one file location and returns its root entity ref.
func (e *env) fileRoot(name string) string {
	e.t.Helper()
	p := e.path(name)
	e.withLocations(catalog.ConfigLocation{Type: "file", Target: p})
	return rootRef("file", p)
}

func statusItems(ent *entity.Entity) []entity.StatusItem {
	if ent == nil || ent.Status == nil {
		return nil
	}
	return ent.Status.Items
}

// findStatus returns the first status item whose message contains all of subs.
func findStatus(ent *entity.Entity, subs ...string) *entity.StatusItem {
	for i, it := range statusItems(ent) {
		ok := true
		for _, s := range subs {
			if !strings.Contains(it.Message, s) {
				ok = false
			}
		}
		if ok {
			return &statusItems(ent)[i]
		}
	}
	return nil
}

func component(name, owner, description string) string {
	s := fmt.Sprintf("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: %s\n", name)
	if description != "" {
		s += "  description: " + description + "\n"
	}
	s += "spec:\n  type: service\n  lifecycle: production\n"
	if owner != "" {
		s += "  owner: " + owner + "\n"
	}
	return s
}

func TestBrokenYAMLKeepsLastGoodEntities(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng, catalog.Options{})
		file := e.write("catalog.yaml", component("a", "team-a", "first")+"---\n"+component("b", "team-a", "first"))
		root := e.fileRoot("catalog.yaml")
		e.sync()
		a, b := e.mustGet("component:default/a"), e.mustGet("component:default/b")
		if items := statusItems(e.mustGet(root)); len(items) > 0 {
			t.Fatalf("root location has status items on a good file: %+v", items)
		}

		// Line 5 opens a flow sequence that is never closed.
		e.write("catalog.yaml", "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: a\n  tags: [go, kafka\nspec:\n  type: service\n")
		e.resync()
		for _, want := range []*entity.Entity{a, b} {
			got := e.mustGet(want.Ref().Key())
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s changed after a broken file (-before +after):\n%s", want.Ref(), diff)
			}
		}
		loc := e.mustGet(root)
		if it := findStatus(loc, file+":"); it == nil || it.Level != "error" {
			t.Errorf("root location status = %+v, want an error naming %s with a line", statusItems(loc), file)
		} else if !strings.Contains(it.Message, file+":5:") && !strings.Contains(it.Message, file+":6:") {
			t.Errorf("status %q does not point at line 5 or 6", it.Message)
		}

		// Fixing the file recovers.
		e.write("catalog.yaml", component("a", "team-a", "fixed"))
		e.resync()
		if got := e.mustGet("component:default/a"); got.Metadata.Description != "fixed" {
			t.Errorf("after the fix a has description %q, want fixed", got.Metadata.Description)
		}
		if items := statusItems(e.mustGet(root)); len(items) > 0 {
			t.Errorf("root location still has status items after the fix: %+v", items)
		}
		if e.get("component:default/b") != nil {
			t.Errorf("b, removed by the fix, is still served (orphanStrategy delete)")
		}
	})
}

func TestEntityBecomingInvalidKeepsLastValidVersion(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng, catalog.Options{})
		file := e.write("catalog.yaml", component("a", "team-a", "valid"))
		root := e.fileRoot("catalog.yaml")
		e.sync()
		before := e.mustGet("component:default/a")

		// spec.owner removed and the description changed: lines 1-8, spec on 6.
		e.write("catalog.yaml", component("a", "", "invalid"))
		e.resync()
		got := e.mustGet("component:default/a")
		if got.Metadata.Description != "valid" || got.SpecString("owner") != "team-a" {
			t.Errorf("served version is %q owned by %q, want the last valid one", got.Metadata.Description, got.SpecString("owner"))
		}
		if got.Metadata.UID != before.Metadata.UID {
			t.Errorf("uid changed from %s to %s", before.Metadata.UID, got.Metadata.UID)
		}
		it := findStatus(got, file+":", "spec.owner")
		if it == nil || it.Level != "error" {
			t.Fatalf("a's status = %+v, want an error with %s:line:col and spec.owner", statusItems(got), file)
		}
		// A missing field is reported at its parent's key: "spec:" on line 6.
		if !strings.Contains(it.Message, file+":6:1:") {
			t.Errorf("status %q does not point at spec (6:1)", it.Message)
		}
		loc := e.mustGet(root)
		if w := findStatus(loc, "component:default/a", file+":"); w == nil || w.Level != "warning" {
			t.Errorf("root location status = %+v, want a warning about a", statusItems(loc))
		}

		e.write("catalog.yaml", component("a", "team-b", "valid again"))
		e.resync()
		got = e.mustGet("component:default/a")
		if got.SpecString("owner") != "team-b" || len(statusItems(got)) > 0 {
			t.Errorf("after the fix: owner %q, status %+v", got.SpecString("owner"), statusItems(got))
		}
		if items := statusItems(e.mustGet(root)); len(items) > 0 {
			t.Errorf("root location still warns after the fix: %+v", items)
		}
	})
}

func TestNewInvalidEntityIsNotServed(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng, catalog.Options{})
		// The second document (line 10 on) is a Component without an owner.
		file := e.write("catalog.yaml", component("good", "team-a", "")+"---\n"+component("bad", "", ""))
		root := e.fileRoot("catalog.yaml")
		e.sync()
		e.mustGet("component:default/good")
		if got := e.get("component:default/bad"); got != nil {
			t.Errorf("invalid new entity is served: %+v", got)
		}
		loc := e.mustGet(root)
		// spec: of the second document is on line 14.
		it := findStatus(loc, "component:default/bad", file+":", "owner")
		if it == nil {
			t.Fatalf("root location status = %+v, want the problem with %s:line:col", statusItems(loc), file)
		}
		if !strings.Contains(it.Message, file+":14:1:") {
			t.Errorf("status %q does not point at spec (14:1)", it.Message)
		}
	})
}

func TestConflictFirstLocationKeepsEntity(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng, catalog.Options{})
		first := e.write("first.yaml", component("shared", "team-a", "from first"))
		second := e.write("second.yaml", component("shared", "team-b", "from second")+"---\n"+component("other", "team-b", ""))
		e.withLocations(catalog.ConfigLocation{Type: "file", Target: first})
		e.sync()
		e.withLocations(catalog.ConfigLocation{Type: "file", Target: first}, catalog.ConfigLocation{Type: "file", Target: second})
		e.sync()
		e.resync() // and it stays that way on later refreshes

		got := e.mustGet("component:default/shared")
		if loc := got.Annotation(entity.AnnotationManagedByLocation); loc != "file:"+first {
			t.Errorf("managed-by-location = %q, want file:%s", loc, first)
		}
		if got.Metadata.Description != "from first" {
			t.Errorf("description = %q, want the first location's", got.Metadata.Description)
		}
		e.mustGet("component:default/other")
		loser := e.mustGet(rootRef("file", second))
		it := findStatus(loser, "component:default/shared")
		if it == nil || it.Error == nil || it.Error.Name != "ConflictError" {
			t.Errorf("losing location status = %+v, want a ConflictError about component:default/shared", statusItems(loser))
		}
		if items := statusItems(e.mustGet(rootRef("file", first))); len(items) > 0 {
			t.Errorf("winning location has status items: %+v", items)
		}
	})
}

func TestOrphans(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		tests := []struct {
			name     string
			strategy string
			wantKept bool
		}{
			{"delete", "delete", false},
			{"default is delete", "", false},
			{"keep", "keep", true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e := newEnv(t, eng, catalog.Options{OrphanStrategy: tt.strategy})
				e.write("catalog.yaml", component("a", "team-a", "")+"---\n"+component("b", "team-a", ""))
				e.fileRoot("catalog.yaml")
				e.sync()
				e.mustGet("component:default/b")

				e.write("catalog.yaml", component("a", "team-a", ""))
				e.resync()
				a := e.mustGet("component:default/a")
				if _, ok := a.Metadata.Annotations[entity.AnnotationOrphan]; ok {
					t.Errorf("a, still emitted, is marked orphan")
				}
				b := e.get("component:default/b")
				if !tt.wantKept {
					if b != nil {
						t.Errorf("b is still served: %+v", b.Metadata)
					}
					return
				}
				if b == nil {
					t.Fatal("b is gone with orphanStrategy keep")
				}
				if got := b.Annotation(entity.AnnotationOrphan); got != "true" {
					t.Errorf("b's %s = %q, want \"true\"", entity.AnnotationOrphan, got)
				}
				// Emitting it again clears the mark.
				//
				// KNOWN BUG (fails until fixed): it does not.
				// store.writer.replaceChildren (internal/store/processing.go)
				// queues a stitch only for children the parent stopped
				// emitting, not for children it starts emitting again; b's own
				// processing result is unchanged, so nothing re-stitches it and
				// the stale orphan mark stays for ever.
				e.write("catalog.yaml", component("a", "team-a", "")+"---\n"+component("b", "team-a", ""))
				e.resync()
				if got := e.mustGet("component:default/b").Annotation(entity.AnnotationOrphan); got != "" {
					t.Errorf("b re-emitted still has orphan annotation %q", got)
				}
			})
		}
	})
}

// dbRow is what one final entity row looks like on disk.
type dbRow struct {
	Hash        string
	LastUpdated int64
}

// finalRows reads final_entities straight from the SQLite file.
func finalRows(t *testing.T, db *sql.DB) map[string]dbRow {
	t.Helper()
	rows, err := db.Query(`SELECT entity_ref, hash, last_updated_at FROM final_entities`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]dbRow{}
	for rows.Next() {
		var ref string
		var r dbRow
		if err := rows.Scan(&ref, &r.Hash, &r.LastUpdated); err != nil {
			t.Fatal(err)
		}
		out[ref] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

type processedRow struct{ unprocessed, processed, resultHash string }

// processedRows reads refresh_state's inputs and results of the entities
// that are not Locations (a Location's result holds its read time).
func processedRows(t *testing.T, db *sql.DB) map[string]processedRow {
	t.Helper()
	rows, err := db.Query(`SELECT entity_ref, unprocessed_entity, processed_entity, result_hash FROM refresh_state
		WHERE entity_ref NOT LIKE 'location:%'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]processedRow{}
	for rows.Next() {
		var ref string
		var r processedRow
		if err := rows.Scan(&ref, &r.unprocessed, &r.processed, &r.resultHash); err != nil {
			t.Fatal(err)
		}
		out[ref] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func countRows(t *testing.T, db *sql.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestUnchangedInputWritesNothing(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng, catalog.Options{})
		e.write("catalog.yaml", `apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: nested
spec:
  targets: [./org.yaml, ./components.yaml]
`)
		e.write("org.yaml", `apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-a
spec:
  type: team
  children: []
  members: [alice]
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata:
  name: alice
spec:
  memberOf: [team-a]
`)
		e.write("components.yaml", component("a", "team-a", "")+"---\n"+component("b", "team-a", "")+`  dependsOn: [component:default/a]
  providesApis: [y, x]
`)
		e.fileRoot("catalog.yaml")
		e.sync()
		before := e.all()
		rowsBefore := finalRows(t, e.db)
		stateBefore := processedRows(t, e.db)
		// Processed as they were read, with their ref arrays sorted: the
		// stored input is the processed entity itself, stored once.
		if b := stateBefore["component:default/b"]; b.processed != "" || !strings.Contains(b.unprocessed, `"providesApis":["x","y"]`) {
			t.Errorf("component b: unprocessed %s, processed %q; want providesApis sorted, and processed empty (the same)", b.unprocessed, b.processed)
		}
		searchBefore := countRows(t, e.db, "search")
		if len(before) != 6 || len(rowsBefore) != 6 {
			t.Fatalf("served %d entities (%d rows), want 6", len(before), len(rowsBefore))
		}

		for round := range 3 {
			e.clock.Advance(10 * time.Minute)
			if due, _, err := e.st.Pending(context.Background()); err != nil || due != 6 {
				t.Fatalf("round %d: %d entities due (err %v), want all 6", round, due, err)
			}
			e.sync()
			after := e.all()
			etags := func(m map[string]*entity.Entity) map[string]string {
				out := map[string]string{}
				for k, v := range m {
					out[k] = v.Metadata.Etag
				}
				return out
			}
			if diff := cmp.Diff(etags(before), etags(after)); diff != "" {
				t.Errorf("round %d: etags changed (-before +after):\n%s", round, diff)
			}
			if diff := cmp.Diff(before, after); diff != "" {
				t.Errorf("round %d: entities changed (-before +after):\n%s", round, diff)
			}
			if diff := cmp.Diff(rowsBefore, finalRows(t, e.db)); diff != "" {
				t.Errorf("round %d: final_entities rows rewritten (-before +after):\n%s", round, diff)
			}
			if n := countRows(t, e.db, "search"); n != searchBefore {
				t.Errorf("round %d: search has %d rows, had %d", round, n, searchBefore)
			}
			// Reprocessed from their stored input, entities come out the
			// same as when their location emitted them.
			if diff := cmp.Diff(stateBefore, processedRows(t, e.db), cmp.AllowUnexported(processedRow{})); diff != "" {
				t.Errorf("round %d: refresh_state changed (-before +after):\n%s", round, diff)
			}
		}

		// Refresh of the root alone also writes nothing.
		r, _ := entity.ParseRef(rootRef("file", e.path("catalog.yaml")), entity.RefDefaults{})
		if err := e.svc.Refresh(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		e.sync()
		if diff := cmp.Diff(rowsBefore, finalRows(t, e.db)); diff != "" {
			t.Errorf("after Refresh: final_entities rows rewritten (-before +after):\n%s", diff)
		}
	})
}

func TestRulesNotAllowedKeepsLastGoodChildren(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng, catalog.Options{Rules: catalog.DefaultRules}) // Component, API, Location
		file := e.write("catalog.yaml", component("a", "team-a", "first"))
		root := e.fileRoot("catalog.yaml")
		e.sync()
		e.mustGet("component:default/a")

		e.write("catalog.yaml", component("a", "team-a", "second")+`---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-a
spec:
  type: team
  children: []
`)
		e.resync()
		if got := e.mustGet("component:default/a"); got.Metadata.Description != "first" {
			t.Errorf("a's description = %q, want the last good %q", got.Metadata.Description, "first")
		}
		if e.get("group:default/team-a") != nil {
			t.Errorf("a Group was ingested although the rules do not allow it")
		}
		loc := e.mustGet(root)
		it := findStatus(loc, "group:default/team-a", file)
		if it == nil || it.Error == nil || it.Error.Name != "NotAllowedError" || it.Level != "error" {
			t.Errorf("root location status = %+v, want a NotAllowedError naming the group and file", statusItems(loc))
		}

		// A rule for this location only lets the group in.
		e.opts.Rules = []catalog.Rule{{Allow: catalog.Kinds("Component", "Location")}}
		e.withLocations(catalog.ConfigLocation{Type: "file", Target: file, Allow: []string{"Group"}})
		e.resync()
		e.mustGet("group:default/team-a")
		if got := e.mustGet("component:default/a"); got.Metadata.Description != "second" {
			t.Errorf("a's description = %q after the rule change, want second", got.Metadata.Description)
		}
	})
}

func TestMissingTarget(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng, catalog.Options{})
		file := e.write("catalog.yaml", component("a", "team-a", ""))
		root := e.fileRoot("catalog.yaml")
		e.sync()
		e.mustGet("component:default/a")

		// The file disappears: the location reports it and keeps its children.
		if err := os.Remove(file); err != nil {
			t.Fatal(err)
		}
		e.resync()
		loc := e.mustGet(root)
		it := findStatus(loc, file)
		if it == nil || it.Error == nil || it.Error.Name != "NotFoundError" || it.Level != "error" {
			t.Errorf("root location status = %+v, want a NotFoundError naming %s", statusItems(loc), file)
		}
		e.mustGet("component:default/a")

		// Location entities: a missing target of a required location (the
		// default) is an error once the location has been read before; with
		// presence: optional it is no error at all.
		e.write("catalog.yaml", `apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: required
spec:
  target: ./sometimes.yaml
---
apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: optional
spec:
  presence: optional
  targets: [./nope.yaml, ./there.yaml]
`)
		e.write("there.yaml", component("there", "team-a", ""))
		sometimes := e.write("sometimes.yaml", component("sometimes", "team-a", ""))
		e.resync()
		if items := statusItems(e.mustGet(root)); len(items) > 0 {
			t.Errorf("root location still has status items after the file came back: %+v", items)
		}
		opt := e.mustGet("location:default/optional")
		if items := statusItems(opt); len(items) > 0 {
			t.Errorf("optional location has status items: %+v", items)
		}
		e.mustGet("component:default/there")
		e.mustGet("component:default/sometimes")

		if err := os.Remove(sometimes); err != nil {
			t.Fatal(err)
		}
		e.resync()
		req := e.mustGet("location:default/required")
		if it := findStatus(req, sometimes); it == nil || it.Error == nil || it.Error.Name != "NotFoundError" {
			t.Errorf("required location status = %+v, want NotFoundError naming %s", statusItems(req), sometimes)
		}
		e.mustGet("component:default/sometimes")
	})
}

// TestFirstReadFailureIsVisible checks that a location whose target could
// never be read shows why.
//
// KNOWN BUG (fails until fixed): a Location entity whose very first read
// fails (missing file, unreachable URL) is never served, so its
// NotFoundError or connection error is stored in refresh_state.errors but
// visible nowhere: not through the API, not in the logs. process()
// (internal/catalog/process.go) returns OK=false for the read error, so
// WriteResults stores only errors, processed_entity stays NULL, and the
// stitcher skips entities never processed. A typo in a catalog.locations
// path is silent.
func TestFirstReadFailureIsVisible(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		closed := "http://" + ln.Addr().String() + "/catalog-info.yaml"
		ln.Close()

		tests := []struct {
			name     string
			typ      string
			target   func(e *env) string
			wantName string
			wantText func(target string) string
		}{
			{"missing file", "file", func(e *env) string { return e.path("missing.yaml") }, "NotFoundError",
				func(target string) string { return target }},
			{"closed port", "url", func(*env) string { return closed }, "", func(string) string { return ln.Addr().String() }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e := newEnv(t, eng, catalog.Options{})
				target := tt.target(e)
				e.withLocations(catalog.ConfigLocation{Type: tt.typ, Target: target})
				e.sync() // must not fail or panic
				loc := e.get(rootRef(tt.typ, target))
				if loc == nil {
					t.Fatalf("KNOWN BUG: the location %s:%s is not served, so its read error is visible nowhere", tt.typ, target)
				}
				it := findStatus(loc, tt.wantText(target))
				if it == nil || it.Level != "error" || (tt.wantName != "" && (it.Error == nil || it.Error.Name != tt.wantName)) {
					t.Errorf("location status = %+v, want a %s naming %s", statusItems(loc), tt.wantName, tt.wantText(target))
				}
			})
		}
	})
}

func TestURLLocations(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		mux := http.NewServeMux()
		mux.HandleFunc("/org/repo/catalog-info.yaml", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, component("remote", "team-a", "")+`---
apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: more
spec:
  target: ./more/api.yaml
`)
		})
		var deleted atomic.Bool
		mux.HandleFunc("/org/repo/more/api.yaml", func(w http.ResponseWriter, r *http.Request) {
			if deleted.Load() {
				http.NotFound(w, r)
				return
			}
			fmt.Fprint(w, `apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  name: remote-api
  annotations:
    backstage.io/view-url: https://docs.example.com/remote-api
spec:
  type: openapi
  lifecycle: production
  owner: team-a
  definition: "openapi: 3.0.0"
`)
		})
		srv := httptest.NewServer(mux)
		defer srv.Close()

		// A server that answers once and then goes away.
		gone := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, component("flaky", "team-a", ""))
		}))
		closed := gone.URL + "/catalog-info.yaml"
		goneAddr := gone.Listener.Addr().String()

		e := newEnv(t, eng, catalog.Options{})
		target := srv.URL + "/org/repo/catalog-info.yaml"
		e.withLocations(
			catalog.ConfigLocation{Type: "url", Target: target},
			catalog.ConfigLocation{Type: "url", Target: closed},
		)
		e.sync()
		e.mustGet("component:default/flaky")

		c := e.mustGet("component:default/remote")
		want := map[string]string{
			entity.AnnotationViewURL:                 target,
			entity.AnnotationSourceLocation:          "url:" + srv.URL + "/org/repo/",
			entity.AnnotationManagedByLocation:       "url:" + target,
			entity.AnnotationManagedByOriginLocation: "url:" + target,
		}
		for k, v := range want {
			if got := c.Annotation(k); got != v {
				t.Errorf("remote component %s = %q, want %q", k, got, v)
			}
		}
		api := e.mustGet("api:default/remote-api")
		if got := api.Annotation(entity.AnnotationViewURL); got != "https://docs.example.com/remote-api" {
			t.Errorf("view-url written in the file was replaced by %q", got)
		}
		if got := api.Annotation(entity.AnnotationSourceLocation); got != "url:"+srv.URL+"/org/repo/more/" {
			t.Errorf("nested source-location = %q", got)
		}
		if got := api.Annotation(entity.AnnotationManagedByOriginLocation); got != "url:"+target {
			t.Errorf("nested origin location = %q, want url:%s", got, target)
		}

		// The server goes away (connection refused), and the remote file is
		// deleted (404): both are errors on their location, and the entities
		// stay.
		gone.Close()
		deleted.Store(true)
		e.resync()
		down := e.mustGet(rootRef("url", closed))
		if it := findStatus(down, goneAddr); it == nil || it.Level != "error" {
			t.Errorf("unreachable location status = %+v, want an error naming %s", statusItems(down), goneAddr)
		}
		e.mustGet("component:default/flaky")
		more := e.mustGet("location:default/more")
		if it := findStatus(more, srv.URL+"/org/repo/more/api.yaml"); it == nil || it.Error == nil || it.Error.Name != "NotFoundError" {
			t.Errorf("location with a deleted remote file: status = %+v, want NotFoundError naming the URL", statusItems(more))
		}
		e.mustGet("api:default/remote-api")
	})
}

func TestOversizedAndMalformedFiles(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		huge := component("a", "team-a", "huge") + "# " + strings.Repeat("x", 10<<20) + "\n"
		deep := "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: a\nspec:\n  x: " +
			strings.Repeat("[", 200) + strings.Repeat("]", 200) + "\n"
		tests := []struct {
			name    string
			content string
			want    []string // substrings of the location's error
		}{
			{"over 10 MiB", huge, []string{"a.yaml", "exceeds the limit"}},
			{"deep nesting", deep, []string{"a.yaml:6:", "deep"}},
			{"invalid UTF-8", component("a", "team-a", "") + "  tags: [\"caf\xe9\"]\n", []string{"a.yaml:9:", "UTF-8"}},
			{"duplicate keys", "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: a\n  name: b\n", []string{"a.yaml:5:", "already defined"}},
			{"not a mapping", "- just\n- a list\n", []string{"a.yaml:1:1", "mapping"}},
			{"document without kind", "apiVersion: backstage.io/v1alpha1\nmetadata:\n  name: a\n", []string{"a.yaml:1:1:", "kind"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e := newEnv(t, eng, catalog.Options{})
				e.write("parts/a.yaml", component("a", "team-a", "good"))
				e.write("parts/b.yaml", component("b", "team-a", "good"))
				glob := e.path("parts/*.yaml")
				e.withLocations(catalog.ConfigLocation{Type: "file", Target: glob})
				root := rootRef("file", glob)
				e.sync()
				before := e.all()

				e.write("parts/a.yaml", tt.content)
				e.write("parts/b.yaml", component("b", "team-a", "changed in the same round"))
				e.resync()

				loc := e.mustGet(root)
				it := findStatus(loc, tt.want...)
				if it == nil || it.Level != "error" {
					t.Errorf("root location status = %+v, want an error containing %q", statusItems(loc), tt.want)
				}
				// The whole location failed: both files' entities stay as they were.
				after := e.all()
				for _, ref := range []string{"component:default/a", "component:default/b"} {
					if diff := cmp.Diff(before[ref], after[ref]); diff != "" {
						t.Errorf("%s changed although its location failed (-before +after):\n%s", ref, diff)
					}
				}
			})
		}
	})
}

// TestTemplateSpecOrder: a template's spec is served in the order it is
// written, through ingestion, processing, stitching and refreshes, so
// that forms list its parameters as the file does.
func TestTemplateSpecOrder(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng, catalog.Options{})
		e.write("template.yaml", `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: ordered
spec:
  type: service
  owner: group:default/team-a
  parameters:
    - title: First
      properties:
        zeta: {type: string}
        alpha: {type: string}
        mid: {type: string}
  steps:
    - id: log
      action: debug:log
      input: {message: hi}
`)
		e.fileRoot("template.yaml")
		e.sync()
		for round := range 2 {
			body, err := e.svc.EntityByRef(context.Background(), entity.Ref{Kind: "Template", Namespace: "default", Name: "ordered"})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(body), `"spec":{"type":"service","owner":"group:default/team-a","parameters":[{"title":"First","properties":{"zeta":{"type":"string"},"alpha":{"type":"string"},"mid":`) {
				t.Errorf("round %d: the spec lost its order: %s", round, body)
			}
			e.resync()
		}
	})
}

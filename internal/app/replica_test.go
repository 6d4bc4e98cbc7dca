package app_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/atrium-dev/atrium/internal/app"
	"github.com/atrium-dev/atrium/internal/catalog"
	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/catalog/source"
	"github.com/atrium-dev/atrium/internal/store"
	"github.com/atrium-dev/atrium/internal/store/storetest"
	"github.com/atrium-dev/atrium/internal/synth"
)

// replicaComponents is the size of the catalog the replica test ingests.
const replicaComponents = 10000

// TestReplicasShareOneCatalog runs three replicas (processes of the real
// binary) on one PostgreSQL database, ingests a synthetic catalog, kills
// one replica with SIGKILL midway, and checks that the survivors finish
// the work: every entity exists exactly once with the relations a
// single-process ingestion of the same files gives it, no claim stays
// stuck, and the replicas answer alike.
func TestReplicasShareOneCatalog(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three servers and ingests 10,000 components")
	}
	pgURL := storetest.PostgresURL(t)
	start := time.Now()
	phase := func(what string) { t.Logf("%5.1fs %s", time.Since(start).Seconds(), what) }
	bin := buildAtrium(t)
	phase("built the binary")
	work := t.TempDir()
	stats, err := synth.Generate(filepath.Join(work, "catalog"), synth.Options{Components: replicaComponents, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	want := referenceCatalog(t, stats.Root)
	if len(want) != stats.Entities+1 {
		t.Fatalf("reference ingestion holds %d entities, want %d", len(want), stats.Entities+1)
	}

	phase("ingested the reference catalog")
	var replicas []*replica
	for i := range 3 {
		r := startReplica(t, bin, work, i, pgURL, stats.Root)
		replicas = append(replicas, r)
	}
	for _, r := range replicas {
		r.waitReady(t, 60*time.Second)
	}

	// Kill one replica while the catalog is partly ingested: it holds
	// claims the others must take over once their leases expire.
	victim := replicas[2]
	deadline := time.Now().Add(120 * time.Second)
	for {
		n := replicas[0].total(t)
		if n >= len(want)/5 {
			phase(fmt.Sprintf("killing replica 2 at %d of %d entities", n, len(want)))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d entities after 120 s", n, len(want))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := victim.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = victim.cmd.Wait()
	survivors := replicas[:2]

	// Wait until a survivor serves exactly the reference catalog.
	var got map[string][]string
	deadline = time.Now().Add(180 * time.Second)
	for {
		got = survivors[0].relationsByEntity(t)
		if cmp.Equal(want, got) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 180 s the replicas serve %d entities, want %d; differences (-want +got):\n%s",
				len(got), len(want), truncate(cmp.Diff(want, got), 4000))
		}
		time.Sleep(time.Second)
	}

	phase("the survivors serve the reference catalog")
	db, err := sql.Open("pgx", pgURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	// Exactly once, below the API too.
	var rows, distinct, final int
	if err := db.QueryRowContext(ctx, `SELECT count(*), count(DISTINCT entity_ref) FROM refresh_state`).Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM final_entities`).Scan(&final); err != nil {
		t.Fatal(err)
	}
	if rows != len(want) || distinct != len(want) || final != len(want) {
		t.Errorf("refresh_state holds %d rows (%d refs), final_entities %d; want %d of each", rows, distinct, final, len(want))
	}
	// No claim stuck: nothing is overdue by more than a lease (the longest
	// processing interval) and the stitch queue drains.
	deadline = time.Now().Add(60 * time.Second)
	for {
		var overdue, queued int
		now := time.Now().UnixMilli()
		if err := db.QueryRowContext(ctx, `SELECT
			(SELECT count(*) FROM refresh_state WHERE next_update_at < $1),
			(SELECT count(*) FROM stitch_queue WHERE next_stitch_at < $1)`, now-15000).Scan(&overdue, &queued); err != nil {
			t.Fatal(err)
		}
		if overdue == 0 && queued == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d entities overdue for processing and %d stitches overdue: claims are stuck", overdue, queued)
		}
		time.Sleep(time.Second)
	}
	phase("no claim is stuck")
	// The survivors answer alike, byte for byte.
	for _, path := range []string{
		"/api/catalog/entities/by-query?filter=kind=component&limit=50&orderField=metadata.name,asc",
		"/api/catalog/entities?filter=kind=system&fields=metadata.name,relations",
	} {
		a := survivors[0].get(t, path)
		b := survivors[1].get(t, path)
		if !bytes.Equal(a, b) {
			t.Errorf("replicas answer %s differently:\n%s", path, truncate(cmp.Diff(string(a), string(b)), 2000))
		}
	}
	// Facets may be served stale while they are recomputed in the
	// background (store.Options.StaleFacets), so replicas agree within
	// that window rather than at once.
	const facets = "/api/catalog/entity-facets?facet=spec.type&facet=relations.ownedBy&filter=kind=component"
	deadline = time.Now().Add(app.StaleFacets + 10*time.Second)
	for {
		a := survivors[0].get(t, facets)
		b := survivors[1].get(t, facets)
		if bytes.Equal(a, b) {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("replicas still answer %s differently:\n%s", facets, truncate(cmp.Diff(string(a), string(b)), 2000))
			break
		}
		time.Sleep(200 * time.Millisecond)
	}

	// SIGTERM under load: make everything due so both survivors are busy
	// reprocessing, then stop one. It drains its batch and exits cleanly,
	// and the other finishes the work.
	if _, err := db.ExecContext(ctx, `UPDATE refresh_state SET next_update_at = 0`); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	stopped := survivors[1]
	if err := stopped.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- stopped.cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("replica 1 exited with %v after SIGTERM, want a clean exit", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("replica 1 did not exit within 60 s of SIGTERM")
	}
	phase("replica 1 stopped on SIGTERM")
	deadline = time.Now().Add(120 * time.Second)
	for {
		var overdue int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM refresh_state WHERE next_update_at < $1`,
			time.Now().UnixMilli()-15000).Scan(&overdue); err != nil {
			t.Fatal(err)
		}
		if overdue == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d entities still overdue after replica 1 stopped", overdue)
		}
		time.Sleep(time.Second)
	}
	if got := survivors[0].relationsByEntity(t); !cmp.Equal(want, got) {
		t.Errorf("after reprocessing, replica 0 serves something else (-want +got):\n%s", truncate(cmp.Diff(want, got), 4000))
	}
	phase("replica 0 reprocessed everything")
}

// referenceCatalog ingests the catalog at root in process, on SQLite,
// and returns each entity's sorted relations by ref.
func referenceCatalog(t *testing.T, root string) map[string][]string {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, storetest.SQLitePath(t), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc := catalog.New(st, catalog.Options{
		Readers:   map[string]catalog.Reader{"file": &source.FileReader{}},
		Rules:     []catalog.Rule{{Allow: catalog.Kinds("Component", "API", "System", "Domain", "Resource", "Location", "User", "Group", "Template")}},
		Locations: []catalog.ConfigLocation{{Type: "file", Target: root}},
		Workers:   runtime.GOMAXPROCS(0),
	})
	if err := svc.SyncConfigLocations(ctx); err != nil {
		t.Fatal(err)
	}
	if err := svc.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	page, err := st.QueryEntities(ctx, store.Query{Limit: -1})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, b := range page.Items {
		var e entity.Entity
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatal(err)
		}
		out[e.Ref().Key()] = relationKeys(e.Relations)
	}
	return out
}

func relationKeys(rels []entity.Relation) []string {
	out := make([]string, 0, len(rels))
	for _, r := range rels {
		out = append(out, string(r.Type)+" "+r.TargetRef)
	}
	slices.Sort(out)
	return out
}

// buildAtrium builds the atrium binary into a temporary folder.
func buildAtrium(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	bin := filepath.Join(t.TempDir(), "atrium")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/atrium")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// replica is one running atrium serve process.
type replica struct {
	n   int
	url string
	cmd *exec.Cmd
	log string
}

// startReplica starts replica n on PostgreSQL with the catalog at root. Its
// processing interval is short, so that the claims of a killed replica
// expire within the test.
func startReplica(t *testing.T, bin, work string, n int, pgURL, root string) *replica {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cfg := fmt.Sprintf(`backend:
  baseUrl: http://127.0.0.1:%[1]d
  listen: { host: 127.0.0.1, port: %[1]d }
  database:
    client: pg
    connection: %[2]q
catalog:
  rules:
    - allow: [Component, API, System, Domain, Resource, Location, User, Group, Template]
  locations:
    - { type: file, target: %[3]q }
  processingInterval: { seconds: 10 }
`, port, pgURL, root)
	cfgPath := filepath.Join(work, fmt.Sprintf("replica-%d.yaml", n))
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &replica{n: n, url: fmt.Sprintf("http://127.0.0.1:%d", port), log: filepath.Join(work, fmt.Sprintf("replica-%d.log", n))}
	logFile, err := os.Create(r.log)
	if err != nil {
		t.Fatal(err)
	}
	r.cmd = exec.Command(bin, "serve", "--config", cfgPath, "--log-format", "json")
	r.cmd.Stdout, r.cmd.Stderr = logFile, logFile
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if r.cmd.ProcessState == nil {
			t0 := time.Now()
			_ = r.cmd.Process.Signal(syscall.SIGTERM)
			_ = r.cmd.Wait()
			t.Logf("replica %d stopped in %s", n, time.Since(t0))
		}
		logFile.Close()
		if t.Failed() {
			b, _ := os.ReadFile(r.log)
			t.Logf("replica %d log (tail):\n%s", n, truncateHead(string(b), 3000))
		}
	})
	return r
}

func (r *replica) waitReady(t *testing.T, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		res, err := http.Get(r.url + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica %d not ready after %s: %v", r.n, within, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (r *replica) get(t *testing.T, path string) []byte {
	t.Helper()
	res, err := http.Get(r.url + path)
	if err != nil {
		t.Fatalf("replica %d: %v", r.n, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("replica %d: GET %s = %d %s", r.n, path, res.StatusCode, b)
	}
	return b
}

// total is how many entities the replica serves.
func (r *replica) total(t *testing.T) int {
	t.Helper()
	var page struct {
		TotalItems int `json:"totalItems"`
	}
	if err := json.Unmarshal(r.get(t, "/api/catalog/entities/by-query?limit=1"), &page); err != nil {
		t.Fatal(err)
	}
	return page.TotalItems
}

// relationsByEntity returns every served entity's sorted relations by
// ref, failing if a ref is served twice.
func (r *replica) relationsByEntity(t *testing.T) map[string][]string {
	t.Helper()
	var list []entity.Entity
	if err := json.Unmarshal(r.get(t, "/api/catalog/entities?fields=kind,metadata.namespace,metadata.name,relations"), &list); err != nil {
		t.Fatal(err)
	}
	out := make(map[string][]string, len(list))
	for _, e := range list {
		key := e.Ref().Key()
		if _, dup := out[key]; dup {
			t.Fatalf("replica %d serves %s twice", r.n, key)
		}
		out[key] = relationKeys(e.Relations)
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "\n..."
}

func truncateHead(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "...\n" + s[len(s)-n:]
}

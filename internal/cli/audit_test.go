package cli_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/atrium-dev/atrium/internal/app"
	"github.com/atrium-dev/atrium/internal/audit"
	"github.com/atrium-dev/atrium/internal/config"
)

// copyDir copies the tree at src to dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestAuditEndToEnd is the audit log's acceptance test: serve a copy of
// the example catalog, edit one of its files and refresh; the change is
// in the entity's history with its diff and in the event list; then
// `atrium audit verify` passes on the same configuration, and fails once
// an event is edited by hand.
func TestAuditEndToEnd(t *testing.T) {
	tmp := t.TempDir()
	examples := filepath.Join(tmp, "examples")
	copyDir(t, examplesDir(t), examples)
	data := filepath.Join(tmp, "data")
	override := filepath.Join(tmp, "override.yaml")
	ln, err := net.Listen("tcp", "127.0.0.1:0") // a free port, as serve needs one
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	if err := os.WriteFile(override, []byte(fmt.Sprintf(`backend:
  listen: {host: 127.0.0.1, port: %d}
  database: {client: sqlite, connection: {directory: %q}}
`, port, data)), 0o644); err != nil {
		t.Fatal(err)
	}
	configs := []string{filepath.Join(examples, "app-config.yaml"), override}
	cfg, err := config.Load(configs, os.LookupEnv)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, func(s string) { addr <- s }) }()
	base := "http://" + <-addr
	get := func(path string, v any) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
	}
	const entityPath = "/api/catalog/entities/by-name/component/default/label-renderer"
	var ent struct {
		Metadata struct{ Description string } `json:"metadata"`
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitFor("the example catalog", func() bool {
		resp, err := http.Get(base + entityPath)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	file := filepath.Join(examples, "components", "shipment-tracking.yaml")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	const before, after = "Renders shipping labels as PDF and ZPL", "Renders shipping labels as PDF, ZPL and EPL"
	if !strings.Contains(string(b), before) {
		t.Fatalf("%s no longer says %q", file, before)
	}
	if err := os.WriteFile(file, []byte(strings.Replace(string(b), before, after, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(base+"/api/catalog/refresh", "application/json",
		strings.NewReader(`{"entityRef":"component:default/label-renderer"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	waitFor("the edit to be served", func() bool {
		get(entityPath, &ent)
		return strings.HasPrefix(ent.Metadata.Description, after)
	})

	var hist struct {
		Versions []audit.Version `json:"versions"`
	}
	get("/api/audit/entities/component/default/label-renderer/history", &hist)
	if len(hist.Versions) != 2 || hist.Versions[0].Action != audit.EntityUpdated || hist.Versions[1].Action != audit.EntityCreated {
		t.Fatalf("history has %d versions, want updated then created: %+v", len(hist.Versions), hist.Versions)
	}
	if d := string(hist.Versions[0].Diff); !strings.Contains(d, `"path":"/metadata/description"`) || !strings.Contains(d, after) {
		t.Errorf("the update's diff does not change the description: %s", d)
	}
	var page struct {
		Items []audit.Event `json:"items"`
	}
	get("/api/audit/events?action=catalog.entity.refresh-requested&action=catalog.entity.updated&target=component:default/label-renderer", &page)
	if len(page.Items) != 2 || page.Items[0].Action != audit.EntityUpdated || page.Items[1].Request == nil {
		t.Errorf("events = %+v, want the update after a refresh request that carries its HTTP request", page.Items)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	code, out, errOut := run(append([]string{"audit", "verify"}, flags(configs)...)...)
	if code != 0 || !strings.Contains(out, "audit log verified") {
		t.Fatalf("verify = %d\n%s%s", code, out, errOut)
	}
	code, out, _ = run(append([]string{"audit", "export"}, flags(configs)...)...)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) < 60 || !strings.Contains(lines[0], `"seq":1,`) {
		t.Errorf("export = %d, %d lines starting %.80s", code, len(lines), lines[0])
	}

	db, err := sql.Open("sqlite", filepath.Join(data, config.SQLiteFileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE audit_events SET actor = 'user:default/mallory' WHERE seq = 3`); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = run(append([]string{"audit", "verify"}, flags(configs)...)...)
	if code != 1 || !strings.Contains(errOut, "BROKEN at event 3") {
		t.Errorf("verify after an edit = %d %q, want 1 and a break at event 3", code, errOut)
	}
}

func flags(configs []string) []string {
	var out []string
	for _, c := range configs {
		out = append(out, "--config", c)
	}
	return out
}

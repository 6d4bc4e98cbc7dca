package store

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
)

// TestOpenOddPath: a data folder whose name SQLite's URI syntax would
// misread ('?' ends the path, '#' starts a fragment, '%' escapes) holds
// the database where asked.
func TestOpenOddPath(t *testing.T) {
	for _, name := range []string{"a%b", "a?b", "a#b", "a b", "100%"} {
		dir := filepath.Join(t.TempDir(), name)
		st, err := Open(context.Background(), filepath.Join(dir, "atrium.sqlite"), Options{})
		if err != nil {
			t.Errorf("%q: %v", name, err)
			continue
		}
		st.Close()
		if _, err := os.Stat(filepath.Join(dir, "atrium.sqlite")); err != nil {
			t.Errorf("%q: the database is not where asked: %v", name, err)
		}
	}
}

// TestPageSize: a new database gets sqlitePageSize pages, one created
// before keeps its own, and either checkpoints its WAL every
// walCheckpointBytes, in WAL mode.
func TestPageSize(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	old := filepath.Join(dir, "old.sqlite")
	db, err := sql.Open("sqlite", "file:"+old)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE t (x)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for path, want := range map[string]int{filepath.Join(dir, "new.sqlite"): sqlitePageSize, old: 4096} {
		st, err := Open(ctx, path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var size, pages int
		var mode string
		for q, dst := range map[string]any{"PRAGMA page_size": &size, "PRAGMA wal_autocheckpoint": &pages, "PRAGMA journal_mode": &mode} {
			if err := st.w.db.QueryRowContext(ctx, q).Scan(dst); err != nil {
				t.Fatal(err)
			}
		}
		st.Close()
		if size != want || pages != walCheckpointBytes/want || mode != "wal" {
			t.Errorf("%s: page size %d, WAL checkpoint every %d pages, journal mode %s; want %d, %d, wal",
				filepath.Base(path), size, pages, mode, want, walCheckpointBytes/want)
		}
	}
}

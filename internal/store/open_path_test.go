package store

import (
	"context"
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

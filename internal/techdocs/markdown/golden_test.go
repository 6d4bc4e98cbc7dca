package markdown

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.html from the current output")

// testResolver stands in for the site builder's resolver: pages become
// directory URLs under /docs/, images are served from /static/.
func testResolver(target string, image bool) string {
	if image {
		return "/static/" + target
	}
	i := strings.IndexAny(target, "?#")
	if i < 0 {
		i = len(target)
	}
	path, rest := target[:i], target[i:]
	return "/docs/" + strings.TrimPrefix(strings.TrimSuffix(path, ".md"), "/") + "/" + rest
}

// TestGolden renders every testdata/*.md page and compares its HTML with
// testdata/*.golden.html. Run with -update to rewrite the golden files, and
// read the diff before committing it.
func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/*.md")
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) == 0 {
		t.Fatal("no testdata/*.md inputs")
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".md")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			page, err := Render(src, Options{ResolveLink: testResolver})
			if err != nil {
				t.Fatal(err)
			}
			golden := strings.TrimSuffix(in, ".md") + ".golden.html"
			if *update {
				if err := os.WriteFile(golden, page.HTML, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), string(page.HTML)); diff != "" {
				t.Errorf("%s mismatch (-want +got):\n%s", golden, diff)
			}
		})
	}
}

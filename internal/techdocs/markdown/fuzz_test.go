package markdown

import (
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"
)

// FuzzRender checks that no input makes Render panic, return invalid UTF-8,
// or emit a script element, an on* attribute or a javascript: URL.
func FuzzRender(f *testing.F) {
	inputs, _ := filepath.Glob("testdata/*.md")
	for _, in := range inputs {
		if src, err := os.ReadFile(in); err == nil {
			f.Add(string(src))
		}
	}
	for _, h := range hostileInputs {
		f.Add(h.src)
	}
	f.Fuzz(func(t *testing.T, src string) {
		p, err := Render([]byte(src), Options{ResolveLink: func(s string, _ bool) string { return s }})
		if err != nil {
			if len(src) > MaxSize {
				return
			}
			t.Fatalf("Render: %v", err)
		}
		if why := dangerous(p.HTML); why != "" {
			t.Fatalf("output has %s:\n%s", why, p.HTML)
		}
		if m := rawDanger.Find(p.HTML); m != nil {
			t.Fatalf("output contains %q:\n%s", m, p.HTML)
		}
		if !utf8.Valid(p.HTML) || !utf8.ValidString(p.Text) {
			t.Fatal("output is not valid UTF-8")
		}
	})
}

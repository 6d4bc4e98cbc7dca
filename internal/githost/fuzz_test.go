package githost

import (
	"strings"
	"testing"
)

// FuzzParse: Parse never panics, and whatever it accepts names valid
// owner and repository names and a clean path.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"http://localhost:7007/git/acme/app", "http://localhost:7007/git/acme/app.git",
		"http://localhost:7007/git/acme/app/tree/main/docs/x.md", "http://localhost:7007/git/../x",
		"http://localhost:7007/git/a/b/blob/%2e%2e/x", "http://[::1]:7007/git/a/b", "",
	} {
		f.Add(s)
	}
	h, err := New("localhost:7007", f.TempDir(), "http://localhost:7007/git")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		loc, ok, err := h.Parse(raw)
		if !ok || err != nil {
			return
		}
		if CheckName("owner", loc.Owner) != nil || CheckName("repository", loc.Repo) != nil {
			t.Fatalf("Parse(%q) accepted names %q/%q", raw, loc.Owner, loc.Repo)
		}
		for _, seg := range strings.Split(loc.Path, "/") {
			if loc.Path != "" && (seg == "" || seg == "." || seg == "..") {
				t.Fatalf("Parse(%q) accepted path %q", raw, loc.Path)
			}
		}
	})
}

// FuzzUploadPackRequest: a hostile clone request body never panics the
// decoder.
func FuzzUploadPackRequest(f *testing.F) {
	f.Add("0032want 0123456789012345678901234567890123456789\n00000009done\n")
	f.Add("0000")
	f.Add("ffff")
	f.Add("0032have 0123456789012345678901234567890123456789\n")
	f.Fuzz(func(t *testing.T, body string) {
		_, _ = readUploadPackRequest(strings.NewReader(body))
	})
}

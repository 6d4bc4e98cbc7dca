package build

import (
	"testing"
)

func TestPageURL(t *testing.T) {
	tests := []struct{ rel, want string }{
		{"index.md", ""},
		{"README.md", ""},
		{"other.md", "other/"},
		{"a/b.md", "a/b/"},
		{"a/index.md", "a/"},
		{"a/README.md", "a/"},
		{"a/readme.md", "a/readme/"}, // MkDocs matches README case-sensitively
		{"a/b.markdown", "a/b/"},
		{"my page.md", "my page/"},
	}
	for _, tt := range tests {
		if got := pageURL(tt.rel); got != tt.want {
			t.Errorf("pageURL(%q) = %q, want %q", tt.rel, got, tt.want)
		}
	}
}

func TestResolveLinks(t *testing.T) {
	var pages []*page
	for _, rel := range []string{"index.md", "other.md", "a/b.md", "a/index.md", "sub/x.md", "sub/deep/y.md", "my page.md", "nodir/README.md"} {
		u := pageURL(rel)
		pages = append(pages, &page{srcFile: srcFile{Rel: rel}, URL: u, Out: u + "index.html"})
	}
	assets := []srcFile{{Rel: "img.png"}, {Rel: "a/pic.png"}, {Rel: "sub/deep/diagram v2.svg"}, {Rel: "c:x.png"}}
	tbl := newLinkTable(pages, assets)
	byRel := map[string]*page{}
	for _, p := range pages {
		byRel[p.Rel] = p
	}

	tests := []struct {
		from, target string
		image        bool
		want         string
		warn         bool
	}{
		// From the home page: output index.html, depth 0.
		{"index.md", "other.md", false, "other/", false},
		{"index.md", "a/b.md", false, "a/b/", false},
		{"index.md", "a/index.md", false, "a/", false},
		{"index.md", "a/", false, "a/", false},
		{"index.md", "a", false, "a/", false},
		{"index.md", "nodir/", false, "nodir/", false},
		{"index.md", "./other.md#top", false, "other/#top", false},
		{"index.md", "img.png", true, "img.png", false},
		{"index.md", "my%20page.md", false, "my%20page/", false},
		{"index.md", "c:x.png", true, "c:x.png", false}, // has a scheme as written: left alone
		{"index.md", "./c:x.png", true, "./c:x.png", false},
		{"index.md", "index.md", false, "./", false},
		{"index.md", "./", false, "./", false},
		// From other.md: output other/index.html, one level deeper than its source.
		{"other.md", "other.md", false, "./", false},
		{"other.md", "index.md", false, "../", false},
		{"other.md", "sub/x.md#frag", false, "../sub/x/#frag", false},
		{"other.md", "img.png", true, "../img.png", false},
		{"other.md", "a/b.md?plain=1#L3", false, "../a/b/?plain=1#L3", false},
		// From a/b.md: output a/b/index.html.
		{"a/b.md", "index.md", false, "../", false},
		{"a/b.md", "pic.png", true, "../pic.png", false},
		{"a/b.md", "../img.png", true, "../../img.png", false},
		{"a/b.md", "../sub/deep/y.md#s", false, "../../sub/deep/y/#s", false},
		{"a/b.md", "../sub/deep/diagram%20v2.svg", true, "../../sub/deep/diagram%20v2.svg", false},
		{"a/b.md", "../", false, "../../", false},
		// From a/index.md: output a/index.html, same depth as its source.
		{"a/index.md", "b.md", false, "b/", false},
		{"a/index.md", "pic.png", true, "pic.png", false},
		{"a/index.md", "../other.md", false, "../other/", false},
		// From deep down.
		{"sub/deep/y.md", "../../index.md#x", false, "../../../#x", false},
		{"sub/deep/y.md", "diagram v2.svg", true, "../diagram%20v2.svg", false},
		{"sub/deep/y.md", "../x.md", false, "../../x/", false},
		// Left alone.
		{"a/b.md", "#local", false, "#local", false},
		{"a/b.md", "https://example.com/x.md", false, "https://example.com/x.md", false},
		{"a/b.md", "mailto:a@b.c", false, "mailto:a@b.c", false},
		{"a/b.md", "/absolute/path", false, "/absolute/path", false},
		{"a/b.md", "//cdn.example.com/x.png", true, "//cdn.example.com/x.png", false},
		{"a/b.md", "", false, "", false},
		{"a/b.md", "?q=1", false, "?q=1", false},
		// Missing: kept as written, with a warning.
		{"a/b.md", "missing.md", false, "missing.md", true},
		{"a/b.md", "missing.png#x", true, "missing.png#x", true},
		{"a/b.md", "bad%zzescape.md", false, "bad%zzescape.md", true},
		{"a/b.md", "sub/", false, "sub/", true}, // a/sub does not exist
		// Escaping docs_dir: neutralised, with a warning.
		{"index.md", "../secret.md", false, "#", true},
		{"a/b.md", "../../etc/passwd", false, "#", true},
		{"sub/deep/y.md", "../../../mkdocs.yml#x", false, "#", true},
		{"a/b.md", "..%2F..%2Fsecret.md", false, "#", true},
		{"index.md", "..", false, "#", true},
	}
	for _, tt := range tests {
		got, warning := tbl.resolve(byRel[tt.from], tt.target, tt.image)
		if got != tt.want || (warning != "") != tt.warn {
			t.Errorf("from %s, resolve(%q) = %q, warning %q; want %q, warning %v", tt.from, tt.target, got, warning, tt.want, tt.warn)
		}
	}
}

func TestRelativeURL(t *testing.T) {
	tests := []struct{ from, to, want string }{
		{"", "", "./"},
		{"", "a/b/", "a/b/"},
		{"a/b/", "", "../../"},
		{"a/b/", "a/b/", "./"},
		{"a/b/", "a/c/", "../c/"},
		{"a/b/", "a/b/c/", "c/"},
		{"x/", "a?b/#c.png", "../a%3Fb/%23c.png"},
		{"", "<script>/", "%3Cscript%3E/"},
	}
	for _, tt := range tests {
		if got := relativeURL(tt.from, tt.to); got != tt.want {
			t.Errorf("relativeURL(%q, %q) = %q, want %q", tt.from, tt.to, got, tt.want)
		}
	}
}

func TestEditURL(t *testing.T) {
	tests := []struct {
		name            string
		repo, uri, docs string
		from            string
		want            string
	}{
		{"github default", "https://github.com/o/r", "edit/master/docs/", "docs", "docs/a/b.md", "https://github.com/o/r/edit/master/docs/a/b.md"},
		{"trailing slashes", "https://github.com/o/r/", "edit/main/docs", "docs", "docs/x.md", "https://github.com/o/r/edit/main/docs/x.md"},
		{"rooted edit_uri", "https://git.example.com/o/r", "/o/r/-/edit/main/docs/", "docs", "docs/x.md", "https://git.example.com/o/r/-/edit/main/docs/x.md"},
		{"query edit_uri", "https://dev.azure.com/o/p/_git/r", "?path=/docs/", "docs", "docs/x.md", "https://dev.azure.com/o/p/_git/r/?path=/docs/x.md"},
		{"absolute edit_uri", "https://github.com/o/r", "https://other.example.com/edit/", "docs", "docs/x.md", "https://other.example.com/edit/x.md"},
		{"README outside docs_dir", "https://github.com/o/r", "edit/master/docs/", "docs", "README.md", "https://github.com/o/r/edit/master/README.md"},
		{"escaped name", "https://github.com/o/r", "edit/master/docs/", "docs", "docs/my page.md", "https://github.com/o/r/edit/master/docs/my%20page.md"},
		{"no repo", "", "edit/master/docs/", "docs", "docs/x.md", ""},
		{"no edit_uri", "https://github.com/o/r", "", "docs", "docs/x.md", ""},
		{"script edit_uri", "https://github.com/o/r", "javascript:alert(1)//", "docs", "docs/x.md", ""},
	}
	for _, tt := range tests {
		cfg := &Config{RepoURL: tt.repo, EditURI: tt.uri, DocsDir: tt.docs}
		if got := editURL(cfg, srcFile{From: tt.from}); got != tt.want {
			t.Errorf("%s: editURL = %q, want %q", tt.name, got, tt.want)
		}
	}
}

package build

import (
	"fmt"
	"net/url"
	"path"
	"strings"
)

// page is one Markdown page of the site being built.
type page struct {
	srcFile
	// URL is the page's site-relative URL directory, not percent-encoded:
	// "" for the home page, "a/b/" for a/b.md and for a/b/index.md.
	URL string
	// Out is the output file, URL + "index.html".
	Out string

	// Filled in by rendering.
	rendered *RenderedPage
	title    string
	warnings []string
}

// pageURL maps a docs-relative page path to its URL directory, as MkDocs
// does with use_directory_urls: index.md and README.md stand for their
// directory, any other page gets a directory of its own.
func pageURL(rel string) string {
	dir, file := path.Split(rel)
	stem := strings.TrimSuffix(file, path.Ext(file))
	if stem == "index" || stem == "README" {
		return dir
	}
	return dir + stem + "/"
}

// isIndexName reports whether a page file stands for its directory.
func isIndexName(rel string) bool {
	_, file := path.Split(rel)
	stem := strings.TrimSuffix(file, path.Ext(file))
	return stem == "index" || stem == "README"
}

// linkTable knows every page and asset of a site, to resolve the links
// written in pages.
type linkTable struct {
	pages  map[string]*page // by docs-relative source path
	assets map[string]bool  // docs-relative paths
	dirs   map[string]*page // directory ("" for docs_dir) -> its index page
}

func newLinkTable(pages []*page, assets []srcFile) *linkTable {
	t := &linkTable{
		pages:  make(map[string]*page, len(pages)),
		assets: make(map[string]bool, len(assets)),
		dirs:   make(map[string]*page),
	}
	for _, p := range pages {
		t.pages[p.Rel] = p
		if isIndexName(p.Rel) {
			t.dirs[strings.TrimSuffix(p.URL, "/")] = p
		}
	}
	for _, a := range assets {
		t.assets[a.Rel] = true
	}
	return t
}

// resolve turns a link target written in page from into a URL relative to
// from's output page. It returns the target unchanged for absolute URLs,
// fragments and site-absolute paths, and with a warning when it names no
// file of the site; "#" with a warning when it leaves docs_dir.
func (t *linkTable) resolve(from *page, target string, image bool) (string, string) {
	if target == "" || target[0] == '#' || target[0] == '?' || target[0] == '/' || hasScheme(target) {
		return target, ""
	}
	what := "link"
	if image {
		what = "image"
	}
	pathPart, suffix := target, ""
	if i := strings.IndexAny(target, "?#"); i >= 0 {
		pathPart, suffix = target[:i], target[i:]
	}
	decoded, err := url.PathUnescape(pathPart)
	if err != nil {
		return target, fmt.Sprintf("%s: %s target %q is not a valid URL path", from.Rel, what, target)
	}
	joined := path.Join(path.Dir(from.Rel), decoded)
	if joined == ".." || strings.HasPrefix(joined, "../") {
		return "#", fmt.Sprintf("%s: %s target %q points outside docs_dir; replaced by #", from.Rel, what, target)
	}
	var dest string
	if p, ok := t.pages[joined]; ok {
		dest = p.URL
	} else if t.assets[joined] {
		dest = joined
	} else if p, ok := t.dirs[dirKey(joined)]; ok {
		dest = p.URL // a link to a directory: its index page
	} else {
		return target, fmt.Sprintf("%s: %s target %q not found in docs_dir", from.Rel, what, target)
	}
	return relativeURL(from.URL, dest) + suffix, ""
}

// relativeURL returns the percent-encoded URL of to (a site-relative
// path: "a/b/" for a page, "img/x.png" for a file, "" for the home page)
// relative to the page whose URL directory is fromDir.
func relativeURL(fromDir, to string) string {
	from := splitDir(fromDir)
	toDir, toFile := path.Split(to)
	dest := splitDir(toDir)
	n := 0
	for n < len(from) && n < len(dest) && from[n] == dest[n] {
		n++
	}
	var b strings.Builder
	for range len(from) - n {
		b.WriteString("../")
	}
	for _, seg := range dest[n:] {
		b.WriteString(url.PathEscape(seg))
		b.WriteByte('/')
	}
	b.WriteString(url.PathEscape(toFile))
	s := b.String()
	switch {
	case s == "":
		return "./"
	case hasScheme(s):
		return "./" + s // a first segment like "c:x.png" must not read as a scheme
	}
	return s
}

// escapePath percent-encodes each segment of a slash-separated path.
func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// dirKey is the key of directory dir (a cleaned path) in linkTable.dirs.
func dirKey(dir string) string {
	if dir == "." {
		return ""
	}
	return dir
}

func splitDir(dir string) []string {
	dir = strings.Trim(dir, "/")
	if dir == "" {
		return nil
	}
	return strings.Split(dir, "/")
}

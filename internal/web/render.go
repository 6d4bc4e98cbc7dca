package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed templates static
var files embed.FS

// renderer holds the parsed page templates and serves the static files.
type renderer struct {
	pages   map[string]*template.Template
	static  http.Handler
	version string // content hash of the static files, part of their URLs
}

// sharedTemplates are parsed into every page: the layout, the partials
// and the fields of the generated template forms (the Create form's and
// the template editor's).
var sharedTemplates = []string{"templates/layout.html", "templates/partials.html", "templates/create_fields.html"}

// mustRenderer parses the embedded templates; a template that does not
// parse is a build defect, so it panics (and every test catches it).
func mustRenderer() *renderer {
	r, err := newRenderer()
	if err != nil {
		panic(err)
	}
	return r
}

func newRenderer() (*renderer, error) {
	version, err := staticVersion()
	if err != nil {
		return nil, err
	}
	r := &renderer{pages: map[string]*template.Template{}, version: version}
	base, err := template.New("").Funcs(r.funcs()).ParseFS(files, sharedTemplates...)
	if err != nil {
		return nil, fmt.Errorf("web: parse layout: %w", err)
	}
	names, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		if isShared(name) {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(files, name)
		if err != nil {
			return nil, fmt.Errorf("web: parse %s: %w", name, err)
		}
		r.pages[strings.TrimSuffix(path.Base(name), ".html")] = t
	}
	r.static = staticHandler(version)
	return r, nil
}

func isShared(name string) bool {
	for _, s := range sharedTemplates {
		if s == name {
			return true
		}
	}
	return false
}

// view is a page's data: every page struct embeds Layout.
type view interface{ layoutData() *Layout }

// render executes the named page into a buffer and writes it with status,
// so a template failure becomes an error page instead of half a page.
func (r *renderer) render(w http.ResponseWriter, status int, name string, data view) error {
	var buf bytes.Buffer
	if err := r.execute(&buf, name, data); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// Pages carry the CSRF token and live data: never cache them.
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

func (r *renderer) execute(buf *bytes.Buffer, name string, data view) error {
	t, ok := r.pages[name]
	if !ok {
		return fmt.Errorf("web: no template %q", name)
	}
	data.layoutData().asset = r.asset
	if err := t.ExecuteTemplate(buf, "layout", data); err != nil {
		return fmt.Errorf("web: render %s: %w", name, err)
	}
	return nil
}

// asset returns the versioned URL of a static file.
func (r *renderer) asset(name string) string {
	return "/static/" + r.version + "/" + name
}

// staticVersion hashes the static files, so their URLs change with their
// content and browsers may cache them for good.
func staticVersion() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(files, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", p, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

// staticHandler serves /static/{version}/{file}. Files asked for under the
// current version are cached for a year; under another version (a page
// rendered before an upgrade) they are served, but not cached.
func staticHandler(version string) http.Handler {
	sub, err := fs.Sub(files, "static")
	if err != nil {
		panic(err)
	}
	modTime := time.Unix(0, 0)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("file")
		b, err := fs.ReadFile(sub, name)
		if err != nil || strings.HasPrefix(name, ".") {
			http.NotFound(w, r)
			return
		}
		if r.PathValue("version") == version {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		http.ServeContent(w, r, name, modTime, bytes.NewReader(b))
	})
}

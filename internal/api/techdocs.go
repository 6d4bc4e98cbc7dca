package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/derrors"
	"github.com/atrium-dev/atrium/internal/techdocs/publish"
)

// TechDocsPrefix is where the app mounts the TechDocs API, at Backstage's
// path.
const TechDocsPrefix = "/api/techdocs"

// TechDocs is what the TechDocs API needs (a *techdocs.Service). Every
// method checks that the caller may see the entity.
type TechDocs interface {
	Entity(ctx context.Context, ref entity.Ref) (json.RawMessage, error)
	Metadata(ctx context.Context, ref entity.Ref) (*publish.Metadata, error)
	Asset(ctx context.Context, ref entity.Ref, path string) (io.ReadCloser, publish.FileInfo, error)
	Sync(ctx context.Context, ref entity.Ref, force bool, log func(string)) (updated bool, err error)
}

type techdocsHandler struct{ d TechDocs }

// NewTechDocsHandler serves Backstage's /api/techdocs routes, so
// Backstage's TechDocs frontend and tooling work against Atrium.
func NewTechDocsHandler(d TechDocs, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.Default()
	}
	h := &techdocsHandler{d: d}
	return newPrefixRouter(TechDocsPrefix, &errorAdapter{logger: logger}, h.routeTable())
}

func (h *techdocsHandler) routeTable() []route {
	return []route{
		{"GET /metadata/techdocs/{namespace}/{kind}/{name}", h.getMetadata},
		{"GET /metadata/entity/{namespace}/{kind}/{name}", h.getEntity},
		{"GET /sync/{namespace}/{kind}/{name}", h.getSync},
		{"GET /static/docs/{namespace}/{kind}/{name}/{path...}", h.getStatic},
	}
}

func docsRef(r *http.Request) entity.Ref {
	return entity.Ref{Kind: r.PathValue("kind"), Namespace: r.PathValue("namespace"), Name: r.PathValue("name")}
}

// getMetadata serves techdocs_metadata.json.
func (h *techdocsHandler) getMetadata(w http.ResponseWriter, r *http.Request) error {
	md, err := h.d.Metadata(r.Context(), docsRef(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, md)
}

// getEntity serves the entity with its locationMetadata, as Backstage's
// TechDocs backend does.
func (h *techdocsHandler) getEntity(w http.ResponseWriter, r *http.Request) error {
	raw, err := h.d.Entity(r.Context(), docsRef(r))
	if err != nil {
		return err
	}
	var e map[string]any
	if err := json.Unmarshal(raw, &e); err != nil {
		return err
	}
	annotations, _ := e["metadata"].(map[string]any)["annotations"].(map[string]any)
	ref, _ := annotations["backstage.io/techdocs-ref"].(string)
	typ, target, _ := strings.Cut(ref, ":")
	e["locationMetadata"] = map[string]string{"type": typ, "target": target}
	return writeJSON(w, http.StatusOK, e)
}

// getSync serves GET /sync: it builds the docs if needed and streams the
// build as server-sent events: "log" lines, then "finish" {updated} or
// "error" with the message, as Backstage's frontend expects. ?force=true
// (Atrium's) rebuilds even up-to-date docs.
func (h *techdocsHandler) getSync(w http.ResponseWriter, r *http.Request) error {
	ref := docsRef(r)
	force, _ := strconv.ParseBool(r.URL.Query().Get("force"))
	// An entity the caller cannot see, or one without docs, is a 404, as
	// in Backstage; build errors come as events once the stream is open.
	if _, err := h.d.Entity(r.Context(), ref); err != nil {
		return err
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	var mu sync.Mutex
	send := func(event string, v any) {
		b, _ := json.Marshal(v)
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b)
		_ = rc.Flush()
	}
	send("log", "Checking the docs of "+ref.String())
	updated, err := h.d.Sync(r.Context(), ref, force, func(line string) { send("log", line) })
	if err != nil {
		msg, ok := derrors.PublicMessage(err)
		if !ok {
			msg = "The build failed; the server's log has the details"
		}
		send("error", msg)
		return nil
	}
	send("finish", map[string]bool{"updated": updated})
	return nil
}

// getStatic serves a file of the published site.
func (h *techdocsHandler) getStatic(w http.ResponseWriter, r *http.Request) error {
	p := r.PathValue("path")
	if p == "" || strings.HasSuffix(p, "/") {
		p += "index.html"
	}
	rc, info, err := h.d.Asset(r.Context(), docsRef(r), p)
	if err != nil {
		return err
	}
	defer rc.Close()
	ct := info.ContentType
	if ct == "" {
		ct = mime.TypeByExtension(path.Ext(p))
	}
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	// The files are served for readers that sanitize them (Backstage's
	// TechDocs reader, Atrium's): opened directly, they may not run
	// script.
	w.Header().Set("Content-Security-Policy", "sandbox; default-src 'none'; img-src 'self' data:; style-src 'self' 'unsafe-inline'")
	if info.ETag != "" {
		w.Header().Set("ETag", strconv.Quote(strings.Trim(info.ETag, `"`)))
	}
	w.Header().Set("Cache-Control", "no-cache") // revalidate: a rebuild replaces files in place
	if rs, ok := rc.(io.ReadSeeker); ok {
		// Answers If-None-Match, If-Modified-Since and ranges.
		http.ServeContent(w, r, "", info.ModTime, rs)
		return nil
	}
	if info.Size > 0 {
		w.Header().Set("Content-Length", strconv.FormatInt(info.Size, 10))
	}
	_, _ = io.Copy(w, rc) // once the body has started, a failure just ends it
	return nil
}

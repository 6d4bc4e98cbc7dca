// Package techdocs is Atrium's TechDocs: it finds an entity's docs source
// (the backstage.io/techdocs-ref annotation), builds it with the build and
// markdown packages when the builder is local, stores the site through a
// publish.Publisher, and serves it to the reader pages and to Backstage's
// /api/techdocs routes.
//
// With techdocs.builder "local" (the default) a site is built when it is
// first read and rebuilt when its source changes; builds of one entity are
// deduplicated across replicas through the database (a lease row per
// entity). With "external", CI builds and publishes (atrium docs build,
// atrium docs publish) and the server only reads.
package techdocs

import (
	"time"

	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/techdocs/build"
	"github.com/atrium-dev/atrium/internal/techdocs/publish"
)

// RefAnnotation names an entity's docs source: "dir:<path>" relative to
// the entity's catalog file, or "url:<location>".
const RefAnnotation = "backstage.io/techdocs-ref"

// Builder strategies (techdocs.builder).
const (
	BuilderLocal    = "local"
	BuilderExternal = "external"
)

// State is what is known of an entity's docs.
type State struct {
	// Built is when the published site was built; zero if it never was.
	Built time.Time
	// Etag identifies the source the site was built from.
	Etag string
	// Stale is set when the source has changed since (known only with the
	// local builder, after a check); a rebuild is then under way or due.
	Stale bool
	// Building is set while a build runs (on any replica).
	Building bool
	// Error is the last build's error, if it failed.
	Error string
	// Builder is the strategy in force, BuilderLocal or BuilderExternal.
	Builder string
}

// Site is a built site's structure, for the reader's navigation.
type Site struct {
	Ref      entity.Ref
	Info     build.SiteInfo
	Metadata publish.Metadata
	State    State
}

// Page is one page of a site.
type Page struct {
	// Info is the page's place in the site: title, TOC, prev/next, edit
	// URL.
	Info build.PageInfo
	// HTML is the article: the page's body as the builder rendered and
	// sanitized it, with links relative to the page's own URL.
	HTML []byte
}

// Hit is a search result within one site.
type Hit struct {
	// Title is the page's (or section's) title; Location the site-relative
	// URL ("guides/writing/#tabs"); Snippet a plain-text excerpt around
	// the first match.
	Title, Location, Snippet string
	// Score orders the hits, highest first.
	Score float64
}

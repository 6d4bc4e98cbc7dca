package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/atrium-dev/atrium/internal/catalog"
	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/catalog/filter"
	"github.com/atrium-dev/atrium/internal/derrors"
)

// Registering and unregistering locations, Backstage's /catalog-import:
//
//	GET  /catalog-import                              the form, and the registered locations
//	POST /catalog-import/analyze                      dry run: what the target would add
//	POST /catalog-import                              register, then show the location
//	GET  /catalog-import/locations/{id}               a location and its entities
//	GET  /catalog-import/locations/{id}/unregister    what unregistering would remove
//	POST /catalog-import/locations/{id}/unregister    unregister
//	GET  /catalog/{namespace}/{kind}/{name}/unregister  the same, starting from an entity
//
// Registering needs catalog.location.create, unregistering
// catalog.location.delete: without them the pages that would do it answer
// 403, and the links to them are hidden. Looking at a registered location
// needs neither.

// importView is the register form.
type importView struct {
	Layout
	Target    string
	Locations []locationRow
	// CanUnregister is set when the user may unregister locations.
	CanUnregister bool
}

// locationRow is a registered location in a list.
type locationRow struct{ ID, Type, Target, Href string }

// previewView is the dry run of a registration: the entities the target
// would add, and the problems found reading it.
type previewView struct {
	Layout
	Type, Target string
	// Exists is set when the location is registered already.
	Exists   bool
	Entities []previewEntity
	// Problems are read and parse errors (with file, line and column).
	Problems []string
	// WithProblems counts the entities that have problems.
	WithProblems int
	// CanImport is set when the target read cleanly and is new.
	CanImport bool
}

// previewEntity is one entity of a dry run.
type previewEntity struct {
	Link entityLink
	// InCatalog is set when an entity with its ref exists already.
	InCatalog bool
	// Problems are what ingestion would refuse in it, as "file:line:col: message".
	Problems []string
}

// locationView is a registered location: its entities, and the way to
// unregister it.
type locationView struct {
	Layout
	Location catalog.Location
	Entities relationCard
	// UnregisterHref is empty for those who may not unregister it.
	UnregisterHref string
}

// unregisterView asks to confirm unregistering a location, listing the
// entities that would be removed.
type unregisterView struct {
	Layout
	// Location is nil when the entity came from the configuration, which
	// only a change of app-config.yaml can remove.
	Location *catalog.Location
	// Origin is the entity's managed-by-origin-location.
	Origin string
	// From is the entity the user started from, if any.
	From     *entityLink
	Entities relationCard
	Action   string
	// CancelHref leads back to where the user came from.
	CancelHref string
}

// locationTypeOf guesses the location type of what a user pasted: a URL,
// or else a file path (allowed only where the server allows file
// locations to be registered).
func locationTypeOf(target string) string {
	if u, err := url.Parse(target); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		return "url"
	}
	return "file"
}

// importForm serves GET /catalog-import.
func (h *handler) importForm(w http.ResponseWriter, r *http.Request) error {
	if !h.allowed(r.Context(), permLocationCreate, nil) {
		return errMayNotRegister
	}
	locs, err := h.c.Locations(r.Context())
	if err != nil {
		return err
	}
	v := &importView{
		Layout:        h.layout(r, "Register an existing component", sectionImport, crumb{"Catalog", "/catalog"}, crumb{"Register", ""}),
		Target:        r.URL.Query().Get("target"),
		CanUnregister: h.allowed(r.Context(), permLocationDelete, nil),
	}
	v.Notice = notice(r)
	for _, l := range locs {
		v.Locations = append(v.Locations, locationRow{ID: l.ID, Type: l.Type, Target: l.Target, Href: "/catalog-import/locations/" + url.PathEscape(l.ID)})
	}
	return h.views.render(w, http.StatusOK, "import", v)
}

// importAnalyze serves POST /catalog-import/analyze: a dry run.
func (h *handler) importAnalyze(w http.ResponseWriter, r *http.Request) error {
	if !h.allowed(r.Context(), permLocationCreate, nil) {
		return errMayNotRegister
	}
	target := strings.TrimSpace(r.PostForm.Get("target"))
	if target == "" {
		return derrors.Invalid("Enter the URL of a catalog-info.yaml file.")
	}
	typ := locationTypeOf(target)
	v := &previewView{
		Layout: h.layout(r, "Review", sectionImport, crumb{"Catalog", "/catalog"}, crumb{"Register", "/catalog-import"}, crumb{"Review", ""}),
		Type:   typ, Target: target,
	}
	res, err := h.c.AddLocation(r.Context(), typ, target, catalog.AddLocationOptions{DryRun: true})
	if err != nil {
		// A target that cannot be read or parsed, or is not allowed, is
		// shown on the review page with its message; anything else is a
		// server error.
		code, _, msg := classify(err)
		if code == http.StatusInternalServerError {
			return err
		}
		v.Problems = append(v.Problems, msg)
		return h.views.render(w, code, "import_preview", v)
	}
	v.Exists = res.Exists != nil && *res.Exists
	if v.Entities, err = h.previewEntities(r.Context(), res.Entities, res.Problems); err != nil {
		return err
	}
	for _, pe := range v.Entities {
		if len(pe.Problems) > 0 {
			v.WithProblems++
		}
	}
	v.CanImport = !v.Exists
	return h.views.render(w, http.StatusOK, "import_preview", v)
}

// maxPreviewEntities bounds the entities a review page lists.
const maxPreviewEntities = 500

// previewEntities describes a dry run's entities: whether each is in the
// catalog already, and the problems ingestion would find in it (by ref
// key, with file, line and column).
func (h *handler) previewEntities(ctx context.Context, es []*entity.Entity, problems map[string][]string) ([]previewEntity, error) {
	es = es[:min(len(es), maxPreviewEntities)]
	refs := make([]string, len(es))
	for i, e := range es {
		refs[i] = e.Ref().Key()
	}
	existing, err := h.c.EntitiesByRefs(ctx, refs, nil)
	if err != nil {
		return nil, err
	}
	out := make([]previewEntity, len(es))
	for i, e := range es {
		pe := previewEntity{
			Link:      entityLink{Href: entityHref(e.Ref()), Label: e.Ref().String(), Kind: kindName(e.Kind), Description: e.Metadata.Description},
			InCatalog: existing[i] != nil,
		}
		pe.Problems = problems[refs[i]]
		if !pe.InCatalog {
			pe.Link.Href = ""
		}
		out[i] = pe
	}
	return out, nil
}

// importRegister serves POST /catalog-import: register the location.
func (h *handler) importRegister(w http.ResponseWriter, r *http.Request) error {
	if !h.allowed(r.Context(), permLocationCreate, nil) {
		return errMayNotRegister
	}
	target := strings.TrimSpace(r.PostForm.Get("target"))
	if target == "" {
		return derrors.Invalid("Enter the URL of a catalog-info.yaml file.")
	}
	res, err := h.c.AddLocation(r.Context(), locationTypeOf(target), target, catalog.AddLocationOptions{})
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/catalog-import/locations/"+url.PathEscape(res.Location.ID)+"?done=registered", http.StatusSeeOther)
	return nil
}

// locationPage serves GET /catalog-import/locations/{id}.
func (h *handler) locationPage(w http.ResponseWriter, r *http.Request) error {
	loc, err := h.c.Location(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	v := &locationView{
		Layout:   h.layout(r, "Location", sectionImport, h.registerCrumb(r), crumb{"Location", ""}),
		Location: loc,
	}
	if h.allowed(r.Context(), permLocationDelete, nil) {
		v.UnregisterHref = "/catalog-import/locations/" + url.PathEscape(loc.ID) + "/unregister"
	}
	v.Notice = notice(r)
	if v.Entities, err = h.originEntities(r.Context(), loc.Type+":"+loc.Target, "Entities from this location",
		"No entities yet: they appear here once the catalog has processed the location, within seconds. Reload to see them."); err != nil {
		return err
	}
	return h.views.render(w, http.StatusOK, "location", v)
}

// originKey is the search key of the managed-by-origin-location annotation.
var originKey = strings.ToLower("metadata.annotations." + entity.AnnotationManagedByOriginLocation)

// originEntities lists (the first maxCardItems of) the entities whose
// origin is the location "type:target": those unregistering it removes.
func (h *handler) originEntities(ctx context.Context, origin, title, empty string) (relationCard, error) {
	card := relationCard{Title: title, Empty: empty}
	// In the order the catalog first saw them: the store reads the page
	// off the origin's rows (see entity_location.go on sorting by name).
	page, err := h.c.QueryEntities(ctx, catalog.Query{
		Filter:     filter.Match{Key: originKey, Values: []string{strings.ToLower(origin)}},
		Limit:      maxCardItems,
		CountTotal: true,
	})
	if err != nil {
		return card, err
	}
	card.Total = page.TotalItems
	for _, raw := range page.Items {
		d, err := decodeEntity(raw)
		if err != nil {
			return card, err
		}
		card.Items = append(card.Items, docLink(d))
	}
	return card, nil
}

// registerCrumb is the breadcrumb above the location pages: the Register
// page, or the catalog for those who may not register.
func (h *handler) registerCrumb(r *http.Request) crumb {
	if h.allowed(r.Context(), permLocationCreate, nil) {
		return crumb{"Register", "/catalog-import"}
	}
	return crumb{"Catalog", "/catalog"}
}

// unregisterConfirm serves GET /catalog-import/locations/{id}/unregister.
func (h *handler) unregisterConfirm(w http.ResponseWriter, r *http.Request) error {
	if !h.allowed(r.Context(), permLocationDelete, nil) {
		return errMayNotUnregister
	}
	loc, err := h.c.Location(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return h.renderUnregister(w, r, &loc, loc.Type+":"+loc.Target, nil)
}

func (h *handler) renderUnregister(w http.ResponseWriter, r *http.Request, loc *catalog.Location, origin string, from *entityLink) error {
	v := &unregisterView{
		Layout:   h.layout(r, "Unregister", sectionImport, h.registerCrumb(r), crumb{"Unregister", ""}),
		Location: loc, Origin: origin, From: from,
	}
	if loc != nil {
		v.CancelHref = "/catalog-import/locations/" + url.PathEscape(loc.ID)
		v.Action = v.CancelHref + "/unregister"
	}
	if from != nil {
		v.CancelHref = from.Href
	}
	var err error
	if v.Entities, err = h.originEntities(r.Context(), origin, "Entities that will be removed", "No entities came from this location."); err != nil {
		return err
	}
	return h.views.render(w, http.StatusOK, "unregister", v)
}

// unregisterLocation serves POST /catalog-import/locations/{id}/unregister.
func (h *handler) unregisterLocation(w http.ResponseWriter, r *http.Request) error {
	if !h.allowed(r.Context(), permLocationDelete, nil) {
		return errMayNotUnregister
	}
	if err := h.c.DeleteLocation(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	// Back to the registered locations, or to the catalog for those who
	// may not register (and so not see that page).
	back := "/catalog-import?done=unregistered"
	if !h.allowed(r.Context(), permLocationCreate, nil) {
		back = "/catalog?done=unregistered"
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
	return nil
}

// entityUnregister serves GET /catalog/{namespace}/{kind}/{name}/unregister:
// the confirmation for the location the entity came from.
func (h *handler) entityUnregister(w http.ResponseWriter, r *http.Request) error {
	e, frame, err := h.loadEntity(r, tabOverview)
	if err != nil {
		return err
	}
	if !h.allowed(r.Context(), permLocationDelete, e.raw) {
		return errMayNotUnregister
	}
	from := &entityLink{Href: frame.Href, Label: frame.DisplayName, Kind: frame.Kind}
	origin := e.Metadata.Annotations[entity.AnnotationManagedByOriginLocation]
	loc, err := h.c.LocationByEntity(r.Context(), e.Ref())
	switch {
	case errors.Is(err, derrors.ErrNotFound):
		return h.renderUnregister(w, r, nil, origin, from)
	case err != nil:
		return err
	}
	return h.renderUnregister(w, r, &loc, origin, from)
}

package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/atrium-dev/atrium/internal/catalog"
	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/catalog/filter"
	"github.com/atrium-dev/atrium/internal/derrors"
)

// getEntityByUID serves GET /entities/by-uid/{uid}.
func (h *catalogHandler) getEntityByUID(w http.ResponseWriter, r *http.Request) error {
	if _, err := queryParams(r); err != nil {
		return err
	}
	uid := r.PathValue("uid")
	e, err := h.c.EntityByUID(r.Context(), uid)
	if errors.Is(err, derrors.ErrNotFound) {
		return derrors.NotFound("No entity with uid %s", uid)
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, e)
}

// deleteEntityByUID serves DELETE /entities/by-uid/{uid}.
func (h *catalogHandler) deleteEntityByUID(w http.ResponseWriter, r *http.Request) error {
	if _, err := queryParams(r); err != nil {
		return err
	}
	if err := h.c.DeleteEntityByUID(r.Context(), r.PathValue("uid")); err != nil {
		return err
	}
	return writeEmpty(w, http.StatusNoContent)
}

// pathRef is the entity ref named by the {kind}/{namespace}/{name} path
// segments, taken as given, as Backstage takes them.
func pathRef(r *http.Request) entity.Ref {
	return entity.Ref{Kind: r.PathValue("kind"), Namespace: r.PathValue("namespace"), Name: r.PathValue("name")}
}

// getEntityByName serves GET /entities/by-name/{kind}/{namespace}/{name}.
//
// With ?at=<RFC 3339 time> it answers the entity as it was then, rebuilt
// from the audit log (Atrium's addition; Backstage has no such parameter).
func (h *catalogHandler) getEntityByName(w http.ResponseWriter, r *http.Request) error {
	q, err := queryParams(r, "at")
	if err != nil {
		return err
	}
	ref := pathRef(r)
	var e json.RawMessage
	if at := q.Get("at"); at != "" {
		t, perr := time.Parse(time.RFC3339Nano, at)
		if perr != nil {
			return invalid("Invalid at '%s': expected an RFC 3339 time such as 2026-01-02T15:04:05Z", at)
		}
		e, err = h.c.EntityAt(r.Context(), ref, t)
		if errors.Is(err, derrors.ErrNotFound) {
			return derrors.NotFound("No entity named '%s' found, with kind '%s' in namespace '%s', at %s",
				ref.Name, ref.Kind, ref.Namespace, t.UTC().Format(time.RFC3339))
		}
	} else {
		e, err = h.c.EntityByRef(r.Context(), ref)
	}
	if errors.Is(err, derrors.ErrNotFound) {
		return derrors.NotFound("No entity named '%s' found, with kind '%s' in namespace '%s'",
			ref.Name, ref.Kind, ref.Namespace)
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, e)
}

// getEntityAncestry serves GET /entities/by-name/{kind}/{namespace}/{name}/ancestry.
func (h *catalogHandler) getEntityAncestry(w http.ResponseWriter, r *http.Request) error {
	if _, err := queryParams(r); err != nil {
		return err
	}
	ref := pathRef(r)
	a, err := h.c.Ancestry(r.Context(), ref)
	if errors.Is(err, derrors.ErrNotFound) {
		return derrors.NotFound("No such entity %s", ref)
	}
	if err != nil {
		return err
	}
	if a.Items == nil {
		a.Items = []catalog.AncestryItem{}
	}
	for i := range a.Items {
		if a.Items[i].ParentEntityRefs == nil {
			a.Items[i].ParentEntityRefs = []string{}
		}
	}
	return writeJSON(w, http.StatusOK, a)
}

// byRefsBody is the body of POST /entities/by-refs. Like Backstage's schema
// it ignores unknown keys.
type byRefsBody struct {
	EntityRefs *[]string       `json:"entityRefs"`
	Fields     []string        `json:"fields"`
	Query      json.RawMessage `json:"query"`
}

// postEntitiesByRefs serves POST /entities/by-refs: the entities named, in
// request order, null where missing or filtered out. `?filter` and the body
// query must both match. Fields go in the body only: Backstage 4.0.5 rejects
// `?fields` as an unknown parameter.
func (h *catalogHandler) postEntitiesByRefs(w http.ResponseWriter, r *http.Request) error {
	q, err := queryParams(r, "filter")
	if err != nil {
		return err
	}
	var body byRefsBody
	if err := decodeBody(w, r, h.maxBody, bodyRules{}, &body); err != nil {
		return err
	}
	if body.EntityRefs == nil {
		return invalid("Malformed request: 'entityRefs' is required")
	}
	f, err := filter.ParseParams(q["filter"])
	if err != nil {
		return err
	}
	if !isJSONNull(body.Query) {
		pf, err := filter.ParsePredicate(body.Query)
		if err != nil {
			return err
		}
		f = and(f, pf)
	}
	fields, err := filter.ParseFields(body.Fields)
	if err != nil {
		return err
	}
	refs := *body.EntityRefs
	found, err := h.c.EntitiesByRefs(r.Context(), refs, f)
	if err != nil {
		return err
	}
	if len(found) != len(refs) {
		return errors.New("api: EntitiesByRefs returned a result of the wrong length")
	}
	items, err := project(found, fields)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, struct {
		Items []json.RawMessage `json:"items"`
	}{items})
}

// and combines two filters, either of which may be nil (match all).
func and(a, b filter.Expr) filter.Expr {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return filter.All{Exprs: []filter.Expr{a, b}}
}

// getEntityFacets serves GET /entity-facets.
func (h *catalogHandler) getEntityFacets(w http.ResponseWriter, r *http.Request) error {
	q, err := queryParams(r, "facet", "filter")
	if err != nil {
		return err
	}
	var facets []string
	for _, f := range q["facet"] {
		if f != "" {
			facets = append(facets, f)
		}
	}
	if len(facets) == 0 {
		return invalid("Missing facet parameter")
	}
	f, err := filter.ParseParams(q["filter"])
	if err != nil {
		return err
	}
	return h.writeFacets(w, r, facets, f)
}

// facetsBody is the body of POST /entity-facets.
type facetsBody struct {
	Facets []string        `json:"facets"`
	Query  json.RawMessage `json:"query"`
}

// postEntityFacets serves POST /entity-facets. It filters only by the body's
// predicate query; a `?filter` parameter is rejected rather than ignored.
func (h *catalogHandler) postEntityFacets(w http.ResponseWriter, r *http.Request) error {
	if _, err := queryParams(r); err != nil {
		return err
	}
	var body facetsBody
	if err := decodeBody(w, r, h.maxBody, bodyRules{}, &body); err != nil {
		return err
	}
	var facets []string
	for _, f := range body.Facets {
		if f != "" {
			facets = append(facets, f)
		}
	}
	if len(facets) == 0 {
		return invalid("Missing facet parameter")
	}
	var f filter.Expr
	if !isJSONNull(body.Query) {
		var err error
		if f, err = filter.ParsePredicate(body.Query); err != nil {
			return err
		}
	}
	return h.writeFacets(w, r, facets, f)
}

// writeFacets answers {"facets":{...}} with one key per requested facet, in
// request order, each an array (empty when no entity has the field).
func (h *catalogHandler) writeFacets(w http.ResponseWriter, r *http.Request, facets []string, f filter.Expr) error {
	res, err := h.c.Facets(r.Context(), facets, f)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	buf.WriteString(`{"facets":{`)
	seen := map[string]bool{}
	for _, name := range facets {
		if seen[name] {
			continue
		}
		seen[name] = true
		if len(seen) > 1 {
			buf.WriteByte(',')
		}
		k, err := marshalJSON(name)
		if err != nil {
			return err
		}
		counts := res[name]
		if counts == nil {
			counts = []catalog.FacetCount{}
		}
		v, err := marshalJSON(counts)
		if err != nil {
			return err
		}
		buf.Write(k)
		buf.WriteByte(':')
		buf.Write(v)
	}
	buf.WriteString(`}}`)
	return writeJSON(w, http.StatusOK, json.RawMessage(buf.Bytes()))
}

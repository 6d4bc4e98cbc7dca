package api

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/atrium-dev/atrium/internal/catalog"
	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/derrors"
)

// locationInput is Backstage's strict locationInput schema: type and target
// required, presence optional, nothing else.
type locationInput struct {
	Type     *string `json:"type"`
	Target   *string `json:"target"`
	Presence *string `json:"presence"`
}

// check reports a missing or malformed key; prefix names the enclosing key.
func (l *locationInput) check(prefix string) error {
	switch {
	case l.Type == nil:
		return invalid("Malformed request: '%stype' is required", prefix)
	case l.Target == nil:
		return invalid("Malformed request: '%starget' is required", prefix)
	case l.Presence != nil && *l.Presence != "required" && *l.Presence != "optional":
		return invalid("Malformed request: '%spresence' must be 'required' or 'optional'", prefix)
	}
	return nil
}

// getLocations serves GET /locations: the API-registered locations, each
// wrapped as {"data": location}.
func (h *catalogHandler) getLocations(w http.ResponseWriter, r *http.Request) error {
	if _, err := queryParams(r); err != nil {
		return err
	}
	locs, err := h.c.Locations(r.Context())
	if err != nil {
		return err
	}
	type item struct {
		Data catalog.Location `json:"data"`
	}
	out := make([]item, len(locs))
	for i, l := range locs {
		out[i] = item{l}
	}
	return writeJSON(w, http.StatusOK, out)
}

// postLocation serves POST /locations?dryRun=&onConflict=. The catalog
// enforces the allowed types, conflicts and readonly mode.
func (h *catalogHandler) postLocation(w http.ResponseWriter, r *http.Request) error {
	q, err := queryParams(r, "dryRun", "onConflict")
	if err != nil {
		return err
	}
	var body locationInput
	if err := decodeBody(w, r, h.maxBody, bodyRules{strict: true}, &body); err != nil {
		return err
	}
	if err := body.check(""); err != nil {
		return err
	}
	var opts catalog.AddLocationOptions
	if opts.DryRun, err = boolParam(q, "dryRun"); err != nil {
		return err
	}
	onConflict, _, err := stringParam(q, "onConflict")
	if err != nil {
		return err
	}
	switch onConflict {
	case "", "reject", "refresh":
		opts.OnConflict = onConflict
	default:
		return invalid("Invalid onConflict, must be 'reject' or 'refresh'")
	}
	res, err := h.c.AddLocation(r.Context(), *body.Type, *body.Target, opts)
	if err != nil {
		return err
	}
	if res.Entities == nil {
		res.Entities = []*entity.Entity{}
	}
	return writeJSON(w, http.StatusCreated, res)
}

// postLocationsByQuery answers POST /locations/by-query, which Atrium does
// not serve yet: the catalog service has no location query.
func (h *catalogHandler) postLocationsByQuery(w http.ResponseWriter, r *http.Request) error {
	return derrors.New(derrors.ErrNotImplemented, "POST /locations/by-query is not implemented")
}

// getLocation serves GET /locations/{id}.
func (h *catalogHandler) getLocation(w http.ResponseWriter, r *http.Request) error {
	if _, err := queryParams(r); err != nil {
		return err
	}
	l, err := h.c.Location(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, l)
}

// putLocation serves PUT /locations/{id}.
func (h *catalogHandler) putLocation(w http.ResponseWriter, r *http.Request) error {
	if _, err := queryParams(r); err != nil {
		return err
	}
	var body struct {
		Type   *string `json:"type"`
		Target *string `json:"target"`
	}
	if err := decodeBody(w, r, h.maxBody, bodyRules{strict: true}, &body); err != nil {
		return err
	}
	in := locationInput{Type: body.Type, Target: body.Target}
	if err := in.check(""); err != nil {
		return err
	}
	l, err := h.c.UpdateLocation(r.Context(), r.PathValue("id"), *body.Type, *body.Target)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, l)
}

// deleteLocation serves DELETE /locations/{id}.
func (h *catalogHandler) deleteLocation(w http.ResponseWriter, r *http.Request) error {
	if _, err := queryParams(r); err != nil {
		return err
	}
	if err := h.c.DeleteLocation(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	return writeEmpty(w, http.StatusNoContent)
}

// getLocationByEntity serves GET /locations/by-entity/{kind}/{namespace}/{name}.
func (h *catalogHandler) getLocationByEntity(w http.ResponseWriter, r *http.Request) error {
	if _, err := queryParams(r); err != nil {
		return err
	}
	l, err := h.c.LocationByEntity(r.Context(), pathRef(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, l)
}

// analyzeBody is the body of POST /analyze-location. The outer object is
// lenient as in Backstage; location is strict. Backstage's OpenAPI text
// spells the file name catalogFileName while its router reads
// catalogFilename; both are accepted.
type analyzeBody struct {
	Location        json.RawMessage `json:"location"`
	CatalogFilename *string         `json:"catalogFilename"`
	CatalogFileName *string         `json:"catalogFileName"`
}

// postAnalyzeLocation serves POST /analyze-location.
func (h *catalogHandler) postAnalyzeLocation(w http.ResponseWriter, r *http.Request) error {
	if _, err := queryParams(r); err != nil {
		return err
	}
	var body analyzeBody
	if err := decodeBody(w, r, h.maxBody, bodyRules{}, &body); err != nil {
		return err
	}
	if isJSONNull(body.Location) {
		return invalid("Malformed request: 'location' is required")
	}
	if !isJSONObject(body.Location) {
		return invalid("Malformed request: 'location' must be an object")
	}
	var loc locationInput
	dec := json.NewDecoder(bytes.NewReader(body.Location))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&loc); err != nil {
		return malformed(err)
	}
	if err := loc.check("location."); err != nil {
		return err
	}
	filename := ""
	switch {
	case body.CatalogFilename != nil:
		filename = *body.CatalogFilename
	case body.CatalogFileName != nil:
		filename = *body.CatalogFileName
	}
	res, err := h.c.AnalyzeLocation(r.Context(), *loc.Type, *loc.Target, filename)
	if err != nil {
		return err
	}
	if res.ExistingEntityFiles == nil {
		res.ExistingEntityFiles = []catalog.AnalyzedFile{}
	}
	if res.GenerateEntities == nil {
		res.GenerateEntities = []catalog.GeneratedEntity{}
	}
	for i := range res.GenerateEntities {
		if res.GenerateEntities[i].Fields == nil {
			res.GenerateEntities[i].Fields = []any{}
		}
	}
	return writeJSON(w, http.StatusOK, res)
}

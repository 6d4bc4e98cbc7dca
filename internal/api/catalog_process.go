package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/atrium-dev/atrium/internal/catalog"
	"github.com/atrium-dev/atrium/internal/catalog/entity"
)

// refreshBody is the body of POST /refresh. authorizationToken is accepted
// and, until Atrium has auth, unused.
type refreshBody struct {
	EntityRef          *string `json:"entityRef"`
	AuthorizationToken *string `json:"authorizationToken"`
}

// postRefresh serves POST /refresh: 200 with an empty body.
func (h *catalogHandler) postRefresh(w http.ResponseWriter, r *http.Request) error {
	if _, err := queryParams(r); err != nil {
		return err
	}
	var body refreshBody
	if err := decodeBody(w, r, h.maxBody, bodyRules{}, &body); err != nil {
		return err
	}
	if body.EntityRef == nil {
		return invalid("Malformed request: 'entityRef' is required")
	}
	ref, err := entity.ParseRef(*body.EntityRef, entity.RefDefaults{})
	if err != nil {
		return invalid("Invalid entityRef: %v", err) // ParseRef describes only its input
	}
	if err := h.c.Refresh(r.Context(), ref); err != nil {
		return err
	}
	return writeEmpty(w, http.StatusOK)
}

// validationItem is one entry of validate-entity's {"errors":[...]}.
type validationItem struct {
	Name    string `json:"name"`
	Message string `json:"message"`
}

// postValidateEntity serves POST /validate-entity. Like Backstage it reports
// every client problem, a malformed body included, as 400
// {"errors":[{name,message}]} rather than the usual error body.
func (h *catalogHandler) postValidateEntity(w http.ResponseWriter, r *http.Request) error {
	if _, err := queryParams(r); err != nil {
		return err
	}
	var body struct {
		Entity   json.RawMessage `json:"entity"`
		Location *string         `json:"location"`
	}
	if err := decodeBody(w, r, h.maxBody, bodyRules{}, &body); err != nil {
		if status, name, msg := classify(err); status == http.StatusBadRequest {
			return writeValidationErrors(w, validationItem{name, msg})
		}
		return err
	}
	if body.Location == nil {
		return writeValidationErrors(w, validationItem{"InputError", "Malformed request: 'location' is required"})
	}
	if !isJSONObject(body.Entity) {
		return writeValidationErrors(w, validationItem{"TypeError", "Malformed envelope, the entity must be an object"})
	}
	if msg := checkLocationRef(*body.Location); msg != "" {
		return writeValidationErrors(w, validationItem{"TypeError", msg})
	}
	var raw map[string]any
	if err := json.Unmarshal(body.Entity, &raw); err != nil {
		return writeValidationErrors(w, validationItem{"TypeError", "Malformed envelope, the entity must be an object"})
	}
	err := h.c.ValidateEntity(r.Context(), raw, *body.Location)
	var verr *catalog.ValidationError
	if errors.As(err, &verr) {
		items := make([]validationItem, len(verr.Problems))
		for i, p := range verr.Problems {
			items[i] = validationItem{"InputError", p.Error()}
		}
		return writeValidationErrors(w, items...)
	}
	if err != nil {
		return err
	}
	return writeEmpty(w, http.StatusOK)
}

func writeValidationErrors(w http.ResponseWriter, items ...validationItem) error {
	if items == nil {
		items = []validationItem{}
	}
	return writeJSON(w, http.StatusBadRequest, struct {
		Errors []validationItem `json:"errors"`
	}{items})
}

// checkLocationRef accepts only `url:<target>` location refs: it returns
// "" or the message of Backstage's parseLocationRef and validate-entity route.
func checkLocationRef(ref string) string {
	typ, target, ok := strings.Cut(ref, ":")
	switch {
	case !ok || typ == "":
		return fmt.Sprintf("Unable to parse location ref '%s', expected '<type>:<target>', e.g. 'url:https://host/path'", ref)
	case target == "":
		return fmt.Sprintf("Unable to parse location ref '%s', missing target", ref)
	case typ != "url":
		return fmt.Sprintf("Invalid location ref %s, only 'url:<target>' is supported, e.g. url:https://host/path", ref)
	}
	return ""
}

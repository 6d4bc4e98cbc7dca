package web

import (
	"net/http"
)

// apiDocs serves /api-docs: every API with its type, owner, lifecycle,
// providers and consumers, filtered like the catalog.
func (h *handler) apiDocs(w http.ResponseWriter, r *http.Request) error {
	const path = "/api-docs"
	st, err := parseListState(r.URL.Query(), "api")
	if err != nil {
		return err
	}
	// The page lists APIs only, whatever the URL says.
	st.Kind = "api"
	// The description goes under the name: the providers and consumers
	// need the room a description column would take.
	cols := []string{"summary", "owner", "type", "lifecycle", "providers", "consumers"}
	table, err := h.entityTable(r.Context(), st, path, "api", cols)
	if err != nil {
		return err
	}
	table.Caption = "APIs"
	table.Empty = "No APIs match these filters."
	v := &catalogView{
		Layout:  h.layout(r, "APIs", sectionAPIs, crumb{"APIs", ""}),
		Heading: "APIs", Action: path, State: st, Table: table,
		CanRegister: h.allowed(r.Context(), permLocationCreate, nil),
	}
	if err := h.listFacets(r.Context(), v, st, path, "api", false); err != nil {
		return err
	}
	return h.views.render(w, http.StatusOK, "api_docs", v)
}

package web

import (
	"net/http"
	"strings"
)

// homeView is the home page: the catalog at a glance.
type homeView struct {
	Layout
	Total int
	// CanRegister shows the way to register a component.
	CanRegister bool
	// Kinds counts the entities of each kind, linking to their list.
	Kinds []kindCount
}

// kindCount is one kind's tile on the home page.
type kindCount struct {
	Label, Href string
	Count       int
}

// home serves /.
func (h *handler) home(w http.ResponseWriter, r *http.Request) error {
	facets, err := h.c.Facets(r.Context(), []string{"kind"}, nil)
	if err != nil {
		return err
	}
	v := &homeView{Layout: h.layout(r, "", sectionHome),
		CanRegister: h.allowed(r.Context(), permLocationCreate, nil)}
	v.Title = h.opts.Title
	for _, k := range facets["kind"] {
		v.Total += k.Count
		st := listState{Kind: strings.ToLower(k.Value), Limit: pageSizes[0]}
		v.Kinds = append(v.Kinds, kindCount{Label: pluralKind(k.Value), Href: st.href("/catalog", "component"), Count: k.Count})
	}
	return h.views.render(w, http.StatusOK, "home", v)
}

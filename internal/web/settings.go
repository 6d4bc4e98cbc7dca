package web

import (
	"net/http"

	"github.com/atrium-dev/atrium/internal/auth"
)

// settingsView is the Settings page: who the user is signed in as and,
// for those who may see it, the permission policy in effect.
type settingsView struct {
	Layout
	// SignInOn is set when sign-in is configured; Signed when the request
	// has an identity.
	SignInOn, Signed bool
	// Service is set for a service's identity, named by Subject.
	Service bool
	Subject string
	// Account links to the user's entity (Missing when the catalog has
	// none); Ownership to the entities the user owns through.
	Account   entityLink
	Ownership []entityLink
	// Policy is the effective policy as YAML, or nil when it is not shown.
	Policy *codeView
}

// settings serves GET /settings.
func (h *handler) settings(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	v := &settingsView{Layout: h.layout(r, "Settings", sectionSettings, crumb{"Settings", ""}), SignInOn: h.signInOn()}
	if id, ok := auth.IdentityFrom(ctx); ok {
		v.Signed = true
		if id.Kind == auth.KindService {
			v.Service, v.Subject = true, id.Subject
		} else {
			links, err := h.identityLinks(r, id)
			if err != nil {
				return err
			}
			v.Account, v.Ownership = links[0], links[1:]
		}
	}
	if h.opts.Policy != nil {
		if text, ok := h.opts.Policy(ctx); ok {
			code := highlight("policy", "yaml", text)
			v.Policy = &code
		}
	}
	return h.views.render(w, http.StatusOK, "settings", v)
}

// identityLinks returns links to a user's entity, then to the entities
// it owns through (but itself), each marked Missing when the catalog
// does not have it (or does not show it to the user). Refs are written
// out in full: they are what a permission policy names.
func (h *handler) identityLinks(r *http.Request, id auth.Identity) ([]entityLink, error) {
	refs := []string{id.UserRef}
	for _, o := range id.OwnershipRefs {
		if o != id.UserRef {
			refs = append(refs, o)
		}
	}
	found, err := h.c.EntitiesByRefs(r.Context(), refs, nil)
	if err != nil {
		return nil, err
	}
	links := make([]entityLink, len(refs))
	for i, ref := range refs {
		l := refLink(ref, "")
		l.Label = ref
		if found[i] == nil {
			l.Missing = true
		} else if d, err := decodeEntity(found[i]); err == nil && d.DisplayName() != d.Metadata.Name {
			l.Title = d.DisplayName()
		}
		links[i] = l
	}
	return links, nil
}

package auth

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/atrium-dev/atrium/internal/derrors"
)

// HandlerOptions are what NewHandler serves.
type HandlerOptions struct {
	// Keys publishes the token signing keys.
	Keys *Keys
	// Tokens issues user tokens on refresh.
	Tokens *Tokens
	// Sessions are the browser sessions that refresh reads and logout ends.
	Sessions *Sessions
	// Providers are the sign-in providers by id ("guest", "oidc"), each
	// serving its own routes (start, handler/frame) under
	// /api/auth/<id>/, with that prefix stripped: a provider sees
	// "/start", "/handler/frame".
	Providers map[string]http.Handler
	// Logger receives errors; slog.Default when nil.
	Logger *slog.Logger
}

// Prefix is where NewHandler's routes live.
const Prefix = "/api/auth"

// NewHandler returns the auth backend's routes, which the app mounts at
// Prefix + "/" with full paths.
func NewHandler(opts HandlerOptions) http.Handler {
	h := &handler{opts: opts}
	a := newErrorAdapter(opts.Logger)
	mux := http.NewServeMux()
	for _, rt := range []struct {
		pattern string
		fn      handlerFunc
	}{
		{"GET /api/auth/.well-known/jwks.json", opts.Keys.serveJWKS},
		{"GET /api/auth/{provider}/refresh", h.refresh},
		{"POST /api/auth/{provider}/logout", h.logout},
		{"POST /api/auth/logout", h.logout},
		{"/api/auth/{provider}/", h.provider},
		{"/api/auth/{provider}", h.notFound}, // rather than ServeMux's redirect to .../
		{"/api/auth/", h.notFound},
	} {
		mux.Handle(rt.pattern, a.wrap(rt.fn))
	}
	return mux
}

type handler struct {
	opts HandlerOptions
}

// refresh answers Backstage's refresh call from the request's session: a
// fresh user token for the signed-in user, whichever provider signed them
// in. The app's sign-in page calls it on load and before the token
// expires.
func (h *handler) refresh(w http.ResponseWriter, r *http.Request) error {
	if _, ok := h.opts.Providers[r.PathValue("provider")]; !ok {
		return h.notFound(w, r)
	}
	id, ok, err := h.opts.Sessions.FromRequest(r)
	if err != nil {
		return err
	}
	if !ok {
		return unauthenticated(nil, "Not signed in")
	}
	token, expires, err := h.opts.Tokens.Issue(r.Context(), id)
	if err != nil {
		return err
	}
	var resp refreshResponse
	resp.BackstageIdentity.Token = token
	resp.BackstageIdentity.ExpiresInSeconds = int64(expires.Sub(h.opts.Tokens.now()).Seconds())
	resp.BackstageIdentity.Identity = identityJSON{Type: "user", UserEntityRef: id.UserRef, OwnershipEntityRefs: id.OwnershipRefs}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, resp)
}

// refreshResponse is Backstage's ClientAuthResponse.
type refreshResponse struct {
	BackstageIdentity struct {
		Token            string       `json:"token"`
		ExpiresInSeconds int64        `json:"expiresInSeconds"`
		Identity         identityJSON `json:"identity"`
	} `json:"backstageIdentity"`
	Profile      struct{} `json:"profile"`
	ProviderInfo struct{} `json:"providerInfo"`
}

// identityJSON is Backstage's BackstageUserIdentity.
type identityJSON struct {
	Type                string   `json:"type"`
	UserEntityRef       string   `json:"userEntityRef"`
	OwnershipEntityRefs []string `json:"ownershipEntityRefs"`
}

// logout ends the request's session. Backstage's app waits for a
// response, so it gets an empty 200.
func (h *handler) logout(w http.ResponseWriter, r *http.Request) error {
	if p := r.PathValue("provider"); p != "" {
		if _, ok := h.opts.Providers[p]; !ok {
			return h.notFound(w, r)
		}
	}
	if err := h.opts.Sessions.EndSession(w, r); err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	// The UI's sign-out button is a form: send the browser to the
	// sign-in page. Backstage's app posts with fetch and gets a 200.
	if ct := r.Header.Get("Content-Type"); strings.HasPrefix(ct, "application/x-www-form-urlencoded") || strings.HasPrefix(ct, "multipart/form-data") {
		http.Redirect(w, r, "/signin?signedOut=1", http.StatusSeeOther)
		return nil
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// provider hands the request to the provider's own routes.
func (h *handler) provider(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("provider")
	p, ok := h.opts.Providers[id]
	if !ok {
		return h.notFound(w, r)
	}
	http.StripPrefix(Prefix+"/"+id, p).ServeHTTP(w, r)
	return nil
}

func (h *handler) notFound(w http.ResponseWriter, r *http.Request) error {
	return derrors.NotFound("No auth route for %s %s", r.Method, strings.TrimPrefix(r.URL.Path, Prefix))
}

package auth

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/derrors"
)

// DefaultGuestRef is the user the guest provider signs in as unless
// configured otherwise: Backstage's default, in a namespace of its own so
// that it never owns real entities by accident.
const DefaultGuestRef = "user:development/guest"

// GuestConfig is auth.providers.guest.
type GuestConfig struct {
	// UserEntityRef is the user guests sign in as (userEntityRef);
	// DefaultGuestRef when empty.
	UserEntityRef string
	// DangerouslyAllowOutsideDevelopment lets the provider run when
	// auth.environment is production (dangerouslyAllowOutsideDevelopment):
	// anyone who can reach the site then signs in without a password.
	DangerouslyAllowOutsideDevelopment bool
}

// Guest is Backstage's guest sign-in provider: one click signs anyone in
// as one fixed user. It is for development.
type Guest struct {
	id Identity
}

// NewGuest returns the guest provider, refusing to make one when
// environment (auth.environment) is "production" unless cfg allows it.
func NewGuest(cfg GuestConfig, environment string) (*Guest, error) {
	if environment == "production" && !cfg.DangerouslyAllowOutsideDevelopment {
		return nil, errors.New("auth: the guest provider is disabled when auth.environment is production " +
			"(set auth.providers.guest.dangerouslyAllowOutsideDevelopment to override)")
	}
	raw := cfg.UserEntityRef
	if raw == "" {
		raw = DefaultGuestRef
	}
	ref, err := entity.ParseRef(raw, entity.RefDefaults{Kind: "user", Namespace: "development"})
	if err != nil {
		return nil, fmt.Errorf("auth: guest userEntityRef: %w", err)
	}
	if !strings.EqualFold(ref.Kind, "user") {
		return nil, fmt.Errorf("auth: guest userEntityRef %q is not a user", raw)
	}
	return &Guest{id: User(ref.Key(), nil)}, nil
}

// Identity returns the identity guests sign in as.
func (g *Guest) Identity() Identity { return g.id }

// Handler returns the provider's routes, which NewHandler mounts under
// /api/auth/guest/ (and strips):
//
//	GET /start?redirect=<path>  sign in, then go to path (default "/")
func (g *Guest) Handler(sessions *Sessions) http.Handler {
	mux := http.NewServeMux()
	a := newErrorAdapter(nil)
	mux.Handle("GET /start", a.wrap(func(w http.ResponseWriter, r *http.Request) error {
		target, ok := SafeRedirect(r.URL.Query().Get("redirect"))
		if !ok {
			return derrors.Invalid("redirect must be a path on this site")
		}
		if err := sessions.StartSession(w, r, g.id); err != nil {
			return err
		}
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Location", target)
		w.WriteHeader(http.StatusFound)
		return nil
	}))
	return mux
}

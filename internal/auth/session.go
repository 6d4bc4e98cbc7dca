package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/atrium-dev/atrium/internal/store"
)

// SessionCookie is the name of the browser session cookie.
const SessionCookie = "atrium_session"

// Default session lifetimes.
const (
	// DefaultSessionLifetime is how long a session lasts unused.
	DefaultSessionLifetime = 12 * time.Hour
	// DefaultSessionMaxLifetime is how long a session lasts however much
	// it is used: the user then signs in again, and the ownership refs
	// taken at sign-in are refreshed.
	DefaultSessionMaxLifetime = 7 * 24 * time.Hour
)

// touchInterval is how stale a session's last_seen_at may get: a session
// used more often is written at most this often.
const touchInterval = time.Minute

// SessionStore keeps sessions where every replica sees them; *store.Store
// is one.
type SessionStore interface {
	InsertSession(ctx context.Context, sess store.Session) error
	SessionByHash(ctx context.Context, idHash string) (store.Session, error)
	TouchSession(ctx context.Context, idHash string, seen, expires time.Time) error
	RevokeSession(ctx context.Context, idHash string) error
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error)
}

// SessionsOptions tune NewSessions.
type SessionsOptions struct {
	// BaseURL is backend.baseUrl: the cookie is Secure when it is https.
	BaseURL string
	// Lifetime is how long a session lasts unused; each use extends it
	// (DefaultSessionLifetime when zero).
	Lifetime time.Duration
	// MaxLifetime is how long a session lasts at most, used or not
	// (DefaultSessionMaxLifetime when zero).
	MaxLifetime time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Sessions are browser sessions: a cookie holding a random id, and a row
// in the database holding the id's hash and the signed-in identity, so
// that every replica sees every session and a stolen database signs no
// one in.
type Sessions struct {
	st          SessionStore
	secure      bool
	lifetime    time.Duration
	maxLifetime time.Duration
	now         func() time.Time
}

// NewSessions returns the sessions kept in st.
func NewSessions(st SessionStore, opts SessionsOptions) (*Sessions, error) {
	u, err := url.Parse(opts.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("auth: sessions need an http(s) base URL, got %q", opts.BaseURL)
	}
	if opts.Lifetime <= 0 {
		opts.Lifetime = DefaultSessionLifetime
	}
	if opts.MaxLifetime <= 0 {
		opts.MaxLifetime = DefaultSessionMaxLifetime
	}
	if opts.MaxLifetime < opts.Lifetime {
		opts.MaxLifetime = opts.Lifetime
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Sessions{st: st, secure: u.Scheme == "https", lifetime: opts.Lifetime, maxLifetime: opts.MaxLifetime, now: opts.Now}, nil
}

// StartSession signs id, a user, in: it stores a new session and sets its
// cookie on w. A session the request already had is revoked first, so
// that a session id planted before sign-in is worth nothing after.
func (s *Sessions) StartSession(w http.ResponseWriter, r *http.Request, id Identity) error {
	if id.Kind != KindUser || id.UserRef == "" {
		return errors.New("auth: sessions are for users only")
	}
	if err := s.revoke(r); err != nil {
		return err
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return fmt.Errorf("auth: session id: %w", err)
	}
	now := s.now()
	sess := store.Session{
		IDHash:        hashSessionID(raw[:]),
		UserRef:       id.UserRef,
		OwnershipRefs: id.OwnershipRefs,
		CreatedAt:     now,
		ExpiresAt:     now.Add(s.lifetime),
		LastSeenAt:    now,
	}
	if err := s.st.InsertSession(r.Context(), sess); err != nil {
		return fmt.Errorf("auth: start session: %w", err)
	}
	// The cookie lives as long as the session may; the database says
	// whether it has expired unused before that.
	http.SetCookie(w, s.cookie(base64.RawURLEncoding.EncodeToString(raw[:]), int(s.maxLifetime/time.Second)))
	return nil
}

// FromRequest returns the identity of the request's session, and false if
// it has none that is valid: no cookie, a malformed one, or a session
// that is unknown, expired or revoked. Using a session extends it.
func (s *Sessions) FromRequest(r *http.Request) (Identity, bool, error) {
	idHash, ok := sessionHash(r)
	if !ok {
		return Identity{}, false, nil
	}
	ctx := r.Context()
	sess, err := s.st.SessionByHash(ctx, idHash)
	if errors.Is(err, store.ErrNotFound) {
		return Identity{}, false, nil
	}
	if err != nil {
		return Identity{}, false, fmt.Errorf("auth: read session: %w", err)
	}
	now := s.now()
	if sess.Revoked || !now.Before(sess.ExpiresAt) {
		return Identity{}, false, nil
	}
	if now.Sub(sess.LastSeenAt) >= touchInterval {
		expires := now.Add(s.lifetime)
		if end := sess.CreatedAt.Add(s.maxLifetime); end.Before(expires) {
			expires = end
		}
		err := s.st.TouchSession(ctx, idHash, now, expires)
		if errors.Is(err, store.ErrNotFound) {
			// Revoked since it was read.
			return Identity{}, false, nil
		}
		if err != nil {
			return Identity{}, false, fmt.Errorf("auth: extend session: %w", err)
		}
	}
	return User(sess.UserRef, sess.OwnershipRefs), true, nil
}

// EndSession signs the request's session out: it revokes the session and
// clears the cookie.
func (s *Sessions) EndSession(w http.ResponseWriter, r *http.Request) error {
	if err := s.revoke(r); err != nil {
		return err
	}
	http.SetCookie(w, s.cookie("", -1))
	return nil
}

// revoke revokes the request's session, if it has one.
func (s *Sessions) revoke(r *http.Request) error {
	idHash, ok := sessionHash(r)
	if !ok {
		return nil
	}
	err := s.st.RevokeSession(r.Context(), idHash)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("auth: revoke session: %w", err)
	}
	return nil
}

// Prune deletes the sessions that have expired and returns how many.
func (s *Sessions) Prune(ctx context.Context) (int64, error) {
	return s.st.DeleteExpiredSessions(ctx, s.now())
}

// pruneInterval is how often Run prunes sessions.
const pruneInterval = time.Hour

// Run prunes expired sessions at start and then every hour until ctx is
// cancelled, logging failures to logger (slog.Default when nil): the
// next round retries them.
func (s *Sessions) Run(ctx context.Context, logger *slog.Logger) {
	if logger == nil {
		logger = slog.Default()
	}
	tick := time.NewTicker(pruneInterval)
	defer tick.Stop()
	for {
		n, err := s.Prune(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			logger.Error("auth: pruning expired sessions failed", "err", err)
		case n > 0:
			logger.Debug("auth: pruned expired sessions", "sessions", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// cookie returns the session cookie with value, for maxAge seconds (-1
// deletes it).
func (s *Sessions) cookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     SessionCookie,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   s.secure,
		SameSite: http.SameSiteLaxMode,
	}
}

// sessionHash returns the stored hash of the request's session id, and
// false if it has no well-formed session cookie.
func sessionHash(r *http.Request) (string, bool) {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return "", false
	}
	raw, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || len(raw) != 32 {
		return "", false
	}
	return hashSessionID(raw), true
}

func hashSessionID(raw []byte) string {
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}

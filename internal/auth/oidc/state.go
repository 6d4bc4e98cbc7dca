package oidc

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// stateCookie names the cookie that carries a started sign-in to its
// callback.
const stateCookie = "atrium_oidc_state"

// maxStateCookie bounds the cookie read back, well above what seal makes
// of the largest flow (the redirect path is capped at maxRedirect).
const maxStateCookie = 4096

// flow is what the callback needs of the sign-in it finishes. It lives
// only in the sealed cookie, never in process memory, so that any replica
// can finish a sign-in that another started.
type flow struct {
	// State is the authorization request's state parameter; the callback
	// must bring back the same value.
	State string `json:"s"`
	// Nonce is the authorization request's nonce; the ID token must
	// carry it.
	Nonce string `json:"n"`
	// Verifier is the PKCE code verifier, sent with the code.
	Verifier string `json:"v"`
	// Redirect is the same-origin path to return to.
	Redirect string `json:"r"`
	// Expires is when the sign-in must be finished by, in Unix seconds.
	Expires int64 `json:"e"`
}

// Errors of opening a state cookie.
var (
	errStateMissing  = errors.New("no sign-in state cookie")
	errStateInvalid  = errors.New("sign-in state cookie is not one of ours (tampered, truncated or sealed with another key)")
	errStateExpired  = errors.New("sign-in state has expired")
	errStateMismatch = errors.New("state parameter does not match the sign-in state cookie")
)

// sealer encrypts and authenticates flows with AES-256-GCM. Encryption,
// not just a MAC, keeps the PKCE verifier and nonce unreadable even to
// whoever holds the cookie; the GCM tag makes any change to it detectable.
type sealer struct {
	aead cipher.AEAD
	// aad binds a sealed flow to this client and callback, so that a
	// cookie made for another provider configuration does not open here.
	aad []byte
}

func newSealer(key []byte, clientID, callbackURL string) (*sealer, error) {
	// Derive the AES key rather than use the configured secret directly,
	// so the same secret could key other uses without the two ever
	// sharing a key.
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("atrium auth/oidc state cookie v1"))
	block, err := aes.NewCipher(mac.Sum(nil))
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	aad := []byte("atrium-oidc-state\x00" + clientID + "\x00" + callbackURL)
	return &sealer{aead: aead, aad: aad}, nil
}

// seal returns f encrypted, as a cookie-safe string.
func (s *sealer) seal(f flow) (string, error) {
	plain, err := json.Marshal(f)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, plain, s.aad)), nil
}

// open returns the flow sealed in v, checking that it is authentic and
// has not expired at now.
func (s *sealer) open(v string, now time.Time) (flow, error) {
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(raw) < s.aead.NonceSize()+s.aead.Overhead() {
		return flow{}, errStateInvalid
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], s.aad)
	if err != nil {
		return flow{}, errStateInvalid
	}
	var f flow
	if err := json.Unmarshal(plain, &f); err != nil || f.State == "" || f.Nonce == "" || f.Verifier == "" {
		return flow{}, errStateInvalid
	}
	if now.Unix() >= f.Expires {
		return flow{}, fmt.Errorf("%w (at %s)", errStateExpired, time.Unix(f.Expires, 0).UTC().Format(time.RFC3339))
	}
	return f, nil
}

// setStateCookie sends the sealed flow. It is scoped to the callback's
// path, HttpOnly, and SameSite=Lax: the provider's redirect back is a
// top-level GET navigation, which Lax cookies accompany, while
// cross-site subrequests do not get it.
func (p *Provider) setStateCookie(w http.ResponseWriter, value string) {
	http.SetCookie(w, &http.Cookie{
		Name:     stateCookie,
		Value:    value,
		Path:     p.cookiePath,
		MaxAge:   int(p.cfg.StateTTL / time.Second),
		HttpOnly: true,
		Secure:   p.secure,
		SameSite: http.SameSiteLaxMode,
	})
}

// clearStateCookie removes the cookie: each started sign-in is finished
// (or failed) at most once from this browser.
func (p *Provider) clearStateCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name:     stateCookie,
		Value:    "",
		Path:     p.cookiePath,
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   p.secure,
		SameSite: http.SameSiteLaxMode,
	})
}

// readState returns the flow of r's state cookie, checked against r's
// state parameter.
func (p *Provider) readState(r *http.Request) (flow, error) {
	c, err := r.Cookie(stateCookie)
	if err != nil || c.Value == "" {
		return flow{}, errStateMissing
	}
	if len(c.Value) > maxStateCookie {
		return flow{}, errStateInvalid
	}
	f, err := p.sealer.open(c.Value, p.now())
	if err != nil {
		return flow{}, err
	}
	if subtle.ConstantTimeCompare([]byte(f.State), []byte(r.URL.Query().Get("state"))) != 1 {
		return flow{}, errStateMismatch
	}
	return f, nil
}

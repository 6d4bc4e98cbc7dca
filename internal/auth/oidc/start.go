package oidc

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// start begins a sign-in: it seals a fresh state, nonce and PKCE verifier
// into the state cookie and sends the browser to the provider.
func (p *Provider) start(w http.ResponseWriter, r *http.Request) error {
	state, err := randomString()
	if err != nil {
		return err
	}
	nonce, err := randomString()
	if err != nil {
		return err
	}
	f := flow{
		State:    state,
		Nonce:    nonce,
		Verifier: oauth2.GenerateVerifier(),
		Redirect: safeRedirect(r.URL.Query().Get("redirect")),
		Expires:  p.now().Add(p.cfg.StateTTL).Unix(),
	}
	sealed, err := p.sealer.seal(f)
	if err != nil {
		return err
	}
	opts := []oauth2.AuthCodeOption{gooidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier)}
	if p.cfg.prompt != "" {
		opts = append(opts, oauth2.SetAuthURLParam("prompt", p.cfg.prompt))
	}
	p.setStateCookie(w, sealed)
	http.Redirect(w, r, p.oauth.AuthCodeURL(f.State, opts...), http.StatusFound)
	return nil
}

// randomString returns 256 random bits, base64url-encoded.
func randomString() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

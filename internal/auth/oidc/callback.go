package oidc

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// callback finishes a sign-in: it checks the state, exchanges the code
// for tokens, verifies the ID token, resolves the catalog user and starts
// the session.
func (p *Provider) callback(w http.ResponseWriter, r *http.Request) error {
	p.clearStateCookie(w)
	f, err := p.readState(r)
	switch {
	case errors.Is(err, errStateExpired):
		return fail(ErrorExpiredState, err)
	case err != nil:
		return fail(ErrorBadState, err)
	}
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		code := ErrorProvider
		if e == "access_denied" {
			code = ErrorDenied
		}
		return fail(code, fmt.Errorf("provider answered %q: %q", e, q.Get("error_description")))
	}
	code := q.Get("code")
	if code == "" {
		return fail(ErrorProvider, errors.New("callback without code or error"))
	}

	ctx := gooidc.ClientContext(r.Context(), p.cfg.HTTPClient)
	tok, err := p.oauth.Exchange(ctx, code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		return fail(ErrorExchange, fmt.Errorf("code exchange: %w", err))
	}
	c, err := p.verify(ctx, tok, f.Nonce)
	if err != nil {
		return err
	}
	id, err := p.resolve(r.Context(), c)
	if err != nil {
		return fmt.Errorf("subject %q: %w", c.Subject, err)
	}
	if err := p.sessions.StartSession(w, r, id); err != nil {
		return fmt.Errorf("start session for %s: %w", id.UserRef, err)
	}
	p.logger.InfoContext(r.Context(), "oidc sign-in", "user", id.UserRef, "subject", c.Subject, "ownership", id.OwnershipRefs)
	http.Redirect(w, r, f.Redirect, http.StatusFound)
	return nil
}

// verify checks the ID token in tok (signature against the provider's
// keys, issuer, audience, expiry, nonce, and the access token hash) and
// returns its claims, completed from the userinfo endpoint when the token
// lacks the email or username.
func (p *Provider) verify(ctx context.Context, tok *oauth2.Token, nonce string) (claims, error) {
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return claims{}, fail(ErrorInvalidToken, errors.New("token response has no id_token"))
	}
	idt, err := p.verifier.Verify(ctx, raw)
	if err != nil {
		return claims{}, fail(ErrorInvalidToken, fmt.Errorf("id token: %w", err))
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		return claims{}, fail(ErrorInvalidToken, errors.New("id token: nonce does not match the sign-in's"))
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return claims{}, fail(ErrorInvalidToken, fmt.Errorf("id token: %w", err))
		}
	}
	c, err := readClaims(idt.Claims)
	if err != nil {
		return claims{}, fail(ErrorInvalidToken, fmt.Errorf("id token claims: %w", err))
	}
	c.Subject = idt.Subject
	if (c.Email != "" && c.PreferredUsername != "") || p.discovery.UserInfoEndpoint() == "" || tok.AccessToken == "" {
		return c, nil
	}
	// With an access token, providers may keep profile and email claims
	// for the userinfo endpoint (OpenID Connect Core 5.4).
	ui, err := p.discovery.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		return claims{}, fail(ErrorProvider, fmt.Errorf("userinfo: %w", err))
	}
	if ui.Subject != idt.Subject {
		// Core 5.3.2: the userinfo response must be about the token's subject.
		return claims{}, fail(ErrorInvalidToken, fmt.Errorf("userinfo subject %q is not the id token's %q", ui.Subject, idt.Subject))
	}
	uc, err := readClaims(ui.Claims)
	if err != nil {
		return claims{}, fail(ErrorProvider, fmt.Errorf("userinfo claims: %w", err))
	}
	if c.Email == "" {
		c.Email, c.EmailVerified = uc.Email, uc.EmailVerified
	}
	if c.PreferredUsername == "" {
		c.PreferredUsername = uc.PreferredUsername
	}
	return c, nil
}

// readClaims decodes the claims the resolvers use through decode (an ID
// token's or a userinfo response's Claims method).
func readClaims(decode func(any) error) (claims, error) {
	var raw struct {
		Email             string          `json:"email"`
		EmailVerified     json.RawMessage `json:"email_verified"`
		PreferredUsername string          `json:"preferred_username"`
	}
	if err := decode(&raw); err != nil {
		return claims{}, err
	}
	c := claims{Email: strings.TrimSpace(raw.Email), PreferredUsername: strings.TrimSpace(raw.PreferredUsername)}
	// Some providers send email_verified as a string ("true").
	switch strings.Trim(string(raw.EmailVerified), `"`) {
	case "true":
		c.EmailVerified = new(true)
	case "false":
		c.EmailVerified = new(false)
	}
	return c, nil
}

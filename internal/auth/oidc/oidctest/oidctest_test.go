package oidctest

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.DiscardHandler))
	os.Exit(m.Run())
}

func TestDiscovery(t *testing.T) {
	issuer, clientID, secret := Start(t, User{Username: "jane"})
	if clientID != DefaultClientID || secret == "" {
		t.Errorf("client = %q, %q; want %q and a secret", clientID, secret, DefaultClientID)
	}
	resp, err := http.Get(issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Issuer  string   `json:"issuer"`
		PKCE    []string `json:"code_challenge_methods_supported"`
		Signing []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc.Issuer != issuer || !slices.Contains(doc.PKCE, "S256") || !slices.Contains(doc.Signing, "RS256") {
		t.Errorf("discovery = %+v, want issuer %s, S256 and RS256", doc, issuer)
	}
}

// TestLoginForm drives the login page as a browser would, with a wrong
// password first.
func TestLoginForm(t *testing.T) {
	s := NewServer(t, User{Username: "jane", Password: "s3cret"})
	const callback = "http://127.0.0.1:9/callback"
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), callback) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	conf := oauth2.Config{ClientID: DefaultClientID, ClientSecret: s.ClientSecret(), RedirectURL: callback,
		Endpoint: oauth2.Endpoint{AuthURL: s.Issuer() + "/authorize", TokenURL: s.Issuer() + "/oauth/token"}, Scopes: []string{"openid"}}
	resp, err := c.Get(conf.AuthCodeURL("st"))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`id="username"`, `id="password"`, `id="sign-in"`, `id="deny"`, `name="id"`} {
		if !strings.Contains(string(page), want) {
			t.Errorf("login page lacks %s:\n%s", want, page)
		}
	}
	login := resp.Request.URL

	resp, err = SubmitLogin(c, login, "jane", "wrong", "sign-in")
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(page), `id="error"`) {
		t.Errorf("wrong password: %s, want 401 and the form with an error", resp.Status)
	}

	resp, err = SubmitLogin(c, login, "jane", "s3cret", "sign-in")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := resp.Location()
	if loc == nil || loc.Query().Get("code") == "" || loc.Query().Get("state") != "st" {
		t.Fatalf("after login: %s to %v, want the callback with a code and the state", resp.Status, loc)
	}
	tok, err := conf.Exchange(t.Context(), loc.Query().Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := tok.Extra("id_token").(string); id == "" {
		t.Error("token response without an id_token")
	}
	if _, err := conf.Exchange(t.Context(), loc.Query().Get("code")); err == nil {
		t.Error("the code was exchanged twice")
	}
}

func TestSubmitLoginNeedsLoginPage(t *testing.T) {
	u, _ := url.Parse("http://127.0.0.1:9/elsewhere")
	if _, err := SubmitLogin(http.DefaultClient, u, "a", "b", "sign-in"); err == nil {
		t.Error("SubmitLogin accepted a URL without authRequestID")
	}
}

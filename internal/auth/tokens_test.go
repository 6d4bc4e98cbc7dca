package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/atrium-dev/atrium/internal/derrors"
)

// b64 is base64url without padding, as JWS uses.
var b64 = base64.RawURLEncoding

// craft returns a compact JWS with header and claims, signed by sign
// (nil for no signature).
func craft(t *testing.T, header, claims map[string]any, sign func(input []byte) []byte) string {
	t.Helper()
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	input := b64.EncodeToString(h) + "." + b64.EncodeToString(c)
	var sig []byte
	if sign != nil {
		sig = sign([]byte(input))
	}
	return input + "." + b64.EncodeToString(sig)
}

// es256 signs as ES256 does: r and s, 32 bytes each.
func es256(t *testing.T, key *ecdsa.PrivateKey) func([]byte) []byte {
	return func(input []byte) []byte {
		sum := sha256.Sum256(input)
		r, s, err := ecdsa.Sign(rand.Reader, key, sum[:])
		if err != nil {
			t.Fatal(err)
		}
		out := make([]byte, 64)
		r.FillBytes(out[:32])
		s.FillBytes(out[32:])
		return out
	}
}

func hs256(secret []byte) func([]byte) []byte {
	return func(input []byte) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write(input)
		return m.Sum(nil)
	}
}

// decodePart decodes part i of a compact JWS as JSON.
func decodePart(t *testing.T, token string, i int) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts, want 3", len(parts))
	}
	b, err := b64.DecodeString(parts[i])
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestIssueShape(t *testing.T) {
	f := newFixture(t, openStore(t), newClock())
	ctx := context.Background()
	token, expires, err := f.tokens.Issue(ctx, jane)
	if err != nil {
		t.Fatal(err)
	}
	now := f.clock.Now()
	if want := now.Add(time.Hour); !expires.Equal(want) {
		t.Errorf("expires = %v, want %v", expires, want)
	}
	key, err := f.keys.signer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantHeader := map[string]any{"alg": "ES256", "kid": key.kid, "typ": "vnd.backstage.user"}
	if diff := cmp.Diff(wantHeader, decodePart(t, token, 0)); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	wantClaims := map[string]any{
		"iss": testIssuer,
		"sub": "user:default/jane",
		"ent": []any{"group:default/team-a", "user:default/jane"},
		"aud": "backstage",
		"iat": float64(now.Unix()),
		"exp": float64(now.Add(time.Hour).Unix()),
	}
	if diff := cmp.Diff(wantClaims, decodePart(t, token, 1)); diff != "" {
		t.Errorf("claims (-want +got):\n%s", diff)
	}

	got, err := f.tokens.Verify(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(jane, got); diff != "" {
		t.Errorf("Verify (-want +got):\n%s", diff)
	}

	if _, _, err := f.tokens.Issue(ctx, Service("ci")); err == nil {
		t.Error("Issue to a service succeeded")
	}
}

func TestVerifyAccepts(t *testing.T) {
	tests := []struct {
		name    string
		advance time.Duration // between issuing and verifying
	}{
		{"fresh", 0},
		{"nearly expired", time.Hour - time.Second},
		{"expired within the leeway", time.Hour + clockLeeway - time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, openStore(t), newClock())
			ctx := context.Background()
			token, _, err := f.tokens.Issue(ctx, jane)
			if err != nil {
				t.Fatal(err)
			}
			f.clock.Advance(tt.advance)
			if _, err := f.tokens.Verify(ctx, token); err != nil {
				t.Errorf("Verify = %v, want it accepted", err)
			}
		})
	}
}

func TestVerifyRefuses(t *testing.T) {
	st := openStore(t)
	f := newFixture(t, st, newClock())
	ctx := context.Background()
	good, _, err := f.tokens.Issue(ctx, jane)
	if err != nil {
		t.Fatal(err)
	}
	key, err := f.keys.signer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	now := f.clock.Now()
	header := func(edit func(h map[string]any)) map[string]any {
		h := map[string]any{"alg": "ES256", "kid": key.kid, "typ": "vnd.backstage.user"}
		if edit != nil {
			edit(h)
		}
		return h
	}
	claims := func(edit func(c map[string]any)) map[string]any {
		c := map[string]any{"iss": testIssuer, "sub": "user:default/jane", "ent": []string{"user:default/jane"},
			"aud": "backstage", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
		if edit != nil {
			edit(c)
		}
		return c
	}
	signed := func(hedit func(map[string]any), cedit func(map[string]any)) string {
		return craft(t, header(hedit), claims(cedit), es256(t, key.private))
	}
	parts := strings.Split(good, ".")
	pubDER, err := x509.MarshalPKIXPublicKey(&key.private.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	jwks, err := f.keys.JWKS(ctx)
	if err != nil {
		t.Fatal(err)
	}
	jwksJSON, err := json.Marshal(jwks)
	if err != nil {
		t.Fatal(err)
	}
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}

	// The crafting itself is checked: made right, it is accepted.
	if _, err := f.tokens.Verify(ctx, signed(nil, nil)); err != nil {
		t.Fatalf("a crafted valid token is refused: %v", err)
	}

	tests := []struct {
		name  string
		token string
	}{
		{"empty", ""},
		{"not a JWT", "hello"},
		{"tampered payload", parts[0] + "." + b64.EncodeToString([]byte(`{"iss":"`+testIssuer+
			`","sub":"user:default/admin","ent":["user:default/admin"],"aud":"backstage","iat":`+
			jsonNum(now.Unix())+`,"exp":`+jsonNum(now.Add(time.Hour).Unix())+`}`)) + "." + parts[2]},
		{"tampered signature", parts[0] + "." + parts[1] + "." + flipLast(parts[2])},
		{"signature removed", parts[0] + "." + parts[1] + "."},
		{"wrong aud", signed(nil, func(c map[string]any) { c["aud"] = "other" })},
		{"no aud", signed(nil, func(c map[string]any) { delete(c, "aud") })},
		{"wrong iss", signed(nil, func(c map[string]any) { c["iss"] = "https://evil.example.com/api/auth" })},
		{"no iss", signed(nil, func(c map[string]any) { delete(c, "iss") })},
		{"expired", signed(nil, func(c map[string]any) {
			c["iat"] = now.Add(-2 * time.Hour).Unix()
			c["exp"] = now.Add(-clockLeeway - time.Second).Unix()
		})},
		{"no exp", signed(nil, func(c map[string]any) { delete(c, "exp") })},
		{"no iat", signed(nil, func(c map[string]any) { delete(c, "iat") })},
		{"issued in the future", signed(nil, func(c map[string]any) { c["iat"] = now.Add(5 * time.Minute).Unix() })},
		{"not yet valid", signed(nil, func(c map[string]any) { c["nbf"] = now.Add(5 * time.Minute).Unix() })},
		{"no sub", signed(nil, func(c map[string]any) { delete(c, "sub") })},
		{"sub not an entity ref", signed(nil, func(c map[string]any) { c["sub"] = "jane" })},
		{"alg none", craft(t, header(func(h map[string]any) { h["alg"] = "none" }), claims(nil), nil)},
		{"alg none, signed anyway", craft(t, header(func(h map[string]any) { h["alg"] = "none" }), claims(nil), es256(t, key.private))},
		{"HS256 with the public key's PEM as secret", craft(t, header(func(h map[string]any) { h["alg"] = "HS256" }), claims(nil), hs256(pubPEM))},
		{"HS256 with the JWKS as secret", craft(t, header(func(h map[string]any) { h["alg"] = "HS256" }), claims(nil), hs256(jwksJSON))},
		{"ES384 claimed", craft(t, header(func(h map[string]any) { h["alg"] = "ES384" }), claims(nil), es256(t, key.private))},
		{"unknown kid", craft(t, header(func(h map[string]any) { h["kid"] = "nope" }), claims(nil), es256(t, other))},
		{"no kid", craft(t, header(func(h map[string]any) { delete(h, "kid") }), claims(nil), es256(t, key.private))},
		{"known kid, other key", craft(t, header(nil), claims(nil), es256(t, other))},
		{"wrong typ", signed(func(h map[string]any) { h["typ"] = "JWT" }, nil)},
		{"limited user typ", signed(func(h map[string]any) { h["typ"] = "vnd.backstage.limited-user" }, nil)},
		{"no typ", signed(func(h map[string]any) { delete(h, "typ") }, nil)},
		{"JSON serialization", `{"payload":"` + parts[1] + `","protected":"` + parts[0] + `","signature":"` + parts[2] + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := f.tokens.Verify(ctx, tt.token)
			if err == nil {
				t.Fatalf("Verify accepted it as %+v", id)
			}
			t.Logf("refused: %v", err)
			if !errors.Is(err, derrors.ErrUnauthenticated) {
				t.Errorf("Verify = %v, want an ErrUnauthenticated", err)
			}
		})
	}
}

// TestVerifyRefusesRotatedAwayKey signs a token that claims to be valid
// for a long time with a key that is no longer published: it must be
// refused, by the replica that knew the key and by one that never did.
func TestVerifyRefusesRotatedAwayKey(t *testing.T) {
	st := openStore(t)
	c := newClock()
	f := newFixture(t, st, c)
	ctx := context.Background()
	old, err := f.keys.signer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.tokens.Verify(ctx, mustIssue(t, f)); err != nil {
		t.Fatal(err)
	}
	c.Advance(DefaultKeyRotation + DefaultTokenLifetime + clockLeeway)
	if _, err := f.keys.signer(ctx); err != nil { // a new key; the old one is deleted
		t.Fatal(err)
	}
	now := c.Now()
	token := craft(t, map[string]any{"alg": "ES256", "kid": old.kid, "typ": UserTokenType},
		map[string]any{"iss": testIssuer, "sub": "user:default/jane", "aud": "backstage",
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}, es256(t, old.private))
	for name, f := range map[string]*fixture{"same replica": f, "new replica": newFixture(t, st, c)} {
		if _, err := f.tokens.Verify(ctx, token); !errors.Is(err, derrors.ErrUnauthenticated) {
			t.Errorf("%s: Verify = %v, want an ErrUnauthenticated", name, err)
		}
	}
}

func TestNewTokens(t *testing.T) {
	keys := NewKeys(openStore(t), KeysOptions{TokenLifetime: time.Hour})
	for _, tt := range []struct {
		name string
		opts TokensOptions
		ok   bool
	}{
		{"defaults", TokensOptions{Issuer: testIssuer}, true},
		{"no issuer", TokensOptions{}, false},
		{"outlives its key", TokensOptions{Issuer: testIssuer, Lifetime: 2 * time.Hour}, false},
	} {
		_, err := NewTokens(keys, tt.opts)
		if (err == nil) != tt.ok {
			t.Errorf("%s: err = %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}

func mustIssue(t *testing.T, f *fixture) string {
	t.Helper()
	token, _, err := f.tokens.Issue(context.Background(), jane)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

func jsonNum(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// flipLast changes the last byte the base64url string encodes.
func flipLast(s string) string {
	b, err := b64.DecodeString(s)
	if err != nil {
		panic(err)
	}
	b[len(b)-1] ^= 1
	return b64.EncodeToString(b)
}

package auth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/atrium-dev/atrium/internal/derrors"
	"github.com/atrium-dev/atrium/internal/store/storetest"
)

// kidOf returns the kid in a token's header.
func kidOf(t *testing.T, token string) string {
	t.Helper()
	kid, _ := decodePart(t, token, 0)["kid"].(string)
	return kid
}

func jwksKIDs(t *testing.T, k *Keys) []string {
	t.Helper()
	set, err := k.JWKS(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, key := range set.Keys {
		out = append(out, key.KeyID)
	}
	return out
}

// TestKeysRotateAcrossReplicas runs two replicas, each with its own
// store connection to one database, through a key's life: they agree on
// one current key, rotate to one new key, accept each other's tokens, and
// publish the old key until its tokens have expired.
func TestKeysRotateAcrossReplicas(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		stores := openStores(t, e, 2)
		c := newClock()
		replicas := []*fixture{newFixture(t, stores[0], c), newFixture(t, stores[1], c)}

		// Both start at once: one key between them.
		var wg sync.WaitGroup
		tokens := make([]string, 16)
		errs := make([]error, len(tokens))
		for i := range tokens {
			wg.Go(func() { tokens[i], _, errs[i] = replicas[i%2].tokens.Issue(ctx, jane) })
		}
		wg.Wait()
		first := ""
		for i, tok := range tokens {
			if errs[i] != nil {
				t.Fatalf("issue %d: %v", i, errs[i])
			}
			if first == "" {
				first = kidOf(t, tok)
			}
			if kid := kidOf(t, tok); kid != first {
				t.Errorf("token %d signed by %s, token 0 by %s", i, kid, first)
			}
			// Each replica accepts the other's tokens.
			if _, err := replicas[(i+1)%2].tokens.Verify(ctx, tok); err != nil {
				t.Errorf("token %d refused by the other replica: %v", i, err)
			}
		}

		// Just before rotation, the first key still signs.
		c.Advance(DefaultKeyRotation - time.Second)
		last := mustIssue(t, replicas[0])
		if kid := kidOf(t, last); kid != first {
			t.Errorf("before rotation: signed by %s, want %s", kid, first)
		}

		// At rotation, whichever replica comes first makes the next key,
		// and the other uses it too.
		c.Advance(time.Second)
		second := kidOf(t, mustIssue(t, replicas[1]))
		if second == first {
			t.Fatalf("key %s still signs after its rotation period", first)
		}
		if kid := kidOf(t, mustIssue(t, replicas[0])); kid != second {
			t.Errorf("after rotation: replica 0 signs with %s, replica 1 with %s", kid, second)
		}

		// The last token of the old key stays valid on every replica,
		// including one that never saw that key sign.
		fresh := newFixture(t, stores[1], c)
		for i, f := range append(replicas, fresh) {
			if _, err := f.tokens.Verify(ctx, last); err != nil {
				t.Errorf("replica %d refuses the old key's last token: %v", i, err)
			}
		}
		if diff := cmp.Diff([]string{second, first}, jwksKIDs(t, replicas[1].keys)); diff != "" {
			t.Errorf("JWKS after rotation (-want +got):\n%s", diff)
		}

		// Once that token has expired, the old key is no longer published.
		c.Advance(DefaultTokenLifetime - time.Second + clockLeeway + time.Second)
		if diff := cmp.Diff([]string{second}, jwksKIDs(t, replicas[0].keys)); diff != "" {
			t.Errorf("JWKS after the old key's tokens expired (-want +got):\n%s", diff)
		}
		if _, err := replicas[0].tokens.Verify(ctx, last); !errors.Is(err, derrors.ErrUnauthenticated) {
			t.Errorf("old key's expired token: Verify = %v, want an ErrUnauthenticated", err)
		}
	})
}

func TestJWKSHandler(t *testing.T) {
	f := newFixture(t, openStore(t), newClock())
	// Before any token is issued, the set already holds the key that
	// will sign the first.
	rec := httptest.NewRecorder()
	f.keys.JWKSHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/api/auth/.well-known/jwks.json", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	var body struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	key, err := f.keys.signer(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	pub, err := key.private.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		t.Fatal(err)
	}
	want := []map[string]string{{
		"kty": "EC", "crv": "P-256", "kid": key.kid, "use": "sig", "alg": "ES256",
		"x": b64.EncodeToString(pub[1:33]),
		"y": b64.EncodeToString(pub[33:]),
	}}
	if diff := cmp.Diff(want, body.Keys); diff != "" {
		t.Errorf("JWKS (-want +got):\n%s", diff)
	}
	if kid := kidOf(t, mustIssue(t, f)); kid != key.kid {
		t.Errorf("first token signed by %s, JWKS published %s", kid, key.kid)
	}
}

package oidc

import (
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSealer(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	f := flow{State: "state", Nonce: "nonce", Verifier: "verifier", Redirect: "/catalog", Expires: now.Add(time.Minute).Unix()}
	s, err := newSealer(stateKey, "atrium", "https://atrium.example.com/api/auth/oidc/handler/frame")
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := s.seal(f)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("round trip", func(t *testing.T) {
		got, err := s.open(sealed, now)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(f, got); diff != "" {
			t.Errorf("open(seal(f)) (-want +got):\n%s", diff)
		}
	})

	t.Run("each seal differs", func(t *testing.T) {
		again, err := s.seal(f)
		if err != nil {
			t.Fatal(err)
		}
		if again == sealed {
			t.Error("sealing the same flow twice gave the same cookie: the GCM nonce is not random")
		}
	})

	t.Run("expired", func(t *testing.T) {
		if _, err := s.open(sealed, now.Add(time.Minute)); !errors.Is(err, errStateExpired) {
			t.Errorf("open after expiry: %v, want errStateExpired", err)
		}
	})

	t.Run("any changed byte", func(t *testing.T) {
		raw, err := base64.RawURLEncoding.DecodeString(sealed)
		if err != nil {
			t.Fatal(err)
		}
		for i := range raw {
			changed := append([]byte(nil), raw...)
			changed[i] ^= 0x01
			if _, err := s.open(base64.RawURLEncoding.EncodeToString(changed), now); !errors.Is(err, errStateInvalid) {
				t.Fatalf("open with byte %d changed: %v, want errStateInvalid", i, err)
			}
		}
		if _, err := s.open(sealed[:len(sealed)-4], now); !errors.Is(err, errStateInvalid) {
			t.Errorf("open of a truncated cookie: %v, want errStateInvalid", err)
		}
		if _, err := s.open("not base64!", now); !errors.Is(err, errStateInvalid) {
			t.Errorf("open of garbage: %v, want errStateInvalid", err)
		}
	})

	others := []struct {
		name               string
		key                []byte
		clientID, callback string
	}{
		{"another key", []byte("fedcba9876543210fedcba9876543210"), "atrium", "https://atrium.example.com/api/auth/oidc/handler/frame"},
		{"another client", stateKey, "other", "https://atrium.example.com/api/auth/oidc/handler/frame"},
		{"another callback", stateKey, "atrium", "https://staging.example.com/api/auth/oidc/handler/frame"},
	}
	for _, o := range others {
		t.Run(o.name, func(t *testing.T) {
			other, err := newSealer(o.key, o.clientID, o.callback)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := other.open(sealed, now); !errors.Is(err, errStateInvalid) {
				t.Errorf("open: %v, want errStateInvalid", err)
			}
		})
	}
}

func TestReadClaims(t *testing.T) {
	tests := []struct {
		name, json string
		want       claims
	}{
		{"verified", `{"email":" jane@example.com ","email_verified":true,"preferred_username":"jane"}`, claims{Email: "jane@example.com", EmailVerified: new(true), PreferredUsername: "jane"}},
		{"unverified", `{"email":"jane@example.com","email_verified":false}`, claims{Email: "jane@example.com", EmailVerified: new(false)}},
		{"verified as a string", `{"email":"jane@example.com","email_verified":"true"}`, claims{Email: "jane@example.com", EmailVerified: new(true)}},
		{"unverified as a string", `{"email":"jane@example.com","email_verified":"false"}`, claims{Email: "jane@example.com", EmailVerified: new(false)}},
		{"not said", `{"email":"jane@example.com"}`, claims{Email: "jane@example.com"}},
		{"nothing", `{}`, claims{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readClaims(func(v any) error { return jsonUnmarshal(tt.json, v) })
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("readClaims (-want +got):\n%s", diff)
			}
		})
	}
}

package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"

	"github.com/atrium-dev/atrium/internal/store"
)

// KeyStore keeps the signing keys where every replica sees them;
// *store.Store is one.
type KeyStore interface {
	// CurrentSigningKey returns the key that signs at now, storing the
	// one newKey makes when there is none, so that replicas agree on one.
	CurrentSigningKey(ctx context.Context, now time.Time, newKey func() (store.SigningKey, error)) (store.SigningKey, error)
	// SigningKey returns the key with that id, or a wrapped store.ErrNotFound.
	SigningKey(ctx context.Context, kid string) (store.SigningKey, error)
	// SigningKeys returns the keys published at now.
	SigningKeys(ctx context.Context, now time.Time) ([]store.SigningKey, error)
}

// Default lifetimes.
const (
	// DefaultKeyRotation is how long a signing key signs before the next
	// one replaces it.
	DefaultKeyRotation = 24 * time.Hour
	// DefaultTokenLifetime is how long a user token is valid.
	DefaultTokenLifetime = time.Hour
)

// clockLeeway is how far apart the clocks of the replica that signs a
// token and the one that checks it may be.
const clockLeeway = 30 * time.Second

// KeysOptions tune NewKeys.
type KeysOptions struct {
	// Rotation is how long a key signs tokens before a new key replaces
	// it; DefaultKeyRotation when zero.
	Rotation time.Duration
	// TokenLifetime is the longest lifetime of the tokens the keys sign
	// (DefaultTokenLifetime when zero): a key stays published for that
	// long after it retires, until every token it signed has expired.
	TokenLifetime time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Keys are the ES256 (P-256) keys that sign user tokens. They live in the
// database, shared by every replica: one current key signs at a time, and
// a key is replaced when older than the rotation period. The current key
// is created on first use by whichever replica asks first, under the
// store's lock, so replicas starting together agree on it.
type Keys struct {
	st            KeyStore
	rotation      time.Duration
	tokenLifetime time.Duration
	now           func() time.Time

	// rotating serialises this replica's trips to the store for a new
	// current key, so that a burst of requests makes one.
	rotating sync.Mutex

	mu      sync.Mutex
	current *signingKey            // nil until first use
	byKID   map[string]*signingKey // keys seen, until they expire
}

// signingKey is a stored key, parsed.
type signingKey struct {
	kid       string
	private   *ecdsa.PrivateKey
	retireAt  time.Time
	expiresAt time.Time
}

// NewKeys returns the signing keys kept in st.
func NewKeys(st KeyStore, opts KeysOptions) *Keys {
	if opts.Rotation <= 0 {
		opts.Rotation = DefaultKeyRotation
	}
	if opts.TokenLifetime <= 0 {
		opts.TokenLifetime = DefaultTokenLifetime
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Keys{st: st, rotation: opts.Rotation, tokenLifetime: opts.TokenLifetime, now: opts.Now,
		byKID: map[string]*signingKey{}}
}

// errUnknownKey is a token's kid naming no published key.
var errUnknownKey = errors.New("unknown signing key")

// signer returns the current signing key, creating or rotating it first
// when needed.
func (k *Keys) signer(ctx context.Context) (*signingKey, error) {
	if cur := k.cached(); cur != nil {
		return cur, nil
	}
	k.rotating.Lock()
	defer k.rotating.Unlock()
	if cur := k.cached(); cur != nil {
		return cur, nil
	}
	now := k.now()
	row, err := k.st.CurrentSigningKey(ctx, now, func() (store.SigningKey, error) { return k.generate(now) })
	if err != nil {
		return nil, err
	}
	sk, err := parseSigningKey(row)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.current = sk
	k.remember(sk, now)
	return sk, nil
}

// cached returns the current key if it still signs.
func (k *Keys) cached() *signingKey {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.current != nil && k.now().Before(k.current.retireAt) {
		return k.current
	}
	return nil
}

// remember caches sk and forgets the keys that expired by now. k.mu is held.
func (k *Keys) remember(sk *signingKey, now time.Time) {
	for kid, old := range k.byKID {
		if !now.Before(old.expiresAt) {
			delete(k.byKID, kid)
		}
	}
	k.byKID[sk.kid] = sk
}

// generate makes a new key that signs from now for the rotation period.
func (k *Keys) generate(now time.Time) (store.SigningKey, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("generate signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("encode signing key: %w", err)
	}
	retire := now.Add(k.rotation)
	return store.SigningKey{
		KID:        uuid.NewString(),
		PrivateKey: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		CreatedAt:  now,
		RetireAt:   retire,
		// A token signed just before retiring is valid for tokenLifetime,
		// and checked with some leeway.
		ExpiresAt: retire.Add(k.tokenLifetime + clockLeeway),
	}, nil
}

// publicKey returns the public key with that kid if it is published, or
// errUnknownKey.
func (k *Keys) publicKey(ctx context.Context, kid string) (*ecdsa.PublicKey, error) {
	now := k.now()
	k.mu.Lock()
	sk := k.byKID[kid]
	k.mu.Unlock()
	if sk == nil {
		// Another replica may have made it since this one last looked.
		row, err := k.st.SigningKey(ctx, kid)
		if errors.Is(err, store.ErrNotFound) {
			return nil, errUnknownKey
		}
		if err != nil {
			return nil, err
		}
		if sk, err = parseSigningKey(row); err != nil {
			return nil, err
		}
		if now.Before(sk.expiresAt) {
			k.mu.Lock()
			k.remember(sk, now)
			k.mu.Unlock()
		}
	}
	if !now.Before(sk.expiresAt) {
		return nil, errUnknownKey
	}
	return &sk.private.PublicKey, nil
}

func parseSigningKey(row store.SigningKey) (*signingKey, error) {
	block, _ := pem.Decode([]byte(row.PrivateKey))
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("signing key %s: not a PKCS#8 PEM block", row.KID)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", row.KID, err)
	}
	priv, ok := key.(*ecdsa.PrivateKey)
	if !ok || priv.Curve != elliptic.P256() {
		return nil, fmt.Errorf("signing key %s: not a P-256 key", row.KID)
	}
	return &signingKey{kid: row.KID, private: priv, retireAt: row.RetireAt, expiresAt: row.ExpiresAt}, nil
}

// jwk is the public JSON Web Key of sk.
func (sk *signingKey) jwk() jose.JSONWebKey {
	return jose.JSONWebKey{Key: &sk.private.PublicKey, KeyID: sk.kid, Algorithm: string(jose.ES256), Use: "sig"}
}

// JWKS returns the public keys published now: every key that signed a
// token not yet expired, and the current one.
func (k *Keys) JWKS(ctx context.Context) (jose.JSONWebKeySet, error) {
	// Make sure the current key exists, so that a verifier fetching the
	// set before the first sign-in finds the key that will sign it.
	if _, err := k.signer(ctx); err != nil {
		return jose.JSONWebKeySet{}, err
	}
	rows, err := k.st.SigningKeys(ctx, k.now())
	if err != nil {
		return jose.JSONWebKeySet{}, err
	}
	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(rows))}
	for _, row := range rows {
		sk, err := parseSigningKey(row)
		if err != nil {
			return jose.JSONWebKeySet{}, err
		}
		set.Keys = append(set.Keys, sk.jwk())
	}
	return set, nil
}

// JWKSHandler serves the published public keys as a JSON Web Key Set
// (GET /api/auth/.well-known/jwks.json), as Backstage's auth backend
// does, for other services to check user tokens with. Errors are logged
// to slog.Default; NewHandler serves the same set with its own logger.
func (k *Keys) JWKSHandler() http.Handler { return newErrorAdapter(nil).wrap(k.serveJWKS) }

func (k *Keys) serveJWKS(w http.ResponseWriter, r *http.Request) error {
	set, err := k.JWKS(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, set)
}

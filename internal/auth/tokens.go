package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/atrium-dev/atrium/internal/catalog/entity"
)

// The user token is Backstage's: an ES256 JWT whose header has typ
// "vnd.backstage.user", and whose claims name the user (sub), the refs it
// owns through (ent), the issuer (backend.baseUrl + "/api/auth") and the
// audience "backstage". Backstage plugins and clients that check tokens
// against our JWKS accept it.
const (
	// UserTokenType is the user token's "typ" header.
	UserTokenType = "vnd.backstage.user"
	// UserTokenAudience is the user token's "aud" claim.
	UserTokenAudience = "backstage"
)

// maxTokenLength bounds an issued token, as Backstage does: a token this
// long comes from a user in hundreds of groups, a catalog bug worth
// hearing about rather than a header that proxies truncate.
const maxTokenLength = 32 << 10

// TokensOptions tune NewTokens.
type TokensOptions struct {
	// Issuer is the "iss" claim tokens carry and must carry to be
	// accepted: backend.baseUrl + "/api/auth". Required.
	Issuer string
	// Lifetime is how long an issued token is valid; DefaultTokenLifetime
	// when zero. It may not exceed the keys' TokenLifetime.
	Lifetime time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Tokens issues and checks user tokens, signed with Keys.
type Tokens struct {
	keys     *Keys
	issuer   string
	lifetime time.Duration
	now      func() time.Time
}

// NewTokens returns the user tokens signed with keys.
func NewTokens(keys *Keys, opts TokensOptions) (*Tokens, error) {
	if opts.Issuer == "" {
		return nil, errors.New("auth: tokens need an issuer")
	}
	if opts.Lifetime <= 0 {
		opts.Lifetime = DefaultTokenLifetime
	}
	if opts.Lifetime > keys.tokenLifetime {
		// A key would stop being published while tokens it signed are valid.
		return nil, fmt.Errorf("auth: token lifetime %v is longer than the keys' %v", opts.Lifetime, keys.tokenLifetime)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Tokens{keys: keys, issuer: opts.Issuer, lifetime: opts.Lifetime, now: opts.Now}, nil
}

// userClaims are the claims of a user token beyond the registered ones.
type userClaims struct {
	// Ent holds the ownership entity refs.
	Ent []string `json:"ent"`
}

// Issue returns a user token for id, a user, and when it expires.
func (t *Tokens) Issue(ctx context.Context, id Identity) (token string, expires time.Time, err error) {
	if id.Kind != KindUser || id.UserRef == "" {
		return "", time.Time{}, errors.New("auth: tokens are issued to users only")
	}
	key, err := t.keys.signer(ctx)
	if err != nil {
		return "", time.Time{}, err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key.private, KeyID: key.kid}},
		(&jose.SignerOptions{}).WithType(UserTokenType))
	if err != nil {
		return "", time.Time{}, fmt.Errorf("auth: signer: %w", err)
	}
	now := t.now()
	// Tokens count in whole seconds: expires is what the claim says.
	expires = time.Unix(now.Add(t.lifetime).Unix(), 0)
	ent := id.OwnershipRefs
	if len(ent) == 0 {
		ent = []string{id.UserRef}
	}
	std := jwt.Claims{
		Issuer:   t.issuer,
		Subject:  id.UserRef,
		Audience: jwt.Audience{UserTokenAudience},
		IssuedAt: jwt.NewNumericDate(now),
		Expiry:   jwt.NewNumericDate(expires),
	}
	token, err = jwt.Signed(signer).Claims(std).Claims(userClaims{Ent: ent}).Serialize()
	if err != nil {
		return "", time.Time{}, fmt.Errorf("auth: sign token: %w", err)
	}
	if len(token) > maxTokenLength {
		return "", time.Time{}, fmt.Errorf("auth: token for %s would be %d bytes long, with %d ownership refs", id.UserRef, len(token), len(ent))
	}
	return token, expires, nil
}

// Verify checks a user token and returns the identity it carries. A token
// that is malformed, not signed with ES256 by a published key, of another
// type, issuer or audience, expired or not yet valid, or naming no user
// is refused with an error of kind derrors.ErrUnauthenticated; other
// errors (the store failing) are the server's.
func (t *Tokens) Verify(ctx context.Context, token string) (Identity, error) {
	// Only ES256 parses: "none", HS256 signed with the public key as the
	// secret, and every other algorithm are refused here.
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return Identity{}, unauthenticated(err, "Invalid token")
	}
	if len(tok.Headers) != 1 {
		return Identity{}, unauthenticated(nil, "Invalid token")
	}
	h := tok.Headers[0]
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != UserTokenType {
		return Identity{}, unauthenticated(fmt.Errorf("typ %q", typ), "Invalid token type")
	}
	if h.KeyID == "" {
		return Identity{}, unauthenticated(nil, "Invalid token: no key id")
	}
	pub, err := t.keys.publicKey(ctx, h.KeyID)
	if errors.Is(err, errUnknownKey) {
		return Identity{}, unauthenticated(fmt.Errorf("kid %q", h.KeyID), "Invalid token")
	}
	if err != nil {
		return Identity{}, fmt.Errorf("auth: token key: %w", err)
	}
	var std jwt.Claims
	var user userClaims
	if err := tok.Claims(pub, &std, &user); err != nil {
		return Identity{}, unauthenticated(err, "Invalid token")
	}
	if std.Expiry == nil || std.IssuedAt == nil {
		return Identity{}, unauthenticated(nil, "Invalid token: no expiry or issue time")
	}
	expected := jwt.Expected{Issuer: t.issuer, AnyAudience: jwt.Audience{UserTokenAudience}, Time: t.now()}
	if err := std.ValidateWithLeeway(expected, clockLeeway); err != nil {
		msg := "Invalid token"
		if errors.Is(err, jwt.ErrExpired) {
			msg = "Token expired"
		}
		return Identity{}, unauthenticated(err, msg)
	}
	if _, err := entity.ParseRef(std.Subject, entity.RefDefaults{}); err != nil {
		return Identity{}, unauthenticated(err, "Invalid token: no user")
	}
	return User(strings.ToLower(std.Subject), lower(user.Ent)), nil
}

// lower returns refs lowercased, as Identity keeps them.
func lower(refs []string) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = strings.ToLower(r)
	}
	return out
}

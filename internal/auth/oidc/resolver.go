package oidc

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/atrium-dev/atrium/internal/auth"
	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/derrors"
)

// Users finds catalog users for the sign-in resolvers.
type Users interface {
	// FindUser returns the lowercase ref of the catalog User whose
	// spec.profile.email (by == "email") or metadata.name (by == "name")
	// equals value (case-insensitive); ok false if none; an error if
	// several match.
	FindUser(ctx context.Context, by, value string) (ref string, ok bool, err error)
	// Ownership returns the user's ownership refs: itself and its groups.
	Ownership(ctx context.Context, userRef string) ([]string, error)
}

// claims are what the resolvers read of the signed-in person: from the
// verified ID token, completed from the userinfo endpoint.
type claims struct {
	Subject string
	Email   string
	// EmailVerified is the email_verified claim; nil when the provider
	// did not say.
	EmailVerified     *bool
	PreferredUsername string
}

// lookup is one question to the catalog: the user whose attribute by
// ("email" or "name") is value.
type lookup struct{ by, value string }

// strategy is what a resolver looks up for given claims: the lookups, in
// order, and the entity name of the fallback identity used when none
// finds a user and the catalog may be bypassed ("" for no fallback).
type strategy struct {
	// usesEmail marks resolvers that read the email claim, and so apply
	// allowedDomains and refuse an unverified email.
	usesEmail bool
	plan      func(c claims) (lookups []lookup, fallback string)
}

// strategies are the resolvers by name.
var strategies = map[ResolverName]strategy{
	EmailMatchingUserEntityProfileEmail: {usesEmail: true, plan: func(c claims) ([]lookup, string) {
		email := strings.ToLower(c.Email)
		plain := withoutPlus(email)
		lookups := []lookup{{"email", email}}
		if plain != email {
			lookups = append(lookups, lookup{"email", plain})
		}
		// Backstage names the fallback user by the whole address; a
		// catalog name cannot contain "@", so it never collides with a
		// User that exists.
		fallback := ""
		if fallbackEmailRe.MatchString(plain) {
			fallback = plain
		}
		return lookups, fallback
	}},
	EmailLocalPartMatchingUserEntityName: {usesEmail: true, plan: func(c claims) ([]lookup, string) {
		local, _, _ := strings.Cut(c.Email, "@")
		return byName(local)
	}},
	UsernameMatchingUserEntityName:          {plan: func(c claims) ([]lookup, string) { return byName(c.PreferredUsername) }},
	PreferredUsernameMatchingUserEntityName: {plan: func(c claims) ([]lookup, string) { return byName(c.PreferredUsername) }},
}

// byName looks name up as a User's metadata.name, if it can be one.
func byName(name string) ([]lookup, string) {
	name = strings.ToLower(name)
	if !entity.IsValidObjectName(name) {
		return nil, ""
	}
	return []lookup{{"name", name}}, name
}

// fallbackEmailRe is the shape of an email address that may name a
// fallback identity: nothing that would read as part of a ref ("/", ":")
// or be rewritten in a URL.
var fallbackEmailRe = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}@[a-z0-9][a-z0-9.-]{0,252}$`)

// withoutPlus removes plus addressing: "jane+work@example.com" becomes
// "jane@example.com".
func withoutPlus(email string) string {
	local, domain, ok := strings.Cut(email, "@")
	if !ok {
		return email
	}
	if i := strings.IndexByte(local, '+'); i > 0 {
		return local[:i] + "@" + domain
	}
	return email
}

// errNoMatch is a resolver finding nobody: the next resolver is tried.
var errNoMatch = errors.New("no catalog user matched")

// resolver is a configured sign-in resolver.
type resolver struct {
	ResolverConfig
	strategy
}

// resolve returns the identity r finds for c, errNoMatch if it finds
// none, or a failure that ends the sign-in.
func (r resolver) resolve(ctx context.Context, users Users, c claims) (auth.Identity, error) {
	if r.usesEmail {
		if c.Email == "" {
			return auth.Identity{}, fmt.Errorf("%s: no email claim: %w", r.Resolver, errNoMatch)
		}
		_, domain, ok := strings.Cut(c.Email, "@")
		if !ok || domain == "" || strings.Contains(domain, "@") {
			return auth.Identity{}, fail(ErrorUnknownUser, fmt.Errorf("%s: email claim %q is not an address", r.Resolver, c.Email))
		}
		if len(r.AllowedDomains) > 0 && !slices.Contains(r.AllowedDomains, strings.ToLower(domain)) {
			return auth.Identity{}, fail(ErrorDomainNotAllowed, fmt.Errorf("%s: email domain %q is not in allowedDomains", r.Resolver, domain))
		}
		if c.EmailVerified != nil && !*c.EmailVerified {
			// Matching an address its holder has not proven would let
			// anyone who can type a colleague's email sign in as them.
			return auth.Identity{}, fail(ErrorEmailNotVerified, fmt.Errorf("%s: the provider says email %q is not verified", r.Resolver, c.Email))
		}
	}
	lookups, fallback := r.plan(c)
	for _, l := range lookups {
		ref, ok, err := users.FindUser(ctx, l.by, l.value)
		if errors.Is(err, derrors.ErrConflict) {
			return auth.Identity{}, fail(ErrorAmbiguousUser, fmt.Errorf("%s: find user by %s %q: %w", r.Resolver, l.by, l.value, err))
		}
		if err != nil {
			return auth.Identity{}, fmt.Errorf("%s: find user by %s %q: %w", r.Resolver, l.by, l.value, err)
		}
		if !ok {
			continue
		}
		ref = strings.ToLower(ref)
		own, err := users.Ownership(ctx, ref)
		if err != nil {
			return auth.Identity{}, fmt.Errorf("%s: ownership of %s: %w", r.Resolver, ref, err)
		}
		return auth.User(ref, own), nil
	}
	if r.DangerouslyAllowSignInWithoutUserInCatalog && fallback != "" {
		ref := entity.Ref{Kind: "user", Namespace: entity.DefaultNamespace, Name: fallback}.Key()
		return auth.User(ref, nil), nil
	}
	return auth.Identity{}, fmt.Errorf("%s: %w (looked up %v)", r.Resolver, errNoMatch, lookups)
}

// resolve runs the resolvers in order and returns the first identity
// found.
func (p *Provider) resolve(ctx context.Context, c claims) (auth.Identity, error) {
	var misses []error
	for _, r := range p.resolvers {
		id, err := r.resolve(ctx, p.users, c)
		if errors.Is(err, errNoMatch) {
			misses = append(misses, err)
			continue
		}
		return id, err
	}
	return auth.Identity{}, fail(ErrorUnknownUser, errors.Join(misses...))
}

package auth

import (
	"context"
	"slices"
	"strings"

	"github.com/atrium-dev/atrium/internal/audit"
)

// Identity is who a request comes from.
type Identity struct {
	// Kind is KindUser or KindService.
	Kind string `json:"kind"`
	// UserRef is the signed-in user's entity ref, lowercase
	// ("user:default/jane"); empty for services.
	UserRef string `json:"userEntityRef,omitempty"`
	// OwnershipRefs are the refs the user owns through: the user and the
	// groups it is a member of (transitively through parent groups when
	// so configured), lowercase and sorted. Empty for services.
	OwnershipRefs []string `json:"ownershipEntityRefs,omitempty"`
	// Subject names a service token's holder (backend.auth.externalAccess
	// subject); empty for users.
	Subject string `json:"subject,omitempty"`
}

// Identity kinds.
const (
	KindUser    = "user"
	KindService = "service"
)

// User returns the identity of a user with its ownership refs.
func User(ref string, ownership []string) Identity {
	own := slices.Clone(ownership)
	if !slices.Contains(own, ref) {
		own = append(own, ref)
	}
	slices.Sort(own)
	return Identity{Kind: KindUser, UserRef: ref, OwnershipRefs: slices.Compact(own)}
}

// Service returns the identity of a service token's holder.
func Service(subject string) Identity { return Identity{Kind: KindService, Subject: subject} }

// Actor is the identity as the audit log records it: "user:default/jane"
// or "service:<subject>".
func (i Identity) Actor() audit.Actor {
	if i.Kind == KindService {
		return audit.Actor{Kind: "service", ID: i.Subject}
	}
	// A user ref is "user:<namespace>/<name>": the actor kind is its kind.
	if rest, ok := strings.CutPrefix(i.UserRef, "user:"); ok {
		return audit.Actor{Kind: "user", ID: rest}
	}
	return audit.Actor{Kind: "user", ID: i.UserRef}
}

type identityKey struct{}

// WithIdentity returns ctx carrying id, and id as the audit actor of the
// changes made under it.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return audit.WithActor(context.WithValue(ctx, identityKey{}, id), id.Actor())
}

// IdentityFrom returns the identity ctx carries; ok is false for an
// unauthenticated request.
func IdentityFrom(ctx context.Context) (id Identity, ok bool) {
	id, ok = ctx.Value(identityKey{}).(Identity)
	return id, ok
}

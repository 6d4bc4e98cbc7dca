package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// StaticToken is one backend.auth.externalAccess entry of type static:
// a fixed token that a service presents as "Authorization: Bearer
// <token>" to act as Subject.
type StaticToken struct {
	// Token is the secret (options.token): at least 8 characters, no
	// whitespace.
	Token string
	// Subject names the holder (options.subject) in logs and the audit
	// log; no whitespace.
	Subject string
	// Restrictions (accessRestrictions) limit what the token may do. None
	// means it may do anything a service may.
	Restrictions []AccessRestriction
}

// AccessRestriction is one accessRestrictions entry: the token may reach
// Plugin, and there only the permissions it names.
type AccessRestriction struct {
	// Plugin is the id of a plugin the token may reach ("catalog").
	Plugin string
	// Permissions (permission), if any, are the only permission names the
	// token is granted in the plugin ("catalog.entity.read").
	Permissions []string
	// Actions (permissionAttribute.action), if any, are the only
	// permission actions it is granted: create, read, update, delete.
	Actions []string
}

// minStaticTokenLength is Backstage's shortest static token.
const minStaticTokenLength = 8

// permissionActions are the actions a permission may have.
var permissionActions = []string{"create", "read", "update", "delete"}

// StaticTokens are the configured static service tokens.
type StaticTokens struct {
	entries []staticEntry
}

type staticEntry struct {
	digest       [sha256.Size]byte
	subject      string
	restrictions []AccessRestriction
}

// NewStaticTokens checks tokens as Backstage does and returns them ready
// to verify. Permission names and actions may be given as Backstage's
// config allows, several in one string separated by spaces or commas.
func NewStaticTokens(tokens []StaticToken) (*StaticTokens, error) {
	s := &StaticTokens{}
	seen := map[string]bool{}
	for i, t := range tokens {
		switch {
		case t.Token == "" || strings.IndexFunc(t.Token, unicode.IsSpace) >= 0:
			return nil, fmt.Errorf("static token %d: illegal token, must be a set of non-space characters", i+1)
		case len(t.Token) < minStaticTokenLength:
			return nil, fmt.Errorf("static token %d: illegal token, must be at least %d characters long", i+1, minStaticTokenLength)
		case t.Subject == "" || strings.IndexFunc(t.Subject, unicode.IsSpace) >= 0:
			return nil, fmt.Errorf("static token %d: illegal subject, must be a set of non-space characters", i+1)
		case seen[t.Token]:
			return nil, fmt.Errorf("static token %d: token was declared more than once", i+1)
		}
		seen[t.Token] = true
		rs, err := normalizeRestrictions(t.Restrictions)
		if err != nil {
			return nil, fmt.Errorf("static token %d (%s): %w", i+1, t.Subject, err)
		}
		s.entries = append(s.entries, staticEntry{digest: sha256.Sum256([]byte(t.Token)), subject: t.Subject, restrictions: rs})
	}
	return s, nil
}

func normalizeRestrictions(in []AccessRestriction) ([]AccessRestriction, error) {
	var out []AccessRestriction
	for _, r := range in {
		if r.Plugin == "" {
			return nil, errors.New("access restriction without a plugin")
		}
		if slices.ContainsFunc(out, func(o AccessRestriction) bool { return o.Plugin == r.Plugin }) {
			return nil, fmt.Errorf("access restrictions declared twice for plugin %q", r.Plugin)
		}
		actions := splitList(r.Actions)
		for _, a := range actions {
			if !slices.Contains(permissionActions, a) {
				return nil, fmt.Errorf("invalid permission action %q for plugin %q, valid actions are %s",
					a, r.Plugin, strings.Join(permissionActions, ", "))
			}
		}
		out = append(out, AccessRestriction{Plugin: r.Plugin, Permissions: splitList(r.Permissions), Actions: actions})
	}
	return out, nil
}

// splitList splits each value on spaces and commas and drops empty and
// repeated items, keeping their order.
func splitList(values []string) []string {
	var out []string
	for _, v := range values {
		for item := range strings.FieldsFuncSeq(v, func(r rune) bool { return r == ' ' || r == ',' }) {
			if !slices.Contains(out, item) {
				out = append(out, item)
			}
		}
	}
	return out
}

// Verify returns the service identity and access restrictions of token,
// and false if it is none of the static tokens. It compares token with
// every configured token in constant time, so timing tells nothing of
// how close a guess came.
func (s *StaticTokens) Verify(token string) (Identity, []AccessRestriction, bool) {
	if s == nil {
		return Identity{}, nil, false
	}
	digest := sha256.Sum256([]byte(token))
	match := -1
	for i := range s.entries {
		if subtle.ConstantTimeCompare(digest[:], s.entries[i].digest[:]) == 1 {
			match = i
		}
	}
	if match < 0 {
		return Identity{}, nil, false
	}
	e := s.entries[match]
	return Service(e.subject), cloneRestrictions(e.restrictions), true
}

// cloneRestrictions copies rs deeply, so that callers cannot change the
// configured ones.
func cloneRestrictions(rs []AccessRestriction) []AccessRestriction {
	if rs == nil {
		return nil
	}
	out := make([]AccessRestriction, len(rs))
	for i, r := range rs {
		out[i] = AccessRestriction{Plugin: r.Plugin, Permissions: slices.Clone(r.Permissions), Actions: slices.Clone(r.Actions)}
	}
	return out
}

// Permits reports whether a caller restricted by rs may use permission
// (with its action attribute, "" if it has none) in plugin, as Backstage
// applies accessRestrictions: no restrictions allow everything; otherwise
// the plugin must be listed, and its entry's permission names and
// actions, where given, must include the permission's.
func Permits(rs []AccessRestriction, plugin, permission, action string) bool {
	if len(rs) == 0 {
		return true
	}
	i := slices.IndexFunc(rs, func(r AccessRestriction) bool { return r.Plugin == plugin })
	if i < 0 {
		return false
	}
	r := rs[i]
	if len(r.Permissions) > 0 && !slices.Contains(r.Permissions, permission) {
		return false
	}
	if len(r.Actions) > 0 && !slices.Contains(r.Actions, action) {
		return false
	}
	return true
}

// PermitsPlugin reports whether a caller restricted by rs may reach
// plugin at all. Backstage refuses a restricted token at the door of a
// plugin it does not list.
func PermitsPlugin(rs []AccessRestriction, plugin string) bool {
	return len(rs) == 0 || slices.ContainsFunc(rs, func(r AccessRestriction) bool { return r.Plugin == plugin })
}

package permission

import (
	"fmt"
	"slices"
	"strings"

	"github.com/google/cel-go/cel"

	"github.com/atrium-dev/atrium/internal/auth"
)

// Result is the outcome of a decision, spelt as in Backstage's
// AuthorizeResult.
type Result string

// The results.
const (
	Allow Result = "ALLOW"
	Deny  Result = "DENY"
	// Conditional allows on the resources for which Decision.Conditions
	// hold.
	Conditional Result = "CONDITIONAL"
)

// Decision is a policy's answer for one principal and permission.
type Decision struct {
	Result Result
	// Conditions are set when Result is Conditional, with IS_ENTITY_OWNER
	// claims filled in from the principal where the policy gives none.
	Conditions *Condition
	// Rule names the rule that decided, or is "default" when none applied.
	Rule string
	// Reason says why, in one sentence for humans (logs, the audit trail,
	// `atrium permission check`).
	Reason string
}

// DefaultRule is Decision.Rule when no rule of the policy applied.
const DefaultRule = "default"

// Policy is a parsed policy file: rules tried in order, the first that
// applies deciding. A nil *Policy has no rules, so the defaults decide.
type Policy struct {
	// Name is where the policy was read from, as given to Parse.
	Name  string
	Rules []Rule
}

// Rule is one rule of a policy file. See Parse for the format.
type Rule struct {
	Name        string
	Description string
	// Principals are normalized: "*", "user:*", "service:*",
	// "service:<subject>", or a lowercased user or group ref
	// ("group:default/sre").
	Principals []string
	// Permissions are permission names or globs with a trailing '*'.
	Permissions []string
	// Decision is Allow, Deny or Conditional.
	Decision Result
	// Conditions are set for Conditional rules.
	Conditions *Condition
	// When, if set, is a CEL expression over `principal` that must hold
	// for the rule to apply.
	When string

	when cel.Program
}

// Decide returns the decision of the policy for principal id and
// permission p. The rules are tried in order; the first whose principals
// include id, whose permissions include p, and whose `when` holds decides.
// A conditional rule applies only to catalog-entity resource permissions,
// so for any other permission its globs match, later rules are tried.
//
// When no rule applies, read permissions are allowed and all others
// denied. A zero Identity (no Kind) is unauthenticated and always denied.
func (pol *Policy) Decide(id auth.Identity, p Permission) Decision {
	if id.Kind == "" {
		return Decision{Result: Deny, Rule: DefaultRule, Reason: "Unauthenticated requests are denied."}
	}
	if pol != nil {
		for i := range pol.Rules {
			if d, ok := pol.Rules[i].decide(id, p); ok {
				return d
			}
		}
	}
	if p.Action == ActionRead {
		return Decision{Result: Allow, Rule: DefaultRule,
			Reason: fmt.Sprintf("No rule applies to %s, and read permissions are allowed by default.", p.Name)}
	}
	return Decision{Result: Deny, Rule: DefaultRule,
		Reason: fmt.Sprintf("No rule applies to %s, and permissions other than reads are denied by default.", p.Name)}
}

// decide returns the rule's decision, and false if the rule does not apply.
func (r *Rule) decide(id auth.Identity, p Permission) (Decision, bool) {
	if !r.matchesPermission(p.Name) || !r.matchesPrincipal(id) {
		return Decision{}, false
	}
	if r.Decision == Conditional && !p.canBeConditional() {
		return Decision{}, false
	}
	who := describe(id)
	if r.When != "" {
		prog := r.when
		var err error
		if prog == nil { // a Rule built by hand rather than parsed
			prog, err = compile(principalEnv, r.When)
		}
		ok := false
		if err == nil {
			ok, err = evalBool(prog, map[string]any{"principal": principalValue(id)})
		}
		if err != nil {
			// Failing closed: skipping the rule could let a later rule allow.
			return Decision{Result: Deny, Rule: r.Name,
				Reason: fmt.Sprintf("Rule %q denies %s to %s because its when expression failed: %v.", r.Name, p.Name, who, err)}, true
		}
		if !ok {
			return Decision{}, false
		}
	}
	switch r.Decision {
	case Allow:
		return Decision{Result: Allow, Rule: r.Name, Reason: fmt.Sprintf("Rule %q allows %s to %s.", r.Name, p.Name, who)}, true
	case Conditional:
		if r.Conditions == nil { // a Rule built by hand rather than parsed
			return Decision{Result: Deny, Rule: r.Name,
				Reason: fmt.Sprintf("Rule %q denies %s to %s because it is conditional but has no conditions.", r.Name, p.Name, who)}, true
		}
		if p.Action == ActionRead && r.Conditions.hasExpr() {
			// Parse refuses this for registered permissions; a permission
			// met only through a glob at request time can still get here.
			return Decision{Result: Deny, Rule: r.Name,
				Reason: fmt.Sprintf("Rule %q denies %s to %s because its expr conditions cannot be evaluated in SQL.", r.Name, p.Name, who)}, true
		}
		c := r.Conditions.withClaims(ownershipOf(id))
		return Decision{Result: Conditional, Conditions: &c, Rule: r.Name,
			Reason: fmt.Sprintf("Rule %q allows %s to %s on the entities its conditions match.", r.Name, p.Name, who)}, true
	default:
		return Decision{Result: Deny, Rule: r.Name, Reason: fmt.Sprintf("Rule %q denies %s to %s.", r.Name, p.Name, who)}, true
	}
}

func (r *Rule) matchesPermission(name string) bool {
	return slices.ContainsFunc(r.Permissions, func(pat string) bool { return globMatch(pat, name) })
}

// globMatch matches a permission name against a name or a glob with a
// trailing '*'.
func globMatch(pattern, name string) bool {
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(name, prefix)
	}
	return pattern == name
}

func (r *Rule) matchesPrincipal(id auth.Identity) bool {
	for _, p := range r.Principals {
		switch {
		case p == "*":
			return true
		case p == "user:*":
			if id.Kind == auth.KindUser {
				return true
			}
		case p == "service:*":
			if id.Kind == auth.KindService {
				return true
			}
		case strings.HasPrefix(p, "service:"):
			if id.Kind == auth.KindService && id.Subject == p[len("service:"):] {
				return true
			}
		default:
			if id.Kind == auth.KindUser && (strings.EqualFold(id.UserRef, p) ||
				slices.ContainsFunc(id.OwnershipRefs, func(o string) bool { return strings.EqualFold(o, p) })) {
				return true
			}
		}
	}
	return false
}

// describe names a principal in reasons.
func describe(id auth.Identity) string {
	if id.Kind == auth.KindService {
		return "service " + id.Subject
	}
	return id.UserRef
}

package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/catalog/filter"
	"github.com/atrium-dev/atrium/internal/derrors"
	"github.com/atrium-dev/atrium/internal/store"
)

// FindUser returns the lowercase ref of the catalog User a sign-in
// resolver names: by "email", the user whose spec.profile.email is value
// (any namespace, case-insensitive); by "name", user:default/<value>, as
// Backstage's resolvers look users up. ok is false if there is none; more
// than one user with the email is an error, since signing in as either
// would be a guess.
func (s *Service) FindUser(ctx context.Context, by, value string) (ref string, ok bool, err error) {
	value = strings.ToLower(strings.TrimSpace(value))
	if value == "" {
		return "", false, nil
	}
	switch by {
	case "name":
		r := entity.Ref{Kind: "user", Namespace: entity.DefaultNamespace, Name: value}
		if _, err := s.st.EntityByRef(ctx, r.Key()); errors.Is(err, store.ErrNotFound) {
			return "", false, nil
		} else if err != nil {
			return "", false, err
		}
		return r.Key(), true, nil
	case "email":
		page, err := s.st.QueryEntities(ctx, store.Query{Limit: 2, Filter: filter.All{Exprs: []filter.Expr{
			filter.Match{Key: "kind", Values: []string{"user"}},
			filter.Match{Key: "spec.profile.email", Values: []string{value}},
		}}})
		if err != nil {
			return "", false, err
		}
		switch len(page.Items) {
		case 0:
			return "", false, nil
		case 1:
			var e entity.Entity
			if err := json.Unmarshal(page.Items[0], &e); err != nil {
				return "", false, err
			}
			return e.Ref().Key(), true, nil
		default:
			return "", false, derrors.Conflict("several catalog users have the email %s", value)
		}
	}
	return "", false, fmt.Errorf("find user by %q: unknown attribute", by)
}

// maxOwnershipGroups bounds the groups Ownership collects, against a
// group tree gone wrong.
const maxOwnershipGroups = 500

// Ownership returns the refs a user owns through, lowercase and sorted:
// the user, the groups it is a member of and, when transitive, those
// groups' parents up the tree.
func (s *Service) Ownership(ctx context.Context, userRef string, transitive bool) ([]string, error) {
	userRef = strings.ToLower(userRef)
	out := []string{userRef}
	seen := map[string]bool{userRef: true}
	queue, err := s.relationTargets(ctx, userRef, entity.RelationMemberOf)
	if err != nil {
		return nil, err
	}
	for len(queue) > 0 && len(out) <= maxOwnershipGroups {
		g := queue[0]
		queue = queue[1:]
		if seen[g] {
			continue
		}
		seen[g] = true
		out = append(out, g)
		if transitive {
			parents, err := s.relationTargets(ctx, g, entity.RelationChildOf)
			if err != nil {
				return nil, err
			}
			queue = append(queue, parents...)
		}
	}
	slices.Sort(out)
	return out, nil
}

// relationTargets returns the lowercase targets of the entity's relations
// of type typ; none if the entity is missing.
func (s *Service) relationTargets(ctx context.Context, ref string, typ entity.RelationType) ([]string, error) {
	body, err := s.st.EntityByRef(ctx, ref)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var e struct {
		Relations []entity.Relation `json:"relations"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		return nil, err
	}
	var out []string
	for _, r := range e.Relations {
		if r.Type == typ {
			out = append(out, strings.ToLower(r.TargetRef))
		}
	}
	return out, nil
}

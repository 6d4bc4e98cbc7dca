// Package permission owns who may do what in Atrium: the permissions that
// features check, the policy file of rules that decides each check
// (ALLOW, DENY, or CONDITIONAL on Backstage's catalog conditions), the
// conditions themselves, and their translation into the catalog's filter
// expression so that the store applies conditional reads in SQL. It also
// owns reloading the policy file while Atrium runs.
//
// The package decides; it does not enforce. Each feature asks Decide
// before it acts, and for reads turns a conditional decision into a filter
// with Condition.Filter; for a single loaded entity it checks the
// conditions with Condition.Matches.
package permission

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Permission is something a principal may be allowed to do, named and
// shaped as in Backstage's permission framework.
type Permission struct {
	// Name is the dotted name ("catalog.entity.delete").
	Name string
	// Action is the kind of operation: ActionCreate, ActionRead,
	// ActionUpdate, ActionDelete, or "" for none. Read permissions are
	// allowed by default; every other permission is denied by default.
	Action string
	// ResourceType is the type of resource the permission is checked
	// against ("catalog-entity"), making it a resource permission whose
	// decision may be conditional; "" makes it a basic permission.
	ResourceType string
}

// The actions of a permission, as in Backstage's attributes.action.
const (
	ActionCreate = "create"
	ActionRead   = "read"
	ActionUpdate = "update"
	ActionDelete = "delete"
)

// ResourceCatalogEntity is the resource type of catalog entities. It is the
// only resource type conditions can apply to.
const ResourceCatalogEntity = "catalog-entity"

// The catalog's permissions, as Backstage's catalog-common defines them.
// Creating entities and all location permissions are basic permissions
// in Backstage (they are not checked against one resource), so they are
// here too, and no rule can make them conditional.
var (
	CatalogEntityRead     = Permission{Name: "catalog.entity.read", Action: ActionRead, ResourceType: ResourceCatalogEntity}
	CatalogEntityCreate   = Permission{Name: "catalog.entity.create", Action: ActionCreate}
	CatalogEntityDelete   = Permission{Name: "catalog.entity.delete", Action: ActionDelete, ResourceType: ResourceCatalogEntity}
	CatalogEntityRefresh  = Permission{Name: "catalog.entity.refresh", Action: ActionUpdate, ResourceType: ResourceCatalogEntity}
	CatalogLocationRead   = Permission{Name: "catalog.location.read", Action: ActionRead}
	CatalogLocationCreate = Permission{Name: "catalog.location.create", Action: ActionCreate}
	CatalogLocationDelete = Permission{Name: "catalog.location.delete", Action: ActionDelete}
)

func init() {
	for _, p := range []Permission{
		CatalogEntityRead, CatalogEntityCreate, CatalogEntityDelete, CatalogEntityRefresh,
		CatalogLocationRead, CatalogLocationCreate, CatalogLocationDelete,
	} {
		Register(p)
	}
}

// registry holds every permission Atrium checks. Policy files may name
// only these, so that a misspelt permission is a load error rather than a
// rule that silently never applies.
var registry = struct {
	sync.RWMutex
	m map[string]Permission
}{m: map[string]Permission{}}

// Register adds a permission to the registry. Features register theirs
// from init, before any policy is loaded. It panics if the name is empty,
// contains '*' (reserved for globs in policy files), or is already
// registered, or if the action is unknown: all wiring bugs, found at start.
func Register(p Permission) {
	switch {
	case p.Name == "" || strings.Contains(p.Name, "*"):
		panic(fmt.Sprintf("permission: invalid permission name %q", p.Name))
	case p.Action != "" && !slices.Contains([]string{ActionCreate, ActionRead, ActionUpdate, ActionDelete}, p.Action):
		panic(fmt.Sprintf("permission: %s has unknown action %q", p.Name, p.Action))
	}
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.m[p.Name]; dup {
		panic(fmt.Sprintf("permission: %s registered twice", p.Name))
	}
	registry.m[p.Name] = p
}

// Lookup returns the registered permission with this name.
func Lookup(name string) (Permission, bool) {
	registry.RLock()
	defer registry.RUnlock()
	p, ok := registry.m[name]
	return p, ok
}

// Registered returns every registered permission, sorted by name.
func Registered() []Permission {
	registry.RLock()
	defer registry.RUnlock()
	out := make([]Permission, 0, len(registry.m))
	for _, p := range registry.m {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Permission) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// canBeConditional reports whether a decision on p may be conditional:
// conditions are written over catalog entities, so only catalog-entity
// resource permissions can carry them.
func (p Permission) canBeConditional() bool { return p.ResourceType == ResourceCatalogEntity }

package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/atrium-dev/atrium/internal/audit"
	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/catalog/filter"
	"github.com/atrium-dev/atrium/internal/catalog/source"
	"github.com/atrium-dev/atrium/internal/derrors"
	"github.com/atrium-dev/atrium/internal/permission"
	"github.com/atrium-dev/atrium/internal/store"
)

// QueryEntities answers a page of entities.
func (s *Service) QueryEntities(ctx context.Context, q Query) (Page, error) {
	f, err := s.withReadFilter(ctx, q.Filter)
	if err != nil {
		return Page{}, err
	}
	q.Filter = f
	return s.st.QueryEntities(ctx, q)
}

// EntityByRef returns one entity by kind, namespace and name (case-insensitive).
func (s *Service) EntityByRef(ctx context.Context, ref entity.Ref) (json.RawMessage, error) {
	notFound := derrors.NotFound("No entity named '%s' found, with kind '%s' in namespace '%s'", ref.Name, ref.Kind, ref.Namespace)
	body, err := s.st.EntityByRef(ctx, ref.Key())
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	if err := s.notFoundIfHidden(ctx, ref.Key(), notFound); err != nil {
		return nil, err
	}
	return body, nil
}

// EntityByUID returns one entity by uid.
func (s *Service) EntityByUID(ctx context.Context, uid string) (json.RawMessage, error) {
	notFound := derrors.NotFound("No entity with uid %s", uid)
	body, err := s.st.EntityByUID(ctx, uid)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	var e entity.Entity
	if err := json.Unmarshal(body, &e); err != nil {
		return nil, err
	}
	if err := s.notFoundIfHidden(ctx, e.Ref().Key(), notFound); err != nil {
		return nil, err
	}
	return body, nil
}

// EntitiesByRefs returns the entities for refs in order, nil where an
// entity is missing, does not match f, or the ref is not a full
// kind:namespace/name ref (Backstage applies no defaults here).
func (s *Service) EntitiesByRefs(ctx context.Context, refs []string, f filter.Expr) ([]json.RawMessage, error) {
	keys := make([]string, len(refs))
	for i, r := range refs {
		ref, err := entity.ParseRef(r, entity.RefDefaults{})
		if err != nil || !strings.Contains(r, "/") {
			keys[i] = "\x00invalid" // matches nothing
			continue
		}
		keys[i] = ref.Key()
	}
	f, err := s.withReadFilter(ctx, f)
	if err != nil {
		return nil, err
	}
	return s.st.EntitiesByRefs(ctx, keys, f)
}

// DeleteEntityByUID deletes an entity; if a location still emits it, it
// comes back on that location's next refresh.
func (s *Service) DeleteEntityByUID(ctx context.Context, uid string) error {
	body, err := s.EntityByUID(ctx, uid)
	if err != nil {
		return s.audited(ctx, audit.EntityDeleted, "uid:"+uid, err)
	}
	if err := s.authorize(ctx, permission.CatalogEntityDelete, body); err != nil {
		return s.audited(ctx, audit.EntityDeleted, refOf(body), err)
	}
	_, err = s.st.DeleteByUID(ctx, uid)
	if errors.Is(err, store.ErrNotFound) {
		err = derrors.NotFound("No entity with uid %s", uid)
	}
	s.Wake()
	return s.audited(ctx, audit.EntityDeleted, "uid:"+uid, err)
}

// Children returns the refs (lowercased) of the entities ref emits: for a
// Location, the entities read from its targets.
func (s *Service) Children(ctx context.Context, ref entity.Ref) ([]string, error) {
	return s.st.Children(ctx, ref.Key())
}

// Ancestry returns the entity and the chain of entities that emitted it.
func (s *Service) Ancestry(ctx context.Context, ref entity.Ref) (Ancestry, error) {
	if _, err := s.EntityByRef(ctx, ref); err != nil {
		return Ancestry{}, err
	}
	out := Ancestry{RootEntityRef: ref.Key(), Items: []AncestryItem{}}
	seen := map[string]bool{}
	queue := []string{ref.Key()}
	for len(queue) > 0 && len(seen) < 1000 {
		key := queue[0]
		queue = queue[1:]
		if seen[key] {
			continue
		}
		seen[key] = true
		body, err := s.st.EntityByRef(ctx, key)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return Ancestry{}, err
		}
		// A parent the caller may not read is left out, as if missing.
		if ok, err := s.mayRead(ctx, key); err != nil {
			return Ancestry{}, err
		} else if !ok {
			continue
		}
		parents, err := s.st.Parents(ctx, key)
		if err != nil {
			return Ancestry{}, err
		}
		if parents == nil {
			parents = []string{}
		}
		out.Items = append(out.Items, AncestryItem{Entity: body, ParentEntityRefs: parents})
		queue = append(queue, parents...)
	}
	return out, nil
}

// Facets counts entities per value of each facet among those matching f.
func (s *Service) Facets(ctx context.Context, facets []string, f filter.Expr) (map[string][]FacetCount, error) {
	f, err := s.withReadFilter(ctx, f)
	if err != nil {
		return nil, err
	}
	return s.st.Facets(ctx, facets, f)
}

// Refresh makes the entity and the locations above it refresh now.
func (s *Service) Refresh(ctx context.Context, ref entity.Ref) error {
	body, err := s.EntityByRef(ctx, ref)
	if err == nil {
		err = s.authorize(ctx, permission.CatalogEntityRefresh, body)
	}
	if err != nil && !errors.Is(err, derrors.ErrNotFound) {
		return s.audited(ctx, audit.EntityRefreshRequested, ref.Key(), err)
	}
	// An entity not (yet) served may still be refreshed by who may
	// refresh entities at all: a location whose first read failed.
	if errors.Is(err, derrors.ErrNotFound) {
		if err := s.authorize(ctx, permission.CatalogEntityRefresh, nil); err != nil {
			return s.audited(ctx, audit.EntityRefreshRequested, ref.Key(), err)
		}
	}
	err = s.st.RefreshNow(ctx, ref.Key())
	if errors.Is(err, store.ErrNotFound) {
		err = derrors.NotFound("Entity %s not found", ref.String())
	}
	s.Wake()
	return s.audited(ctx, audit.EntityRefreshRequested, ref.Key(), err)
}

// ValidateEntity checks an entity exactly as processing would, as if it
// were read at location (which must be a url: location ref).
func (s *Service) ValidateEntity(ctx context.Context, raw map[string]any, location string) error {
	if !strings.HasPrefix(location, "url:") {
		return derrors.Invalid("Invalid location ref %q, only 'url:' locations are supported", location)
	}
	e, _, problems := s.check(raw)
	if len(problems) > 0 {
		return &ValidationError{Problems: problems}
	}
	if !s.rules.allowed(e.Kind, specType(e), location, location) {
		return &ValidationError{Problems: entity.Problems{{Path: "kind",
			Message: fmt.Sprintf("entities of kind %s are not allowed from location %s", e.Kind, location)}}}
	}
	return nil
}

// Locations lists the locations registered through the API.
func (s *Service) Locations(ctx context.Context) ([]Location, error) {
	if err := s.authorize(ctx, permission.CatalogLocationRead, nil); err != nil {
		return nil, err
	}
	rows, err := s.st.Locations(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Location, len(rows))
	for i, r := range rows {
		out[i] = Location(r)
	}
	return out, nil
}

// Location returns one registered location.
func (s *Service) Location(ctx context.Context, id string) (Location, error) {
	if err := s.authorize(ctx, permission.CatalogLocationRead, nil); err != nil {
		return Location{}, err
	}
	r, err := s.st.LocationByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Location{}, derrors.NotFound("Found no location with ID %s", id)
	}
	return Location(r), err
}

func (s *Service) checkLocationInput(typ, target string) error {
	if !slices.Contains(s.opts.AllowedLocationTypes, typ) {
		b, _ := json.Marshal(s.opts.AllowedLocationTypes)
		return derrors.Invalid("Registered locations must be of an allowed type %s", b)
	}
	if strings.TrimSpace(target) == "" {
		return derrors.Invalid("Location target must not be empty")
	}
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(target)), "javascript:") {
		return derrors.Invalid("Location target must not be a javascript: URL")
	}
	return nil
}

func (s *Service) checkWritable() error {
	if s.opts.Readonly {
		return derrors.Forbidden("This operation not allowed in readonly mode")
	}
	return nil
}

// AddLocation registers a location (or, with DryRun, reads it and reports
// what it would produce without writing anything).
func (s *Service) AddLocation(ctx context.Context, typ, target string, opts AddLocationOptions) (AddLocationResult, error) {
	if opts.DryRun {
		// Changes nothing, so nothing to record.
		if err := s.authorize(ctx, permission.CatalogLocationRead, nil); err != nil {
			return AddLocationResult{}, err
		}
		return s.addLocation(ctx, typ, target, opts)
	}
	if err := s.authorize(ctx, permission.CatalogLocationCreate, nil); err != nil {
		return AddLocationResult{}, s.audited(ctx, audit.LocationCreated, typ+":"+target, err)
	}
	res, err := s.addLocation(ctx, typ, target, opts)
	return res, s.audited(ctx, audit.LocationCreated, typ+":"+target, err)
}

func (s *Service) addLocation(ctx context.Context, typ, target string, opts AddLocationOptions) (AddLocationResult, error) {
	if err := s.checkLocationInput(typ, target); err != nil {
		return AddLocationResult{}, err
	}
	existing, err := s.st.LocationByTarget(ctx, typ, target)
	exists := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return AddLocationResult{}, err
	}
	if opts.DryRun {
		entities, problems, err := s.dryRun(ctx, typ, target)
		if err != nil {
			return AddLocationResult{}, err
		}
		return AddLocationResult{
			Location: Location{ID: typ + ":" + target, Type: typ, Target: target},
			Entities: entities, Exists: &exists, Problems: problems,
		}, nil
	}
	if err := s.checkWritable(); err != nil {
		return AddLocationResult{}, err
	}
	if exists {
		if opts.OnConflict != "refresh" {
			return AddLocationResult{}, derrors.Conflict("Location %s:%s already exists", typ, target)
		}
		if err := s.Refresh(ctx, locationEntity(typ, target).Ref()); err != nil && !errors.Is(err, derrors.ErrNotFound) {
			return AddLocationResult{}, err
		}
		return AddLocationResult{Location: Location(existing), Entities: []*entity.Entity{}}, nil
	}
	// Read it before registering, so that a target that cannot be read or
	// parsed is refused with its error instead of registered broken.
	if _, _, err := s.dryRun(ctx, typ, target); err != nil {
		return AddLocationResult{}, err
	}
	row := store.LocationRow{ID: uuid.NewString(), Type: typ, Target: target}
	if err := s.st.InsertLocation(ctx, row); err != nil {
		if errors.Is(err, store.ErrLocationExists) {
			return AddLocationResult{}, derrors.Conflict("Location %s:%s already exists", typ, target)
		}
		return AddLocationResult{}, err
	}
	if err := s.syncAPILocations(ctx); err != nil {
		return AddLocationResult{}, err
	}
	return AddLocationResult{Location: Location(row), Entities: []*entity.Entity{locationEntity(typ, target)}}, nil
}

// dryRun reads a location target recursively in memory and returns the
// entities it would produce, starting with its generated Location entity.
func (s *Service) dryRun(ctx context.Context, typ, target string) ([]*entity.Entity, map[string][]string, error) {
	problems := map[string][]string{}
	root := locationEntity(typ, target)
	out := []*entity.Entity{root}
	queue := []*entity.Entity{root}
	for depth := 0; len(queue) > 0 && depth < maxLocationDepth; depth++ {
		var next []*entity.Entity
		for _, loc := range queue {
			res, err := s.readLocation(ctx, loc, depth)
			if err != nil {
				return nil, nil, derrors.Wrap(derrors.ErrInvalid, err, "%s", publicReadError(err))
			}
			for _, c := range res.children {
				out = append(out, c.entity)
				if len(c.child.EmitProblems) > 0 {
					var msgs []string
					if err := json.Unmarshal(c.child.EmitProblems, &msgs); err == nil {
						problems[c.child.Ref] = append(problems[c.child.Ref], msgs...)
					}
				}
				if c.entity.Kind == "Location" {
					next = append(next, c.entity)
				}
			}
		}
		queue = next
	}
	return out, problems, nil
}

// publicReadError is a message for a read or parse error that is safe to
// show to API clients: parse errors name the file and position; reader
// errors are described by their kind only, since their text can carry
// internal detail (resolver addresses, local paths of the server).
func publicReadError(err error) string {
	var pe *source.ParseError
	var na *notAllowedError
	switch {
	case errors.As(err, &pe):
		return pe.Error()
	case errors.As(err, &na):
		return na.Error()
	case errors.Is(err, fs.ErrNotExist):
		return "The location target was not found"
	case errors.Is(err, source.ErrNotAllowed):
		return "Reading the location target is not allowed (backend.reading.allow, or a private network address)"
	case errors.Is(err, source.ErrTooLarge):
		return "The location target is larger than the read limit"
	case errors.Is(err, context.DeadlineExceeded):
		return "Reading the location target timed out"
	default:
		return "The location target could not be read"
	}
}

// UpdateLocation changes a registered location's type and target.
func (s *Service) UpdateLocation(ctx context.Context, id, typ, target string) (Location, error) {
	if err := s.authorize(ctx, permission.CatalogLocationCreate, nil); err != nil {
		return Location{}, s.audited(ctx, audit.LocationUpdated, id, err)
	}
	l, err := s.updateLocation(ctx, id, typ, target)
	return l, s.audited(ctx, audit.LocationUpdated, id, err)
}

func (s *Service) updateLocation(ctx context.Context, id, typ, target string) (Location, error) {
	if err := s.checkWritable(); err != nil {
		return Location{}, err
	}
	if err := s.checkLocationInput(typ, target); err != nil {
		return Location{}, err
	}
	err := s.st.UpdateLocation(ctx, store.LocationRow{ID: id, Type: typ, Target: target})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Location{}, derrors.NotFound("Found no location with ID %s", id)
	case errors.Is(err, store.ErrLocationExists):
		return Location{}, derrors.Conflict("Location %s:%s already exists", typ, target)
	case err != nil:
		return Location{}, err
	}
	return Location{ID: id, Type: typ, Target: target}, s.syncAPILocations(ctx)
}

// DeleteLocation unregisters a location and removes the entities that only
// it produced.
func (s *Service) DeleteLocation(ctx context.Context, id string) error {
	if err := s.authorize(ctx, permission.CatalogLocationDelete, nil); err != nil {
		return s.audited(ctx, audit.LocationDeleted, id, err)
	}
	if err := s.checkWritable(); err != nil {
		return s.audited(ctx, audit.LocationDeleted, id, err)
	}
	err := s.st.DeleteLocation(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		err = derrors.NotFound("Found no location with ID %s", id)
	}
	if err != nil {
		return s.audited(ctx, audit.LocationDeleted, id, err)
	}
	return s.syncAPILocations(ctx)
}

// LocationByEntity returns the registered location that manages an entity.
func (s *Service) LocationByEntity(ctx context.Context, ref entity.Ref) (Location, error) {
	if err := s.authorize(ctx, permission.CatalogLocationRead, nil); err != nil {
		return Location{}, err
	}
	body, err := s.EntityByRef(ctx, ref)
	if err != nil {
		return Location{}, err
	}
	var e entity.Entity
	if err := json.Unmarshal(body, &e); err != nil {
		return Location{}, err
	}
	loc := e.Annotation(entity.AnnotationManagedByOriginLocation)
	typ, target, ok := strings.Cut(loc, ":")
	if !ok {
		return Location{}, derrors.NotFound("Entity %s has no location", ref.String())
	}
	r, err := s.st.LocationByTarget(ctx, typ, target)
	if errors.Is(err, store.ErrNotFound) {
		return Location{}, derrors.NotFound("Found no location with type %s and target %s", typ, target)
	}
	return Location(r), err
}

// refOf returns the lowercase ref of an entity's JSON, or "" if it has
// none, for audit targets.
func refOf(body json.RawMessage) string {
	var e entity.Entity
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	return e.Ref().Key()
}

package api

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/atrium-dev/atrium/internal/catalog"
	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/catalog/filter"
	"github.com/atrium-dev/atrium/internal/derrors"
)

// fakeCatalog implements Catalog over a fixed list of entities kept in id
// (creation) order: the entity at index i has id i+1. It records every
// call's arguments so tests can assert what the handlers asked for.
// QueryEntities ignores filters and order (the store's business) but
// honours limit, offset and keyset positions by id.
type fakeCatalog struct {
	mu       sync.Mutex
	entities []json.RawMessage // in id order; entities[i] has id i+1
	uids     []string          // uids[i] is the uid of entities[i]

	queries []catalog.Query
	calls   []string // method and arguments, one line per call
	err     error    // returned by every method when set
	// failQueryAt makes the n-th QueryEntities call (1-based) fail with err.
	failQueryAt int

	validation error
	locations  []catalog.Location
	facets     map[string][]catalog.FacetCount
}

func newFakeCatalog() *fakeCatalog {
	f := &fakeCatalog{
		locations: []catalog.Location{
			{ID: "loc-1", Type: "url", Target: "https://example.com/a/catalog-info.yaml"},
			{ID: "loc-2", Type: "url", Target: "https://example.com/b/catalog-info.yaml"},
		},
		facets: map[string][]catalog.FacetCount{
			"kind":        {{Value: "Component", Count: 3}, {Value: "Group", Count: 2}},
			"spec.type":   {{Value: "service", Count: 2}, {Value: "website", Count: 1}},
			"metadata.ns": nil,
		},
	}
	add := func(uid, kind, name, extra string) {
		f.uids = append(f.uids, uid)
		f.entities = append(f.entities, json.RawMessage(fmt.Sprintf(
			`{"apiVersion":"backstage.io/v1alpha1","kind":%q,"metadata":{"name":%q,"namespace":"default","uid":%q,"etag":"e-%s"},"spec":{%s}}`,
			kind, name, uid, uid, extra)))
	}
	add("uid-1", "Component", "petstore", `"type":"service","owner":"team-a","lifecycle":"production"`)
	add("uid-2", "Component", "search", `"type":"service","owner":"team-b","lifecycle":"experimental"`)
	add("uid-3", "Component", "website", `"type":"website","owner":"team-a","lifecycle":"production"`)
	add("uid-4", "Group", "team-a", `"type":"team","children":[]`)
	add("uid-5", "Group", "team-b", `"type":"team","children":[]`)
	return f
}

func (f *fakeCatalog) record(format string, args ...any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
	return f.err
}

func (f *fakeCatalog) byUID(uid string) json.RawMessage {
	if i := slices.Index(f.uids, uid); i >= 0 {
		return f.entities[i]
	}
	return nil
}

func (f *fakeCatalog) QueryEntities(ctx context.Context, q catalog.Query) (catalog.Page, error) {
	f.mu.Lock()
	f.queries = append(f.queries, q)
	n := len(f.queries)
	f.mu.Unlock()
	if err := f.record("QueryEntities"); err != nil || (f.failQueryAt > 0 && n >= f.failQueryAt) {
		if err == nil {
			err = fmt.Errorf("database on fire (secret detail)")
		}
		return catalog.Page{}, err
	}
	// The entity at index i has id i+1, so index i comes after the
	// position with id n exactly when i >= n.
	total := len(f.entities)
	var page catalog.Page
	if q.CountTotal {
		page.TotalItems = total
	}
	var lo, hi int
	switch {
	case q.Before != nil:
		hi = int(min(max(q.Before.ID-1, 0), int64(total)))
		lo = 0
		if q.Limit >= 0 && hi-q.Limit > 0 {
			lo = hi - q.Limit
		}
		page.HasMore = lo > 0
	default:
		lo = q.Offset
		if q.After != nil {
			lo = int(min(max(q.After.ID, 0), int64(total)))
		}
		lo = min(lo, total)
		hi = total
		if q.Limit >= 0 && lo+q.Limit < hi {
			hi = lo + q.Limit
		}
		page.HasMore = hi < total
	}
	page.Items = slices.Clone(f.entities[lo:hi])
	if lo < hi {
		page.First = &catalog.Position{ID: int64(lo + 1)}
		page.Last = &catalog.Position{ID: int64(hi)}
	}
	return page, nil
}

// EntityAt answers like EntityByRef for times after 2026 and NotFound
// before, which is enough to test the handler's parameter handling.
func (f *fakeCatalog) EntityAt(ctx context.Context, ref entity.Ref, at time.Time) (json.RawMessage, error) {
	if err := f.record("EntityAt %s %s", ref, at.UTC().Format(time.RFC3339)); err != nil {
		return nil, err
	}
	if at.Year() < 2026 {
		return nil, derrors.NotFound("entity %s did not exist", ref)
	}
	return f.EntityByRef(ctx, ref)
}

func (f *fakeCatalog) EntityByRef(ctx context.Context, ref entity.Ref) (json.RawMessage, error) {
	if err := f.record("EntityByRef %s", ref); err != nil {
		return nil, err
	}
	for _, e := range f.entities {
		var v entity.Entity
		_ = json.Unmarshal(e, &v)
		if v.Ref().Equal(ref) {
			return e, nil
		}
	}
	return nil, derrors.NotFound("entity %s not found", ref)
}

func (f *fakeCatalog) EntityByUID(ctx context.Context, uid string) (json.RawMessage, error) {
	if err := f.record("EntityByUID %s", uid); err != nil {
		return nil, err
	}
	if e := f.byUID(uid); e != nil {
		return e, nil
	}
	return nil, derrors.NotFound("no such uid")
}

func (f *fakeCatalog) EntitiesByRefs(ctx context.Context, refs []string, fl filter.Expr) ([]json.RawMessage, error) {
	if err := f.record("EntitiesByRefs %q %#v", refs, fl); err != nil {
		return nil, err
	}
	out := make([]json.RawMessage, len(refs))
	for i, s := range refs {
		ref, err := entity.ParseRef(s, entity.RefDefaults{})
		if err != nil {
			continue
		}
		if e, err := f.EntityByRef(ctx, ref); err == nil {
			out[i] = e
		}
	}
	return out, nil
}

func (f *fakeCatalog) DeleteEntityByUID(ctx context.Context, uid string) error {
	if err := f.record("DeleteEntityByUID %s", uid); err != nil {
		return err
	}
	if f.byUID(uid) == nil {
		return derrors.NotFound("No entity with uid %s", uid)
	}
	return nil
}

func (f *fakeCatalog) Ancestry(ctx context.Context, ref entity.Ref) (catalog.Ancestry, error) {
	if err := f.record("Ancestry %s", ref); err != nil {
		return catalog.Ancestry{}, err
	}
	e, err := f.EntityByRef(ctx, ref)
	if err != nil {
		return catalog.Ancestry{}, err
	}
	loc := json.RawMessage(`{"apiVersion":"backstage.io/v1alpha1","kind":"Location","metadata":{"name":"generated-abc","namespace":"default"},"spec":{"type":"url","target":"https://example.com/catalog-info.yaml"}}`)
	return catalog.Ancestry{
		RootEntityRef: ref.String(),
		Items: []catalog.AncestryItem{
			{Entity: e, ParentEntityRefs: []string{"location:default/generated-abc"}},
			{Entity: loc},
		},
	}, nil
}

func (f *fakeCatalog) Facets(ctx context.Context, facets []string, fl filter.Expr) (map[string][]catalog.FacetCount, error) {
	if err := f.record("Facets %q %#v", facets, fl); err != nil {
		return nil, err
	}
	out := map[string][]catalog.FacetCount{}
	for _, name := range facets {
		if v, ok := f.facets[name]; ok {
			out[name] = v
		}
	}
	return out, nil
}

func (f *fakeCatalog) Refresh(ctx context.Context, ref entity.Ref) error {
	if err := f.record("Refresh %s", ref); err != nil {
		return err
	}
	if _, err := f.EntityByRef(ctx, ref); err != nil {
		return derrors.NotFound("Entity %s not found", ref)
	}
	return nil
}

func (f *fakeCatalog) ValidateEntity(ctx context.Context, raw map[string]any, location string) error {
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if err := f.record("ValidateEntity [%s] %s", strings.Join(keys, ","), location); err != nil {
		return err
	}
	return f.validation
}

func (f *fakeCatalog) Locations(ctx context.Context) ([]catalog.Location, error) {
	if err := f.record("Locations"); err != nil {
		return nil, err
	}
	return f.locations, nil
}

func (f *fakeCatalog) Location(ctx context.Context, id string) (catalog.Location, error) {
	if err := f.record("Location %s", id); err != nil {
		return catalog.Location{}, err
	}
	for _, l := range f.locations {
		if l.ID == id {
			return l, nil
		}
	}
	return catalog.Location{}, derrors.NotFound("Found no location with ID %s", id)
}

func (f *fakeCatalog) AddLocation(ctx context.Context, typ, target string, opts catalog.AddLocationOptions) (catalog.AddLocationResult, error) {
	if err := f.record("AddLocation %s %s %+v", typ, target, opts); err != nil {
		return catalog.AddLocationResult{}, err
	}
	for _, l := range f.locations {
		if l.Type == typ && l.Target == target && opts.OnConflict != "refresh" && !opts.DryRun {
			return catalog.AddLocationResult{}, derrors.Conflict("Location %s:%s already exists", typ, target)
		}
	}
	if typ != "url" {
		return catalog.AddLocationResult{}, derrors.Invalid(`Registered locations must be of an allowed type ["url"]`)
	}
	res := catalog.AddLocationResult{Location: catalog.Location{ID: "new-id", Type: typ, Target: target}}
	if opts.DryRun {
		exists := false
		res.Exists = &exists
		res.Location.ID = typ + ":" + target
		res.Entities = []*entity.Entity{{
			APIVersion: "backstage.io/v1alpha1", Kind: "Component",
			Metadata: entity.Metadata{Name: "dry", Namespace: "default"},
			Spec:     map[string]any{"type": "service"},
		}}
	}
	return res, nil
}

func (f *fakeCatalog) UpdateLocation(ctx context.Context, id, typ, target string) (catalog.Location, error) {
	if err := f.record("UpdateLocation %s %s %s", id, typ, target); err != nil {
		return catalog.Location{}, err
	}
	if _, err := f.Location(ctx, id); err != nil {
		return catalog.Location{}, err
	}
	return catalog.Location{ID: id, Type: typ, Target: target}, nil
}

func (f *fakeCatalog) DeleteLocation(ctx context.Context, id string) error {
	if err := f.record("DeleteLocation %s", id); err != nil {
		return err
	}
	_, err := f.Location(ctx, id)
	return err
}

func (f *fakeCatalog) LocationByEntity(ctx context.Context, ref entity.Ref) (catalog.Location, error) {
	if err := f.record("LocationByEntity %s", ref); err != nil {
		return catalog.Location{}, err
	}
	if ref.Name == "petstore" {
		return f.locations[0], nil
	}
	return catalog.Location{}, derrors.NotFound("Found no location with type file and target /tmp/x.yaml")
}

func (f *fakeCatalog) AnalyzeLocation(ctx context.Context, typ, target, catalogFilename string) (catalog.AnalyzeResult, error) {
	if err := f.record("AnalyzeLocation %s %s %s", typ, target, catalogFilename); err != nil {
		return catalog.AnalyzeResult{}, err
	}
	return catalog.AnalyzeResult{
		GenerateEntities: []catalog.GeneratedEntity{{
			Entity: map[string]any{"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
				"metadata": map[string]any{"name": "repo"}},
		}},
	}, nil
}

package catalog

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"log/slog"
	"time"

	"github.com/atrium-dev/atrium/internal/audit"
	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/catalog/source"
	"github.com/atrium-dev/atrium/internal/events"
	"github.com/atrium-dev/atrium/internal/store"
)

// Reader reads the files of one location target. Readers are registered
// per location type ("file", "url").
type Reader interface {
	Read(ctx context.Context, target string) ([]source.File, error)
}

// ConfigLocation is a location from catalog.locations, with its own rules.
type ConfigLocation struct {
	Type, Target string
	// Allow lists kinds allowed from this location in addition to the
	// global rules.
	Allow []string
}

// Options configure a Service.
type Options struct {
	// Readers by location type; New adds nothing by itself.
	Readers map[string]Reader
	// Authorizer decides what each caller may read and change (the
	// permission policy, when sign-in is on). nil allows everything.
	Authorizer Authorizer
	// Kinds validates entities; nil means entity.BuiltinKinds().
	Kinds *entity.KindRegistry
	// Rules are catalog.rules; nil means DefaultRules.
	Rules []Rule
	// Locations are catalog.locations.
	Locations []ConfigLocation
	// AllowedLocationTypes may be registered through the API (default "url").
	AllowedLocationTypes []string
	// ProcessingInterval bounds the jittered time between refreshes of one
	// entity; Disabled turns periodic processing off.
	ProcessingInterval store.Interval
	ProcessingDisabled bool
	// OrphanStrategy is "delete" (default) or "keep".
	OrphanStrategy string
	// Readonly refuses location changes through the API.
	Readonly bool
	// BatchSize is how many entities one processing pass claims (default 500).
	BatchSize int
	// Workers process a batch in parallel (default 4).
	Workers int
	// PollInterval is how often an idle loop looks for due work (default 1s).
	PollInterval time.Duration
	Logger       *slog.Logger
	// Events, if set, receives TopicEntitiesChanged after every stitching
	// round that changed served entities.
	Events events.Bus
	// ObserveClaim, if set, receives how long each claim of work took, for
	// queue "processing" (due entities) or "stitching" (the stitch queue),
	// for the claim latency metric.
	ObserveClaim func(queue string, d time.Duration)
}

// Service is the catalog: it ingests locations and answers queries.
type Service struct {
	st      *store.Store
	opts    Options
	kinds   *entity.KindRegistry
	rules   rules
	readers map[string]Reader
	log     *slog.Logger
	wake    chan struct{}
	// lastStitch is when the loop last stitched; only the loop touches it.
	lastStitch time.Time
}

// New returns a catalog service over st.
func New(st *store.Store, opts Options) *Service {
	if opts.Kinds == nil {
		opts.Kinds = entity.BuiltinKinds()
	}
	if opts.Rules == nil {
		opts.Rules = DefaultRules
	}
	if len(opts.AllowedLocationTypes) == 0 {
		opts.AllowedLocationTypes = []string{"url"}
	}
	if opts.ProcessingInterval.Min <= 0 {
		opts.ProcessingInterval = store.Interval{Min: 100 * time.Second, Max: 150 * time.Second}
	}
	if opts.ProcessingDisabled {
		// Entities are still processed when they appear or change; they
		// are just never refreshed on a timer.
		opts.ProcessingInterval = store.Interval{Min: 100 * 365 * 24 * time.Hour, Max: 100 * 365 * 24 * time.Hour}
	}
	if opts.OrphanStrategy == "" {
		opts.OrphanStrategy = "delete"
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 500
	}
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	rs := rules(append([]Rule(nil), opts.Rules...))
	for _, l := range opts.Locations {
		if len(l.Allow) > 0 {
			rs = append(rs, Rule{Allow: Kinds(l.Allow...), Locations: []RuleLocation{{Type: l.Type, Target: l.Target}}})
		}
	}
	return &Service{
		st: st, opts: opts, kinds: opts.Kinds, rules: rs, readers: opts.Readers,
		log: opts.Logger, wake: make(chan struct{}, 1),
	}
}

// Provider keys: the sources of root entities.
const (
	providerConfig = "config"
	providerAPI    = "api-locations"
)

// locationEntity is the generated Location entity for a root location, as
// Backstage names it: generated-<sha1 of "type:target">.
func locationEntity(typ, target string) *entity.Entity {
	sum := sha1.Sum([]byte(typ + ":" + target))
	e := &entity.Entity{
		APIVersion: "backstage.io/v1alpha1",
		Kind:       "Location",
		Metadata: entity.Metadata{
			Name:      "generated-" + hex.EncodeToString(sum[:]),
			Namespace: entity.DefaultNamespace,
		},
		Spec: map[string]any{"type": typ, "target": target},
	}
	e.SetAnnotation(entity.AnnotationManagedByLocation, typ+":"+target)
	e.SetAnnotation(entity.AnnotationManagedByOriginLocation, typ+":"+target)
	return e
}

// rootChild makes the store record for a root location entity.
func rootChild(typ, target string) store.Child {
	e := locationEntity(typ, target)
	return store.Child{Ref: e.Ref().Key(), Entity: mustJSON(e), LocationKey: typ + ":" + target}
}

// SyncConfigLocations makes catalog.locations the complete set of
// configuration roots, removing entities of locations no longer configured.
func (s *Service) SyncConfigLocations(ctx context.Context) error {
	roots := make([]store.Child, 0, len(s.opts.Locations))
	for _, l := range s.opts.Locations {
		roots = append(roots, rootChild(l.Type, l.Target))
	}
	conflicts, err := s.st.ReplaceRoots(audit.WithActor(ctx, audit.SystemConfig), providerConfig, roots, true)
	s.logConflicts(conflicts)
	s.Wake()
	return err
}

// syncAPILocations makes the registered locations the complete set of API roots.
func (s *Service) syncAPILocations(ctx context.Context) error {
	locs, err := s.st.Locations(ctx)
	if err != nil {
		return err
	}
	roots := make([]store.Child, 0, len(locs))
	for _, l := range locs {
		roots = append(roots, rootChild(l.Type, l.Target))
	}
	// The API calls that change registered locations record themselves.
	conflicts, err := s.st.ReplaceRoots(ctx, providerAPI, roots, false)
	s.logConflicts(conflicts)
	s.Wake()
	return err
}

func (s *Service) logConflicts(cs []store.Conflict) {
	for _, c := range cs {
		s.log.Warn("conflicting entity ref: the first location keeps it",
			"entityRef", c.EntityRef, "existingLocation", c.ExistingLocationKey, "newLocation", c.NewLocationKey)
	}
}

// Wake makes the processing loop look for work now.
func (s *Service) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

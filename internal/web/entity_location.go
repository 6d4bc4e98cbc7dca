package web

import (
	"context"
	"strings"

	"github.com/atrium-dev/atrium/internal/catalog"
	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/catalog/filter"
	"github.com/atrium-dev/atrium/internal/catalog/source"
)

// locationCard is a Location entity's card: its targets and the entities
// read from them.
type locationCard struct {
	Type     string
	Targets  []locationTarget
	Produced relationCard
}

// locationTarget is one target as written and as the catalog resolves it
// against the location's own file or URL.
type locationTarget struct {
	Target, Resolved string
	Glob             bool
}

// managedByKey is the search key of the managed-by-location annotation.
var managedByKey = strings.ToLower("metadata.annotations." + entity.AnnotationManagedByLocation)

// locationOf builds the card of a Location entity. The catalog records
// which entity emitted which, but offers no query for an entity's
// children; the entities a location produced are found instead by their
// managed-by-location annotation, which names the file each was read from:
// one of the location's resolved targets, or for a glob target a file
// under its directory (so a glob's list can include files in that
// directory that the glob does not match).
func (h *handler) locationOf(ctx context.Context, e *entityDoc) (*locationCard, error) {
	self := e.Metadata.Annotations[entity.AnnotationManagedByLocation]
	selfType, selfTarget, _ := strings.Cut(self, ":")
	typ := e.SpecString("type")
	if typ == "" {
		typ = selfType
	}
	card := &locationCard{Type: typ}
	var targets []string
	if t := e.SpecString("target"); t != "" {
		targets = append(targets, t)
	}
	targets = append(targets, e.SpecStrings("targets")...)
	var exact []string
	var anyOf []filter.Expr
	for _, t := range targets {
		resolved := t
		if selfTarget != "" && typ == selfType {
			if r, err := source.ResolveTarget(selfTarget, t); err == nil {
				resolved = r
			}
		}
		lt := locationTarget{Target: t, Resolved: resolved}
		if i := strings.IndexAny(resolved, "*?[{"); i >= 0 {
			lt.Glob = true
			dir := resolved[:strings.LastIndexAny(resolved[:i], `/\`)+1]
			anyOf = append(anyOf, filter.HasPrefix{Key: managedByKey, Prefix: strings.ToLower(typ + ":" + dir)})
		} else {
			exact = append(exact, strings.ToLower(typ+":"+resolved))
		}
		card.Targets = append(card.Targets, lt)
	}
	if len(exact) > 0 {
		anyOf = append(anyOf, filter.Match{Key: managedByKey, Values: exact})
	}
	card.Produced = relationCard{Title: "Entities read from its targets", Empty: "No entities were read from its targets.", Wide: true}
	if len(anyOf) == 0 {
		return card, nil
	}
	// In the order the catalog first saw them (the order of the files), not
	// by name: a name sort makes the store scan every entity's name when
	// few entities match, which takes most of a second at 100,000.
	page, err := h.c.QueryEntities(ctx, catalog.Query{
		Filter:     filter.Any{Exprs: anyOf},
		Limit:      maxCardItems,
		CountTotal: true,
	})
	if err != nil {
		return nil, err
	}
	card.Produced.Total = page.TotalItems
	for _, raw := range page.Items {
		d, err := decodeEntity(raw)
		if err != nil {
			return nil, err
		}
		card.Produced.Items = append(card.Produced.Items, docLink(d))
	}
	return card, nil
}

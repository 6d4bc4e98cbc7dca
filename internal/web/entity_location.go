package web

import (
	"context"
	"strings"

	"github.com/atrium-dev/atrium/internal/catalog/entity"
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

// locationOf builds the card of a Location entity: its targets, and the
// entities the catalog recorded it emitting.
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
	for _, t := range targets {
		resolved := t
		if selfTarget != "" && typ == selfType {
			if r, err := source.ResolveTarget(selfTarget, t); err == nil {
				resolved = r
			}
		}
		lt := locationTarget{Target: t, Resolved: resolved, Glob: strings.ContainsAny(resolved, "*?[{")}
		card.Targets = append(card.Targets, lt)
	}
	card.Produced = relationCard{Title: "Entities read from its targets", Empty: "No entities were read from its targets.", Wide: true}
	children, err := h.c.Children(ctx, e.Ref())
	if err != nil {
		return nil, err
	}
	card.Produced.Total = len(children)
	items, err := h.c.EntitiesByRefs(ctx, children[:min(len(children), maxCardItems)], nil)
	if err != nil {
		return nil, err
	}
	for _, raw := range items {
		if raw == nil {
			continue // emitted but not (yet) served: invalid, or not stitched
		}
		d, err := decodeEntity(raw)
		if err != nil {
			return nil, err
		}
		card.Produced.Items = append(card.Produced.Items, docLink(d))
	}
	return card, nil
}

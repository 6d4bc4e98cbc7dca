package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/atrium-dev/atrium/internal/catalog/entity"
)

// The dependency graph tab (an entity's relations to a chosen depth,
// filtered by relation type and kind) and the system diagram tab, both
// laid out here and drawn as SVG on the server.

// relationPair is a relation and its reverse, drawn as one kind of edge
// in the forward direction.
type relationPair struct {
	Key, Label       string
	Forward, Reverse entity.RelationType
}

// relationPairs are the relation kinds the graph can show.
var relationPairs = []relationPair{
	{"ownership", "Ownership", entity.RelationOwnedBy, entity.RelationOwnerOf},
	{"partof", "Part of", entity.RelationPartOf, entity.RelationHasPart},
	{"dependency", "Dependencies", entity.RelationDependsOn, entity.RelationDependencyOf},
	{"provides", "Provided APIs", entity.RelationProvidesAPI, entity.RelationAPIProvidedBy},
	{"consumes", "Consumed APIs", entity.RelationConsumesAPI, entity.RelationAPIConsumedBy},
	{"membership", "Membership", entity.RelationMemberOf, entity.RelationHasMember},
	{"hierarchy", "Group hierarchy", entity.RelationChildOf, entity.RelationParentOf},
}

// pairOf finds the pair of a relation type and whether t is its forward
// direction.
func pairOf(t entity.RelationType) (relationPair, bool, bool) {
	for _, p := range relationPairs {
		switch t {
		case p.Forward:
			return p, true, true
		case p.Reverse:
			return p, false, true
		}
	}
	return relationPair{}, false, false
}

// graphKinds are the kinds the kind filter offers.
var graphKinds = []string{"component", "api", "system", "domain", "resource", "group", "user", "template", "location"}

// maxGraphNodes bounds a graph; a bigger neighbourhood is cut off and the
// page says so.
const maxGraphNodes = 120

// maxGraphDepth is the deepest the depth picker goes.
const maxGraphDepth = 4

// graphView is the dependency graph tab or the system diagram tab.
type graphView struct {
	Layout
	Entity entityFrame
	// Diagram is set on the system diagram, which has no options.
	Diagram bool
	Action  string
	Depths  []option
	Pairs   []option
	Kinds   []option
	Graph   svgGraph
	// Legend lists the kinds drawn.
	Legend []option
	// Truncated counts the nodes left out to keep the graph readable.
	Truncated int
	// Rows lists the edges as text, for screen readers and copying.
	Rows []edgeRow
}

// edgeRow is an edge as a table row.
type edgeRow struct {
	From     entityLink
	Relation string
	To       entityLink
}

// graphOptions are the dependency graph's choices, from its URL.
type graphOptions struct {
	depth int
	pairs map[string]bool
	kinds map[string]bool
}

// parseGraphOptions reads ?depth=&rel=&kind=. A submitted form carries
// "f=1", so that unchecking every box means none rather than the
// defaults (all relations, all kinds).
func parseGraphOptions(q url.Values) graphOptions {
	o := graphOptions{depth: 1, pairs: map[string]bool{}, kinds: map[string]bool{}}
	if d, err := strconv.Atoi(q.Get("depth")); err == nil && d >= 1 && d <= maxGraphDepth {
		o.depth = d
	}
	submitted := q.Get("f") == "1"
	for _, p := range relationPairs {
		o.pairs[p.Key] = !submitted || slices.Contains(q["rel"], p.Key)
	}
	for _, k := range graphKinds {
		o.kinds[k] = !submitted || slices.Contains(q["kind"], k)
	}
	return o
}

// graphBuilder collects nodes and edges.
type graphBuilder struct {
	nodes     []gNode
	index     map[string]int // ref key -> node
	docs      map[string]*entityDoc
	edges     []gEdge
	seen      map[[2]int]string
	truncated int
}

func newGraphBuilder() *graphBuilder {
	return &graphBuilder{index: map[string]int{}, docs: map[string]*entityDoc{}, seen: map[[2]int]string{}}
}

// node returns the index of ref's node, adding it if there is room.
func (b *graphBuilder) node(ref string) (int, bool) {
	ref = strings.ToLower(ref)
	if i, ok := b.index[ref]; ok {
		return i, true
	}
	if len(b.nodes) >= maxGraphNodes {
		b.truncated++
		return 0, false
	}
	l := refLink(ref, "")
	b.nodes = append(b.nodes, gNode{ID: ref, Label: l.Label, Kind: l.Kind, KindKey: refKind(ref), Href: l.Href})
	b.index[ref] = len(b.nodes) - 1
	return len(b.nodes) - 1, true
}

// edge adds the edge for relation rel of the entity at node from, drawn
// forward; both directions of a pair become one edge.
func (b *graphBuilder) edge(from, to int, pair relationPair, forward bool) {
	if !forward {
		from, to = to, from
	}
	key := [2]int{from, to}
	if b.seen[key] == string(pair.Forward) {
		return
	}
	b.seen[key] = string(pair.Forward)
	b.edges = append(b.edges, gEdge{From: from, To: to, Label: string(pair.Forward)})
}

// connect adds the edges of the shown relations between nodes drawn, from
// every loaded entity, in node order so that a graph is drawn the same
// way every time.
func (b *graphBuilder) connect(shown func(relationPair) bool) {
	for from, n := range b.nodes {
		doc := b.docs[n.ID]
		if doc == nil {
			continue
		}
		for _, rel := range doc.Relations {
			pair, forward, ok := pairOf(rel.Type)
			if !ok || !shown(pair) {
				continue
			}
			if to, ok := b.index[strings.ToLower(rel.TargetRef)]; ok && to != from {
				b.edge(from, to, pair, forward)
			}
		}
	}
}

// loadNodes fetches the entities of refs not loaded yet, in one query,
// and fills in their nodes' labels (or marks them missing).
func (h *handler) loadNodes(ctx context.Context, b *graphBuilder, refs []string) error {
	var want []string
	for _, r := range refs {
		if _, ok := b.docs[strings.ToLower(r)]; !ok {
			want = append(want, r)
		}
	}
	loaded, err := h.loadRefs(ctx, want)
	if err != nil {
		return err
	}
	for _, r := range want {
		key := strings.ToLower(r)
		i, ok := b.index[key]
		d, found := loaded[key]
		if !found {
			if ok {
				b.nodes[i].Missing = true
			}
			continue
		}
		b.docs[key] = d
		if ok {
			b.nodes[i].Label = d.DisplayName()
			b.nodes[i].Kind = kindName(d.Kind)
		}
	}
	return nil
}

// entityDependencies serves .../dependencies: the relation graph.
func (h *handler) entityDependencies(w http.ResponseWriter, r *http.Request) error {
	e, frame, err := h.loadEntity(r, tabDependencies)
	if err != nil {
		return err
	}
	ctx := r.Context()
	opts := parseGraphOptions(r.URL.Query())
	b := newGraphBuilder()
	root, _ := b.node(e.Ref().Key())
	b.nodes[root].Root = true
	b.nodes[root].Label = e.DisplayName()
	b.nodes[root].Kind = kindName(e.Kind)
	b.docs[e.Ref().Key()] = e

	// Breadth first, one query per level.
	frontier := []string{e.Ref().Key()}
	for d := 0; d < opts.depth && len(frontier) > 0; d++ {
		var next []string
		for _, ref := range frontier {
			doc := b.docs[ref]
			if doc == nil {
				continue
			}
			for _, rel := range doc.Relations {
				pair, _, ok := pairOf(rel.Type)
				if !ok || !opts.pairs[pair.Key] || !opts.kinds[refKind(rel.TargetRef)] {
					continue
				}
				key := strings.ToLower(rel.TargetRef)
				if _, known := b.index[key]; known {
					continue
				}
				if _, ok := b.node(key); ok {
					next = append(next, key)
				}
			}
		}
		if err := h.loadNodes(ctx, b, next); err != nil {
			return err
		}
		frontier = next
	}
	b.connect(func(p relationPair) bool { return opts.pairs[p.Key] })
	v := &graphView{
		Layout: h.layout(r, frame.DisplayName+" · Dependencies", sectionCatalog, entityCrumbs(frame, tabDependencies)...),
		Entity: frame, Action: frame.Href + "/" + tabDependencies, Truncated: b.truncated,
	}
	for d := 1; d <= maxGraphDepth; d++ {
		v.Depths = append(v.Depths, option{Value: strconv.Itoa(d), Label: strconv.Itoa(d), Selected: d == opts.depth})
	}
	for _, p := range relationPairs {
		v.Pairs = append(v.Pairs, option{Value: p.Key, Label: p.Label, Selected: opts.pairs[p.Key]})
	}
	for _, k := range graphKinds {
		v.Kinds = append(v.Kinds, option{Value: k, Label: kindName(k), Selected: opts.kinds[k]})
	}
	h.finishGraph(v, b)
	return h.views.render(w, http.StatusOK, "entity_graph", v)
}

// entityDiagram serves .../diagram for systems: the system, its domain,
// and its components, APIs and resources with the relations among them.
func (h *handler) entityDiagram(w http.ResponseWriter, r *http.Request) error {
	e, frame, err := h.loadEntity(r, tabDiagram)
	if err != nil {
		return err
	}
	b := newGraphBuilder()
	root, _ := b.node(e.Ref().Key())
	b.nodes[root].Root = true
	b.nodes[root].Label = e.DisplayName()
	b.nodes[root].Kind = kindName(e.Kind)
	b.docs[e.Ref().Key()] = e
	// Its domain, then its parts.
	members := append(e.Targets(entity.RelationPartOf), e.Targets(entity.RelationHasPart)...)
	for _, m := range members {
		b.node(m)
	}
	if err := h.loadNodes(r.Context(), b, members); err != nil {
		return err
	}
	shown := map[string]bool{"partof": true, "dependency": true, "provides": true, "consumes": true}
	b.connect(func(p relationPair) bool { return shown[p.Key] })
	v := &graphView{
		Layout:  h.layout(r, frame.DisplayName+" · Diagram", sectionCatalog, entityCrumbs(frame, tabDiagram)...),
		Entity:  frame,
		Diagram: true, Truncated: b.truncated,
	}
	h.finishGraph(v, b)
	return h.views.render(w, http.StatusOK, "entity_graph", v)
}

// finishGraph lays out the graph and lists its edges and kinds.
func (h *handler) finishGraph(v *graphView, b *graphBuilder) {
	v.Graph = layoutGraph(b.nodes, b.edges)
	kinds := map[string]bool{}
	for _, n := range b.nodes {
		if !kinds[n.KindKey] {
			kinds[n.KindKey] = true
			v.Legend = append(v.Legend, option{Value: n.KindKey, Label: n.Kind})
		}
	}
	link := func(n gNode) entityLink {
		return entityLink{Href: n.Href, Label: n.Label, Kind: n.Kind, Missing: n.Missing}
	}
	for _, e := range b.edges {
		v.Rows = append(v.Rows, edgeRow{From: link(b.nodes[e.From]), Relation: e.Label, To: link(b.nodes[e.To])})
	}
}

package web

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// A layered graph layout (after Sugiyama et al.), drawn left to right:
// cycles are broken, nodes are put in columns by longest path, long edges
// get dummy nodes, nodes in a column are ordered to reduce crossings
// (barycentre sweeps), then placed near their neighbours. Edges are drawn
// as smooth curves through their dummy nodes. It is written for the few
// dozen to a hundred nodes an entity graph has.

// Layout dimensions, in SVG user units (pixels).
const (
	nodeW      = 184.0
	nodeH      = 50.0
	dummyH     = 8.0
	layerGap   = 96.0
	nodeGap    = 20.0
	dummyGap   = 8.0
	graphInset = 24.0
)

// gNode is a node to lay out.
type gNode struct {
	ID, Label, Kind, KindKey, Href string
	Root, Missing                  bool
}

// gEdge is an edge to lay out, between node indexes.
type gEdge struct {
	From, To int
	Label    string
}

// svgGraph is a laid-out graph, ready for the template.
type svgGraph struct {
	Width, Height int
	Nodes         []svgNode
	Edges         []svgEdge
}

// svgNode is a placed node: its box, and where its two lines of text go.
type svgNode struct {
	gNode
	X, Y, W, H           float64
	TextX, KindY, LabelY float64
	// Text is the label shortened to fit the box.
	Text string
}

// svgEdge is a routed edge with its label's position and backdrop.
type svgEdge struct {
	Path             string
	Label            string
	LabelX, LabelY   float64
	BoxX, BoxY, BoxW float64
	From, To         string
}

type lnode struct {
	layer, order int
	y, h         float64
	dummy        bool
	in, out      []int // neighbour node indexes (after dummies)
}

// layoutGraph lays out nodes and edges.
func layoutGraph(nodes []gNode, edges []gEdge) svgGraph {
	n := len(nodes)
	if n == 0 {
		return svgGraph{}
	}
	// 1. Break cycles: reverse edges that close one, found by DFS.
	type dedge struct {
		from, to int
		reversed bool
		label    string
	}
	adj := make([][]int, n)
	for i, e := range edges {
		adj[e.From] = append(adj[e.From], i)
	}
	state := make([]int, n) // 0 new, 1 on stack, 2 done
	reversed := make([]bool, len(edges))
	var visit func(v int)
	visit = func(v int) {
		state[v] = 1
		for _, ei := range adj[v] {
			w := edges[ei].To
			switch state[w] {
			case 0:
				visit(w)
			case 1:
				reversed[ei] = true
			}
		}
		state[v] = 2
	}
	for v := range n {
		if state[v] == 0 {
			visit(v)
		}
	}
	dag := make([]dedge, 0, len(edges))
	for i, e := range edges {
		if e.From == e.To {
			continue
		}
		d := dedge{from: e.From, to: e.To, label: e.Label}
		if reversed[i] {
			d.from, d.to, d.reversed = e.To, e.From, true
		}
		dag = append(dag, d)
	}

	// 2. Layers by longest path from the sources, then sources pulled
	// right next to their nearest successor.
	succ := make([][]int, n)
	pred := make([][]int, n)
	for _, e := range dag {
		succ[e.from] = append(succ[e.from], e.to)
		pred[e.to] = append(pred[e.to], e.from)
	}
	topo := topoOrder(n, succ, pred)
	layer := make([]int, n)
	for _, v := range topo {
		for _, w := range succ[v] {
			layer[w] = max(layer[w], layer[v]+1)
		}
	}
	for i := len(topo) - 1; i >= 0; i-- {
		v := topo[i]
		if len(pred[v]) == 0 && len(succ[v]) > 0 {
			m := math.MaxInt
			for _, w := range succ[v] {
				m = min(m, layer[w])
			}
			layer[v] = m - 1
		}
	}
	minLayer := slices.Min(layer)
	for v := range layer {
		layer[v] -= minLayer
	}

	// 3. Dummy nodes on edges that span several layers.
	ln := make([]lnode, n, n+len(dag)*2)
	for v := range n {
		ln[v] = lnode{layer: layer[v], h: nodeH}
	}
	chains := make([][]int, len(dag)) // node indexes from source to target
	for i, e := range dag {
		chain := []int{e.from}
		prev := e.from
		for l := layer[e.from] + 1; l < layer[e.to]; l++ {
			ln = append(ln, lnode{layer: l, h: dummyH, dummy: true})
			d := len(ln) - 1
			ln[prev].out = append(ln[prev].out, d)
			ln[d].in = append(ln[d].in, prev)
			chain = append(chain, d)
			prev = d
		}
		ln[prev].out = append(ln[prev].out, e.to)
		ln[e.to].in = append(ln[e.to].in, prev)
		chains[i] = append(chain, e.to)
	}
	layers := 0
	for _, x := range ln {
		layers = max(layers, x.layer+1)
	}
	cols := make([][]int, layers)
	for i := range ln {
		cols[ln[i].layer] = append(cols[ln[i].layer], i)
	}

	// 4. Order within layers: barycentre sweeps, keeping the best.
	setOrder := func() {
		for _, col := range cols {
			for i, v := range col {
				ln[v].order = i
			}
		}
	}
	setOrder()
	best := cloneCols(cols)
	bestCross := crossings(cols, ln)
	for iter := 0; iter < 16 && bestCross > 0; iter++ {
		down := iter%2 == 0
		for k := range layers {
			l := k
			if !down {
				l = layers - 1 - k
			}
			col := cols[l]
			bary := make(map[int]float64, len(col))
			for _, v := range col {
				nb := ln[v].in
				if !down {
					nb = ln[v].out
				}
				if len(nb) == 0 {
					bary[v] = float64(ln[v].order)
					continue
				}
				sum := 0.0
				for _, w := range nb {
					sum += float64(ln[w].order)
				}
				bary[v] = sum / float64(len(nb))
			}
			slices.SortStableFunc(col, func(a, b int) int {
				switch {
				case bary[a] < bary[b]:
					return -1
				case bary[a] > bary[b]:
					return 1
				}
				return 0
			})
			for i, v := range col {
				ln[v].order = i
			}
		}
		if c := crossings(cols, ln); c < bestCross {
			bestCross, best = c, cloneCols(cols)
		}
	}
	cols = best
	setOrder()

	// 5. Vertical positions: stack each layer, then move nodes toward the
	// mean of their neighbours while keeping the order and gaps.
	gap := func(a, b int) float64 {
		if ln[a].dummy || ln[b].dummy {
			return dummyGap
		}
		return nodeGap
	}
	for _, col := range cols {
		y := 0.0
		for i, v := range col {
			if i > 0 {
				y += gap(col[i-1], v)
			}
			ln[v].y = y
			y += ln[v].h
		}
	}
	center := func(v int) float64 { return ln[v].y + ln[v].h/2 }
	for iter := 0; iter < 12; iter++ {
		for k := range layers {
			l := k
			if iter%2 == 1 {
				l = layers - 1 - k
			}
			col := cols[l]
			want := make([]float64, len(col))
			for i, v := range col {
				nb := append(append([]int{}, ln[v].in...), ln[v].out...)
				if len(nb) == 0 {
					want[i] = center(v)
					continue
				}
				sum := 0.0
				for _, w := range nb {
					sum += center(w)
				}
				want[i] = sum/float64(len(nb)) - ln[v].h/2
			}
			// Forward pass: as close to the wish as the previous node allows.
			for i, v := range col {
				y := want[i]
				if i > 0 {
					p := col[i-1]
					y = max(y, ln[p].y+ln[p].h+gap(p, v))
				}
				ln[v].y = y
			}
			// Shift the layer back by the mean overshoot, which keeps gaps.
			shift := 0.0
			for i, v := range col {
				shift += ln[v].y - want[i]
			}
			shift /= float64(len(col))
			for _, v := range col {
				ln[v].y -= shift
			}
		}
	}
	minY, maxY := math.Inf(1), math.Inf(-1)
	for _, v := range ln {
		minY = min(minY, v.y)
		maxY = max(maxY, v.y+v.h)
	}
	x := func(v int) float64 { return graphInset + float64(ln[v].layer)*(nodeW+layerGap) }
	y := func(v int) float64 { return graphInset + ln[v].y - minY }

	// 6. Output.
	g := svgGraph{
		Width:  int(math.Ceil(graphInset*2 + float64(layers)*nodeW + float64(layers-1)*layerGap)),
		Height: int(math.Ceil(graphInset*2 + maxY - minY)),
	}
	for v := range n {
		nx, ny := round1(x(v)), round1(y(v))
		g.Nodes = append(g.Nodes, svgNode{
			gNode: nodes[v], X: nx, Y: ny, W: nodeW, H: nodeH,
			TextX: nx + 16, KindY: ny + 19, LabelY: ny + 37,
			Text: fitText(nodes[v].Label, 20),
		})
	}
	var firsts [][2][2]float64 // the first stretch of each edge
	var bias []float64
	for i, e := range dag {
		chain := chains[i]
		pts := make([][2]float64, 0, len(chain))
		for j, v := range chain {
			cy := y(v) + ln[v].h/2
			switch {
			case j == 0:
				pts = append(pts, [2]float64{x(v) + nodeW, cy})
			case j == len(chain)-1:
				pts = append(pts, [2]float64{x(v), cy})
			default:
				pts = append(pts, [2]float64{x(v), cy}, [2]float64{x(v) + nodeW, cy})
			}
		}
		if e.reversed {
			slices.Reverse(pts)
		}
		se := svgEdge{Path: curvePath(pts), Label: e.label, From: nodes[e.from].ID, To: nodes[e.to].ID}
		if e.reversed {
			se.From, se.To = se.To, se.From
		}
		g.Edges = append(g.Edges, se)
		firsts = append(firsts, [2][2]float64{pts[0], pts[1]})
		bias = append(bias, labelBias(len(ln[e.from].out), len(ln[e.to].in), e.reversed))
	}
	placeLabels(&g, firsts, bias)
	return g
}

// labelBias is where on the first stretch of an edge its label goes by
// preference (0 at the source, 1 at the far end): toward whichever end
// has fewer edges, so that the labels of edges fanning out of, or into,
// one node spread out instead of piling up there.
func labelBias(out, in int, reversed bool) float64 {
	t := 0.5
	switch {
	case out > in:
		t = 0.72
	case in > out:
		t = 0.28
	}
	if reversed {
		t = 1 - t
	}
	return t
}

// placeLabels positions edge labels on the first stretch of their edge,
// trying a few spots so that no label covers another or a node; a label
// that fits nowhere is left out (the page lists every edge as text too).
func placeLabels(g *svgGraph, firsts [][2][2]float64, bias []float64) {
	type box struct{ x0, y0, x1, y1 float64 }
	var taken []box
	for _, n := range g.Nodes {
		taken = append(taken, box{n.X, n.Y, n.X + n.W, n.Y + n.H})
	}
	free := func(b box) bool {
		for _, o := range taken {
			if b.x0 < o.x1 && o.x0 < b.x1 && b.y0 < o.y1 && o.y0 < b.y1 {
				return false
			}
		}
		return true
	}
	for i := range g.Edges {
		se := &g.Edges[i]
		w := round1(float64(len(se.Label))*6.2 + 8)
		label := se.Label
		se.Label = ""
		for _, t := range []float64{bias[i], 0.5, 0.3, 0.7, 0.15, 0.85} {
			cx, cy := curvePoint(firsts[i][0], firsts[i][1], t)
			b := box{cx - w/2 - 2, cy - 9, cx + w/2 + 2, cy + 9}
			if !free(b) {
				continue
			}
			taken = append(taken, b)
			se.Label, se.BoxW = label, w
			se.LabelX, se.LabelY = round1(cx), round1(cy+4)
			se.BoxX, se.BoxY = round1(cx-w/2), round1(cy-8)
			break
		}
	}
}

// round1 rounds to a tenth, to keep the SVG short.
func round1(f float64) float64 { return math.Round(f*10) / 10 }

// topoOrder returns the nodes in a topological order of the (acyclic)
// graph, sources first, ties in index order.
func topoOrder(n int, succ, pred [][]int) []int {
	indeg := make([]int, n)
	for v := range n {
		indeg[v] = len(pred[v])
	}
	var queue, out []int
	for v := range n {
		if indeg[v] == 0 {
			queue = append(queue, v)
		}
	}
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		out = append(out, v)
		for _, w := range succ[v] {
			indeg[w]--
			if indeg[w] == 0 {
				queue = append(queue, w)
			}
		}
	}
	return out
}

func cloneCols(cols [][]int) [][]int {
	out := make([][]int, len(cols))
	for i, c := range cols {
		out[i] = slices.Clone(c)
	}
	return out
}

// crossings counts edge crossings between adjacent layers.
func crossings(cols [][]int, ln []lnode) int {
	total := 0
	for l := 0; l+1 < len(cols); l++ {
		var segs [][2]int
		for _, v := range cols[l] {
			for _, w := range ln[v].out {
				segs = append(segs, [2]int{ln[v].order, ln[w].order})
			}
		}
		for i := range segs {
			for j := i + 1; j < len(segs); j++ {
				a, b := segs[i], segs[j]
				if (a[0] < b[0] && a[1] > b[1]) || (a[0] > b[0] && a[1] < b[1]) {
					total++
				}
			}
		}
	}
	return total
}

// curvePath draws a smooth path through points, as an SVG path: a
// horizontal-tangent cubic curve between each pair of points.
func curvePath(pts [][2]float64) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "M%.1f %.1f", pts[0][0], pts[0][1])
	for i := 1; i < len(pts); i++ {
		p, q := pts[i-1], pts[i]
		dx := (q[0] - p[0]) / 2
		if p[1] == q[1] {
			fmt.Fprintf(&sb, " L%.1f %.1f", q[0], q[1])
			continue
		}
		fmt.Fprintf(&sb, " C%.1f %.1f %.1f %.1f %.1f %.1f", p[0]+dx, p[1], q[0]-dx, q[1], q[0], q[1])
	}
	return sb.String()
}

// curvePoint is the point at t of the curve curvePath draws from p to q.
func curvePoint(p, q [2]float64, t float64) (float64, float64) {
	dx := (q[0] - p[0]) / 2
	u := 1 - t
	b0, b1, b2, b3 := u*u*u, 3*u*u*t, 3*u*t*t, t*t*t
	x := b0*p[0] + b1*(p[0]+dx) + b2*(q[0]-dx) + b3*q[0]
	y := b0*p[1] + b1*p[1] + b2*q[1] + b3*q[1]
	return x, y
}

// fitText shortens s to at most n characters, with an ellipsis.
func fitText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

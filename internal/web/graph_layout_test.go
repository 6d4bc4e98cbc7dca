package web

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestLayoutGraph checks the layout's promises on random graphs: every
// node placed inside the drawing, no two nodes overlapping, every edge
// drawn (labels may be dropped, never the edge).
func TestLayoutGraph(t *testing.T) {
	for seed := range 30 {
		r := rand.New(rand.NewPCG(uint64(seed), 1))
		n := 1 + r.IntN(40)
		nodes := make([]gNode, n)
		for i := range nodes {
			nodes[i] = gNode{ID: fmt.Sprint(i), Label: fmt.Sprintf("node %d with a long label", i), KindKey: "component"}
		}
		var edges []gEdge
		for range r.IntN(3 * n) {
			edges = append(edges, gEdge{From: r.IntN(n), To: r.IntN(n), Label: "dependsOn"})
		}
		g := layoutGraph(nodes, edges)
		if len(g.Nodes) != n {
			t.Fatalf("seed %d: %d nodes placed of %d", seed, len(g.Nodes), n)
		}
		self := 0
		for _, e := range edges {
			if e.From == e.To {
				self++
			}
		}
		if len(g.Edges) != len(edges)-self {
			t.Errorf("seed %d: %d edges drawn of %d", seed, len(g.Edges), len(edges)-self)
		}
		for i, a := range g.Nodes {
			if a.X < 0 || a.Y < 0 || a.X+a.W > float64(g.Width)+0.5 || a.Y+a.H > float64(g.Height)+0.5 {
				t.Errorf("seed %d: node %d at (%v,%v) outside %dx%d", seed, i, a.X, a.Y, g.Width, g.Height)
			}
			for j := i + 1; j < len(g.Nodes); j++ {
				b := g.Nodes[j]
				if a.X < b.X+b.W && b.X < a.X+a.W && a.Y < b.Y+b.H && b.Y < a.Y+a.H {
					t.Errorf("seed %d: nodes %d and %d overlap", seed, i, j)
				}
			}
		}
		for _, e := range g.Edges {
			if e.Path == "" {
				t.Errorf("seed %d: an edge has no path", seed)
			}
		}
	}
}

func TestLayoutGraphDirection(t *testing.T) {
	// a -> b -> c: drawn left to right.
	g := layoutGraph([]gNode{{ID: "a"}, {ID: "b"}, {ID: "c"}}, []gEdge{{From: 0, To: 1}, {From: 1, To: 2}})
	if !(g.Nodes[0].X < g.Nodes[1].X && g.Nodes[1].X < g.Nodes[2].X) {
		t.Errorf("x: %v %v %v", g.Nodes[0].X, g.Nodes[1].X, g.Nodes[2].X)
	}
	if g.Nodes[0].Y != g.Nodes[1].Y || g.Nodes[1].Y != g.Nodes[2].Y {
		t.Errorf("a chain is not straight: y %v %v %v", g.Nodes[0].Y, g.Nodes[1].Y, g.Nodes[2].Y)
	}
}

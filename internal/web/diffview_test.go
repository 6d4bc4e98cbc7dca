package web

import (
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// sides renders the rows of a diff as "left | right" lines: "-x" removed,
// "+x" added, " x" unchanged, "." a filler.
func sides(rows []diffRow) []string {
	cell := func(c diffCell) string {
		text := ""
		for _, t := range c.Tokens {
			text += t.Text
		}
		switch c.Kind {
		case diffDel:
			return "-" + text
		case diffAdd:
			return "+" + text
		case diffNone:
			return "."
		}
		return " " + text
	}
	var out []string
	for _, r := range rows {
		out = append(out, cell(r.Left)+" | "+cell(r.Right))
	}
	return out
}

func plainLines(s string) []codeLine {
	if s == "" {
		return nil
	}
	var out []codeLine
	for i, l := range strings.Split(s, "\n") {
		out = append(out, codeLine{N: i + 1, Tokens: []token{{"", l}}})
	}
	return out
}

func TestAlignRows(t *testing.T) {
	tests := []struct {
		name, a, b string
		want       []string
	}{
		{"equal", "a\nb", "a\nb", []string{" a |  a", " b |  b"}},
		{"created", "", "a\nb", []string{". | +a", ". | +b"}},
		{"deleted", "a\nb", "", []string{"-a | .", "-b | ."}},
		{"changed line", "a\nb\nc", "a\nB\nc", []string{" a |  a", "-b | +B", " c |  c"}},
		{"inserted", "a\nc", "a\nb\nc", []string{" a |  a", ". | +b", " c |  c"}},
		{"removed", "a\nb\nc", "a\nc", []string{" a |  a", "-b | .", " c |  c"}},
		{"two for one", "a\nb\nz", "a\nc\nd\nz", []string{" a |  a", "-b | +c", ". | +d", " z |  z"}},
		{"nothing in common", "a\nb", "c", []string{"-a | +c", "-b | ."}},
		{"moved", "a\nb\nc\nd", "b\nc\nd\na", []string{"-a | .", " b |  b", " c |  c", " d |  d", ". | +a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := plainLines(tt.a), plainLines(tt.b)
			ma, mb := lineDiff(lineTexts(a), lineTexts(b))
			got := sides(alignRows(a, b, ma, mb))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
		})
	}
}

// lcsLength is the length of a longest common subsequence, by dynamic
// programming: what a shortest edit script keeps.
func lcsLength(a, b []string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			switch {
			case a[i-1] == b[j-1]:
				cur[j] = prev[j-1] + 1
			case prev[j] >= cur[j-1]:
				cur[j] = prev[j]
			default:
				cur[j] = cur[j-1]
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// TestLineDiffMinimal checks on random inputs that lineDiff's matches are
// consistent (equal lines, in order, both ways) and as many as a longest
// common subsequence has, so the script is a shortest one.
func TestLineDiffMinimal(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 3000; n++ {
		alphabet := 1 + rng.IntN(6)
		gen := func() []string {
			out := make([]string, rng.IntN(30))
			for i := range out {
				out[i] = string(rune('a' + rng.IntN(alphabet)))
			}
			return out
		}
		a, b := gen(), gen()
		ma, mb := lineDiff(a, b)
		matches, last := 0, -1
		for i, j := range ma {
			if j < 0 {
				continue
			}
			if a[i] != b[j] || mb[j] != i || j <= last {
				t.Fatalf("%q vs %q: bad match %d->%d (ma %v, mb %v)", a, b, i, j, ma, mb)
			}
			last = j
			matches++
		}
		for j, i := range mb {
			if i >= 0 && ma[i] != j {
				t.Fatalf("%q vs %q: mb[%d]=%d but ma[%d]=%d", a, b, j, i, i, ma[i])
			}
		}
		if want := lcsLength(a, b); matches != want {
			t.Fatalf("%q vs %q: %d lines kept, a longest common subsequence has %d", a, b, matches, want)
		}
	}
}

func TestFoldRows(t *testing.T) {
	var a, b []string
	for i := 0; i < 40; i++ {
		a = append(a, "line"+string(rune('A'+i)))
	}
	b = append(b, a...)
	b[20] = "changed"
	v, err := newDiffView("d", jsonLines(a), jsonLines(b), diffSide{}, diffSide{})
	if err != nil {
		t.Fatal(err)
	}
	var shape []string
	for _, bl := range v.Blocks {
		kind := "shown"
		if bl.Folded {
			kind = "folded"
		}
		shape = append(shape, kind+":"+strconv.Itoa(len(bl.Rows)))
	}
	// 42 lines ([, 40 strings, ]): 21 unchanged, the change, 20 unchanged;
	// three lines of context each side of the change.
	want := []string{"folded:18", "shown:7", "folded:17"}
	if diff := cmp.Diff(want, shape); diff != "" {
		t.Errorf("blocks (-want +got):\n%s", diff)
	}
	if v.Removed != 1 || v.Added != 1 {
		t.Errorf("removed %d, added %d, want 1 and 1", v.Removed, v.Added)
	}
}

func jsonLines(lines []string) json.RawMessage {
	b, _ := json.Marshal(lines)
	return b
}

func TestDiffViewTooLong(t *testing.T) {
	long := make([]string, maxDiffLines)
	for i := range long {
		long[i] = "x"
	}
	v, err := newDiffView("d", jsonLines(long), jsonLines([]string{"y"}), diffSide{}, diffSide{})
	if err != nil {
		t.Fatal(err)
	}
	if !v.Unaligned || len(v.Blocks) != 1 || len(v.Blocks[0].Rows) != maxDiffLines+2 {
		t.Fatalf("a document of %d lines: unaligned %v, %d blocks", maxDiffLines+2, v.Unaligned, len(v.Blocks))
	}
	if r := v.Blocks[0].Rows[1]; r.Left.N != 2 || r.Right.N != 2 || r.Left.Kind != diffSame {
		t.Errorf("row 2 = %+v, want line 2 beside line 2", r)
	}
}

func TestChangedPaths(t *testing.T) {
	tests := []struct {
		name  string
		patch string
		want  []string
		more  int
	}{
		{"etag last", `[{"op":"replace","path":"/metadata/etag","value":"x"},{"op":"replace","path":"/spec/owner","value":"y"}]`,
			[]string{"/spec/owner", "/metadata/etag"}, 0},
		{"tests change nothing", `[{"op":"test","path":"/a","value":1},{"op":"replace","path":"/b","value":2}]`, []string{"/b"}, 0},
		{"repeats once", `[{"op":"remove","path":"/a/1"},{"op":"remove","path":"/a/1"}]`, []string{"/a/1"}, 0},
		{"at most five", `[{"op":"remove","path":"/1"},{"op":"remove","path":"/2"},{"op":"remove","path":"/3"},{"op":"remove","path":"/4"},{"op":"remove","path":"/5"},{"op":"remove","path":"/6"},{"op":"remove","path":"/7"}]`,
			[]string{"/1", "/2", "/3", "/4", "/5"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, more, err := changedPaths(json.RawMessage(tt.patch))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" || more != tt.more {
				t.Errorf("paths (-want +got):\n%s\nmore %d, want %d", diff, more, tt.more)
			}
		})
	}
}

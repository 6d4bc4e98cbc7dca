package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The side-by-side diff of two versions of a JSON document (an entity
// before and after an audit event): both pretty-printed, aligned line by
// line with a Myers diff, removed lines on the left, added lines on the
// right, and long runs of unchanged lines folded.

// diffView is two versions of a document side by side.
type diffView struct {
	// ID names the view, for anchors into it.
	ID            string
	Before, After diffSide
	// Blocks are the rows in order; unchanged runs far from any change
	// are folded blocks.
	Blocks []diffBlock
	// Removed and Added count the changed lines of each side.
	Removed, Added int
	// Unaligned is set when the documents were too long to align: both
	// are shown whole, line i beside line i.
	Unaligned bool
}

// diffSide is the heading of one side of a diff.
type diffSide struct {
	// Title is "Before" or "After"; Event and Href name and link the audit
	// event that made this version, when known.
	Title, Event, Href string
	// Note says why the side is empty (the entity did not exist).
	Note string
}

// diffBlock is a run of rows shown together. A folded block is unchanged
// lines, shown collapsed.
type diffBlock struct {
	Folded bool
	Rows   []diffRow
}

// diffRow is one line of the view: a line of each side, or a filler.
type diffRow struct{ Left, Right diffCell }

// diffCell is one side of a row.
type diffCell struct {
	// N numbers the line from 1; 0 is a filler where the other side has a
	// line this side lacks.
	N int
	// Kind is diffSame, diffDel, diffAdd or diffNone.
	Kind   string
	Tokens []token
}

// Cell kinds, as the stylesheet knows them.
const (
	diffSame = "same"
	diffDel  = "del"
	diffAdd  = "add"
	diffNone = "none"
)

// maxDiffLines bounds the documents a diff aligns: longer ones are shown
// side by side unaligned, so that no document makes a page slow.
const maxDiffLines = 5000

// diffContext is how many unchanged lines are shown around a change;
// foldMin is the fewest unchanged lines worth folding.
const (
	diffContext = 3
	foldMin     = 4
)

// newDiffView returns the view of two versions of a JSON document; nil,
// empty or null means there was no document on that side.
func newDiffView(id string, before, after json.RawMessage, bs, as diffSide) (*diffView, error) {
	left, err := documentText(before)
	if err != nil {
		return nil, fmt.Errorf("web: the version before: %w", err)
	}
	right, err := documentText(after)
	if err != nil {
		return nil, fmt.Errorf("web: the version after: %w", err)
	}
	v := &diffView{ID: id, Before: bs, After: as}
	a, b := highlightLines(left), highlightLines(right)
	if len(a) > maxDiffLines || len(b) > maxDiffLines {
		v.Unaligned = true
		rows := make([]diffRow, max(len(a), len(b)))
		for i := range rows {
			rows[i] = diffRow{Left: lineCell(a, i, diffSame), Right: lineCell(b, i, diffSame)}
		}
		v.Blocks = []diffBlock{{Rows: rows}}
		return v, nil
	}
	ma, mb := lineDiff(lineTexts(a), lineTexts(b))
	rows := alignRows(a, b, ma, mb)
	for _, r := range rows {
		if r.Left.Kind == diffDel {
			v.Removed++
		}
		if r.Right.Kind == diffAdd {
			v.Added++
		}
	}
	v.Blocks = foldRows(rows)
	return v, nil
}

// documentText indents a JSON document by two spaces; no document is "".
func documentText(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	return indentJSON(raw)
}

// highlightLines highlights JSON text and returns its lines, none for "".
func highlightLines(text string) []codeLine {
	if text == "" {
		return nil
	}
	return highlight("", "json", text).Lines
}

// lineTexts returns the text of each line, for comparing them.
func lineTexts(lines []codeLine) []string {
	out := make([]string, len(lines))
	var sb strings.Builder
	for i, l := range lines {
		sb.Reset()
		for _, t := range l.Tokens {
			sb.WriteString(t.Text)
		}
		out[i] = sb.String()
	}
	return out
}

// lineCell is line i of lines as a cell of kind, or a filler past the end.
func lineCell(lines []codeLine, i int, kind string) diffCell {
	if i >= len(lines) {
		return diffCell{Kind: diffNone}
	}
	return diffCell{N: i + 1, Kind: kind, Tokens: lines[i].Tokens}
}

// alignRows lays out the lines of a and b as rows: unchanged lines side
// by side, and between them the removed lines of a beside the added
// lines of b, padded with fillers where one side has more.
func alignRows(a, b []codeLine, ma, mb []int) []diffRow {
	var rows []diffRow
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		di, dj := i, j
		for i < len(a) && ma[i] < 0 {
			i++
		}
		for j < len(b) && mb[j] < 0 {
			j++
		}
		for k := 0; k < max(i-di, j-dj); k++ {
			row := diffRow{Left: diffCell{Kind: diffNone}, Right: diffCell{Kind: diffNone}}
			if di+k < i {
				row.Left = lineCell(a, di+k, diffDel)
			}
			if dj+k < j {
				row.Right = lineCell(b, dj+k, diffAdd)
			}
			rows = append(rows, row)
		}
		if i < len(a) && j < len(b) {
			// Matches are in order, so a[i] is kept as b[j].
			rows = append(rows, diffRow{Left: lineCell(a, i, diffSame), Right: lineCell(b, j, diffSame)})
			i++
			j++
		}
	}
	return rows
}

// foldRows cuts rows into blocks, folding each run of unchanged rows
// longer than the context kept around the changes beside it.
func foldRows(rows []diffRow) []diffBlock {
	var blocks []diffBlock
	open := func(rs []diffRow, folded bool) {
		if len(rs) == 0 {
			return
		}
		if !folded && len(blocks) > 0 && !blocks[len(blocks)-1].Folded {
			blocks[len(blocks)-1].Rows = append(blocks[len(blocks)-1].Rows, rs...)
			return
		}
		blocks = append(blocks, diffBlock{Folded: folded, Rows: rs})
	}
	for start := 0; start < len(rows); {
		end := start
		same := rows[start].Left.Kind == diffSame
		for end < len(rows) && (rows[end].Left.Kind == diffSame) == same {
			end++
		}
		run := rows[start:end]
		if !same {
			open(run, false)
			start = end
			continue
		}
		keepHead, keepTail := diffContext, diffContext
		if start == 0 {
			keepHead = 0
		}
		if end == len(rows) {
			keepTail = 0
		}
		if start == 0 && end == len(rows) {
			// No change at all: the whole document, folded.
			keepHead, keepTail = 0, 0
		}
		if len(run)-keepHead-keepTail < foldMin {
			open(run, false)
		} else {
			open(run[:keepHead], false)
			open(run[keepHead:len(run)-keepTail], true)
			open(run[len(run)-keepTail:], false)
		}
		start = end
	}
	return blocks
}

// lineDiff aligns the lines of a and b along a shortest edit script: ma[i]
// is the index of the line of b that a[i] is kept as, or -1 if a[i] was
// removed; mb likewise for b (-1: added). It is Myers' O(ND) algorithm in
// linear space (E. W. Myers, "An O(ND) Difference Algorithm and Its
// Variations", 1986, section 4b): find a point on a shortest path by
// searching from both ends at once, and recurse on each side of it.
func lineDiff(a, b []string) (ma, mb []int) {
	ids := map[string]int{}
	id := func(lines []string) []int {
		out := make([]int, len(lines))
		for i, l := range lines {
			n, ok := ids[l]
			if !ok {
				n = len(ids)
				ids[l] = n
			}
			out[i] = n
		}
		return out
	}
	d := &lineDiffer{a: id(a), b: id(b), ma: make([]int, len(a)), mb: make([]int, len(b))}
	for i := range d.ma {
		d.ma[i] = -1
	}
	for j := range d.mb {
		d.mb[j] = -1
	}
	d.compare(0, len(a), 0, len(b))
	return d.ma, d.mb
}

// lineDiffer holds the lines (as ids, equal lines equal ids) and the
// matches found so far.
type lineDiffer struct {
	a, b   []int
	ma, mb []int
}

func (d *lineDiffer) match(i, j int) { d.ma[i], d.mb[j] = j, i }

// compare matches the lines of a[a0:a1] with those of b[b0:b1].
func (d *lineDiffer) compare(a0, a1, b0, b1 int) {
	for a0 < a1 && b0 < b1 && d.a[a0] == d.b[b0] {
		d.match(a0, b0)
		a0, b0 = a0+1, b0+1
	}
	for a0 < a1 && b0 < b1 && d.a[a1-1] == d.b[b1-1] {
		a1, b1 = a1-1, b1-1
		d.match(a1, b1)
	}
	if a0 == a1 || b0 == b1 {
		return // the rest of one side is all removed or all added
	}
	x, y, ok := d.split(a0, a1, b0, b1)
	if !ok {
		return // nothing in common
	}
	d.compare(a0, x, b0, y)
	d.compare(x, a1, y, b1)
}

// split returns a point (x, y) through which a shortest edit path from
// (a0, b0) to (a1, b1) passes, found where a forward search from the start
// and a backward one from the end first overlap. ok is false when the
// ranges have nothing in common (or, defensively, when the point would not
// make the problem smaller).
func (d *lineDiffer) split(a0, a1, b0, b1 int) (x, y int, ok bool) {
	n, m := a1-a0, b1-b0
	maxD := (n + m + 1) / 2
	off := maxD + 1
	// vf[off+k] is the furthest x reached on diagonal k = x-y going
	// forward; vb[off+k] the furthest reached going backward, counted
	// from the end, on diagonal k of the reversed sequences.
	vf := make([]int, 2*off+1)
	vb := make([]int, 2*off+1)
	for i := range vf {
		vf[i], vb[i] = -1, -1
	}
	vf[off+1], vb[off+1] = 0, 0
	delta := n - m
	odd := delta%2 != 0
	// Diagonals that ran off the grid are skipped from then on.
	fStart, fEnd, bStart, bEnd := 0, 0, 0, 0
	for step := 0; step < maxD; step++ {
		for k := -step + fStart; k <= step-fEnd; k += 2 {
			var x int
			if k == -step || (k != step && vf[off+k-1] < vf[off+k+1]) {
				x = vf[off+k+1]
			} else {
				x = vf[off+k-1] + 1
			}
			y := x - k
			for x < n && y < m && d.a[a0+x] == d.b[b0+y] {
				x, y = x+1, y+1
			}
			vf[off+k] = x
			switch {
			case x > n:
				fEnd += 2
			case y > m:
				fStart += 2
			case odd:
				// The backward search has made step-1 steps.
				kb := delta - k
				if kb >= -(step-1) && kb <= step-1 && onGrid(vb[off+kb], kb, n, m) && x >= n-vb[off+kb] {
					return d.at(a0, b0, x, y, n, m)
				}
			}
		}
		for k := -step + bStart; k <= step-bEnd; k += 2 {
			var x int
			if k == -step || (k != step && vb[off+k-1] < vb[off+k+1]) {
				x = vb[off+k+1]
			} else {
				x = vb[off+k-1] + 1
			}
			y := x - k
			for x < n && y < m && d.a[a1-1-x] == d.b[b1-1-y] {
				x, y = x+1, y+1
			}
			vb[off+k] = x
			switch {
			case x > n:
				bEnd += 2
			case y > m:
				bStart += 2
			case !odd:
				// The forward search has made step steps.
				kf := delta - k
				if kf >= -step && kf <= step && onGrid(vf[off+kf], kf, n, m) && vf[off+kf] >= n-x {
					return d.at(a0, b0, vf[off+kf], vf[off+kf]-kf, n, m)
				}
			}
		}
	}
	return 0, 0, false
}

// onGrid reports whether x on diagonal k is a point a search reached
// inside the n×m grid (not a diagonal never searched, or one run off it).
func onGrid(x, k, n, m int) bool { return x >= 0 && x <= n && x-k >= 0 && x-k <= m }

// at turns the split point (x, y), relative to (a0, b0), into absolute
// indexes, refusing the corners, which would not divide the problem.
func (d *lineDiffer) at(a0, b0, x, y, n, m int) (int, int, bool) {
	if (x == 0 && y == 0) || (x == n && y == m) || x < 0 || y < 0 || x > n || y > m {
		return 0, 0, false
	}
	return a0 + x, b0 + y, true
}

// patchOpView is one operation of a JSON Patch, as the ops list shows it.
type patchOpView struct {
	Op, Path, From string
	// Value is the op's value as compact JSON, cut to maxOpValue
	// characters (Cut says so); HasValue is false for ops without one.
	Value         string
	HasValue, Cut bool
}

// maxOpValue bounds the characters of a value the ops list shows: a
// creation's value is the whole entity, which the diff shows already.
const maxOpValue = 300

// patchOps reads a JSON Patch for the ops list.
func patchOps(diff json.RawMessage) ([]patchOpView, error) {
	var ops []struct {
		Op    string          `json:"op"`
		Path  string          `json:"path"`
		From  string          `json:"from"`
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(diff, &ops); err != nil {
		return nil, fmt.Errorf("web: read JSON Patch: %w", err)
	}
	out := make([]patchOpView, len(ops))
	for i, op := range ops {
		out[i] = patchOpView{Op: op.Op, Path: op.Path, From: op.From, HasValue: op.Value != nil}
		if op.Value == nil {
			continue
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, op.Value); err != nil {
			return nil, fmt.Errorf("web: read JSON Patch: %w", err)
		}
		out[i].Value, out[i].Cut = cutRunes(buf.String(), maxOpValue)
	}
	return out, nil
}

// cutRunes shortens s to at most n runes.
func cutRunes(s string, n int) (string, bool) {
	if utf8.RuneCountInString(s) <= n {
		return s, false
	}
	i := 0
	for k := 0; k < n; k++ {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:i], true
}

// maxChangedPaths is how many paths a change summary lists.
const maxChangedPaths = 5

// changedPaths returns the JSON Pointer paths a patch changes, in order,
// without repeats, at most maxChangedPaths of them, and how many more it
// changes. The etag, which changes with every version, comes last; the
// paths of "test" operations, which change nothing, are left out.
func changedPaths(diff json.RawMessage) ([]string, int, error) {
	ops, err := patchOps(diff)
	if err != nil {
		return nil, 0, err
	}
	seen := map[string]bool{}
	var paths, bookkeeping []string
	for _, op := range ops {
		p := op.Path
		if seen[p] || op.Op == "test" { // a test changes nothing
			continue
		}
		seen[p] = true
		if p == "/metadata/etag" {
			bookkeeping = append(bookkeeping, p)
		} else {
			paths = append(paths, p)
		}
	}
	paths = append(paths, bookkeeping...)
	if len(paths) > maxChangedPaths {
		return paths[:maxChangedPaths], len(paths) - maxChangedPaths, nil
	}
	return paths, 0, nil
}

// eventHref is the address of an audit event's page.
func eventHref(seq int64) string { return "/audit/events/" + strconv.FormatInt(seq, 10) }

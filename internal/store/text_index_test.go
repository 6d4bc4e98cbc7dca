package store

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func newTextIndex(values []string, ids []int64) *textIndex {
	x := &textIndex{}
	for i, v := range values {
		x.buf = append(append(x.buf, v...), 0)
		x.ends = append(x.ends, int32(len(x.buf)-1))
		x.ids = append(x.ids, ids[i])
	}
	return x
}

func TestTextIndexMatching(t *testing.T) {
	x := newTextIndex([]string{"payments", "pay", "repay-pay", "", "x", "apayb"}, []int64{1, 2, 3, 4, 5, 6})
	tests := []struct {
		term string
		max  int
		want []int64
		ok   bool
	}{
		{"pay", 10, []int64{1, 2, 3, 6}, true}, // once per value, however often it holds the term
		{"payments", 10, []int64{1}, true},
		{"paypay", 10, nil, true}, // never across two values
		{"x", 10, []int64{5}, true},
		{"b", 10, []int64{6}, true}, // at the end of the buffer
		{"pay", 3, nil, false},
		{"pay", 4, []int64{1, 2, 3, 6}, true},
	}
	for _, tt := range tests {
		got, ok := x.matching(tt.term, tt.max)
		if ok != tt.ok || !slices.Equal(got, tt.want) {
			t.Errorf("matching(%q, %d) = %v, %v; want %v, %v", tt.term, tt.max, got, ok, tt.want, tt.ok)
		}
	}
}

// TestTextIndexAgreesWithContains holds the index to strings.Contains on
// random values and terms from a small alphabet, where matches overlap
// and repeat.
func TestTextIndexAgreesWithContains(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	word := func(n int) string {
		var sb strings.Builder
		for range n {
			sb.WriteByte("ab-"[r.IntN(3)])
		}
		return sb.String()
	}
	for range 200 {
		n := r.IntN(20)
		values, ids := make([]string, n), make([]int64, n)
		for i := range values {
			values[i], ids[i] = word(r.IntN(8)), int64(i)
		}
		x := newTextIndex(values, ids)
		term := word(1 + r.IntN(3))
		var want []int64
		for i, v := range values {
			if strings.Contains(v, term) {
				want = append(want, ids[i])
			}
		}
		got, ok := x.matching(term, 100)
		if !ok || !slices.Equal(got, want) {
			t.Fatalf("values %q, term %q: got %v, want %v", values, term, got, want)
		}
	}
}

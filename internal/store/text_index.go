package store

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"sync"
	"time"
)

// maxTextIndexBytes bounds a text index; the values of a larger catalog
// are searched in SQL. Tests lower it.
var maxTextIndexBytes = 64 << 20

// textIndex holds the values of some search keys (the fields a full-text
// search looks in) in one buffer, each followed by a 0 byte, so that
// finding the values containing a term is a bytes.Index over a few
// megabytes instead of a scan of the search table: at 100,000 components
// about 2 ms against 40-55 ms. Built from the search rows at one catalog
// generation, it answers for that generation only.
type textIndex struct {
	gen  int64
	buf  []byte
	ends []int32 // ends[i] is the offset of value i's 0 byte
	ids  []int64 // ids[i] is the entity of value i
}

// textIndexes keeps the text index of the most recent field set, and
// builds the next one in the background.
type textIndexes struct {
	mu       sync.Mutex
	fields   string
	idx      *textIndex
	building bool
}

// matching returns the rows of the index whose value contains term, as
// entity ids (an entity once per row), or ok=false if there are more than
// max.
func (x *textIndex) matching(term string, max int) (ids []int64, ok bool) {
	pat := []byte(term)
	for at := 0; ; {
		i := bytes.Index(x.buf[at:], pat)
		if i < 0 {
			return ids, true
		}
		// The value holding the match: the first whose end is after it.
		v, _ := slices.BinarySearch(x.ends, int32(at+i))
		if len(ids) == max {
			return nil, false
		}
		ids = append(ids, x.ids[v])
		at = int(x.ends[v]) + 1 // the next value
	}
}

// textMatchesIndexed finds the rows whose values of fields contain term
// with the text index of fields at generation gen. Without one, it starts
// building it in the background (a build reads every value: 150 ms at
// 100,000 components, three times the scan it saves) and reports
// ok=false, leaving the search to SQL; so does a term that cannot be
// found by bytes (empty, or holding a 0 byte).
func (s *Store) textMatchesIndexed(fields []string, term string, gen int64) (ids []int64, tooMany, ok bool) {
	if term == "" || strings.IndexByte(term, 0) >= 0 {
		return nil, false, false
	}
	keys := make([]string, len(fields))
	for i, f := range fields {
		keys[i] = strings.ToLower(f)
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	name := strings.Join(keys, "\x00")

	s.textIdx.mu.Lock()
	defer s.textIdx.mu.Unlock()
	idx := s.textIdx.idx
	if idx == nil || idx.gen != gen || s.textIdx.fields != name {
		if !s.textIdx.building {
			s.textIdx.building = true
			s.background.Go(func() { s.buildTextIndexIn(name, keys, gen) })
		}
		return nil, false, false
	}
	ids, fits := idx.matching(term, maxTextRows)
	return ids, !fits, true
}

// buildTextIndexIn builds the text index of keys at generation gen and
// keeps it, unless the values are too many.
func (s *Store) buildTextIndexIn(name string, keys []string, gen int64) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	idx, err := s.buildTextIndex(ctx, keys, gen)
	s.textIdx.mu.Lock()
	defer s.textIdx.mu.Unlock()
	s.textIdx.building = false
	if err == nil && idx != nil {
		s.textIdx.fields, s.textIdx.idx = name, idx
	}
}

// Settle waits for the work the store does in the background (recomputing
// facets served stale, building the text index, refreshing PostgreSQL's
// statistics) to finish.
func (s *Store) Settle() {
	s.analyzeMu.Lock()
	running, analyzed := s.analyzing, s.analyzed
	s.analyzeMu.Unlock()
	if running {
		<-analyzed
	}
	s.background.Wait()
}

// buildTextIndex reads the values of keys into a text index, or returns
// nil if they take more than maxTextIndexBytes.
func (s *Store) buildTextIndex(ctx context.Context, keys []string, gen int64) (*textIndex, error) {
	ph := strings.TrimSuffix(strings.Repeat("?, ", len(keys)), ", ")
	args := make([]any, len(keys))
	for i, k := range keys {
		args[i] = k
	}
	rows, err := s.r.QueryContext(ctx, `SELECT entity_id, value FROM search WHERE key IN (`+ph+`)`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	x := &textIndex{gen: gen}
	var value []byte
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id, &value); err != nil {
			return nil, err
		}
		if len(x.buf)+len(value)+1 > maxTextIndexBytes {
			return nil, nil
		}
		x.buf = append(append(x.buf, value...), 0)
		x.ends = append(x.ends, int32(len(x.buf)-1))
		x.ids = append(x.ids, id)
	}
	return x, rows.Err()
}

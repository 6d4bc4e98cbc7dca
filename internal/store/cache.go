package store

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// maxCached bounds each result cache; a full cache is emptied, which is
// simple and, for the few distinct counts and facets a portal asks for,
// rare.
const maxCached = 1024

// resultCache keeps query results computed at a catalog generation.
type resultCache[T any] struct {
	mu      sync.Mutex
	entries map[string]cached[T]
	// limit bounds the entries instead of maxCached, for large results.
	limit int
}

type cached[T any] struct {
	gen   int64
	value T
	at    time.Time // when it was computed
	// cost is how long computing it took; only results that were costly
	// are worth serving stale.
	cost time.Duration
	// refreshing says a recomputation for a newer generation is running.
	refreshing bool
}

func (c *resultCache[T]) get(key string, gen int64) (T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || e.gen != gen {
		var zero T
		return zero, false
	}
	return e.value, true
}

// getStale is get that also accepts a result of an older generation
// computed at most maxAge before now, if computing it took at least
// minCost: a cheap result is better recomputed than served stale. refresh
// is true for the first caller to get a stale result since the last put:
// it should recompute it.
func (c *resultCache[T]) getStale(key string, gen int64, maxAge, minCost time.Duration, now time.Time) (v T, ok, refresh bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	switch {
	case !ok:
		return v, false, false
	case e.gen == gen:
		return e.value, true, false
	case maxAge <= 0 || now.Sub(e.at) > maxAge || e.cost < minCost:
		return v, false, false
	}
	refresh = !e.refreshing
	e.refreshing = true
	c.entries[key] = e
	return e.value, true, refresh
}

// put stores v, computed at generation gen; started is when its
// computation began and now when it ended.
func (c *resultCache[T]) put(key string, gen int64, v T, started, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	limit := c.limit
	if limit == 0 {
		limit = maxCached
	}
	if c.entries == nil || len(c.entries) >= limit {
		c.entries = map[string]cached[T]{}
	}
	c.entries[key] = cached[T]{gen: gen, value: v, at: now, cost: now.Sub(started)}
}

// generation reads the catalog generation. It is read before the query it
// tags, so a cached result is never newer than its tag says: a change
// committed in between only causes a miss later.
func (s *Store) generation(ctx context.Context) (int64, error) {
	var g int64
	err := s.r.QueryRowContext(ctx, `SELECT value FROM catalog_generation WHERE id = 1`).Scan(&g)
	return g, err
}

// bumpGeneration marks the catalog changed, inside the changing transaction.
func bumpGeneration(ctx context.Context, tx *txn) error {
	if _, err := tx.ExecContext(ctx, `UPDATE catalog_generation SET value = value + 1 WHERE id = 1`); err != nil {
		return fmt.Errorf("bump catalog generation: %w", err)
	}
	return nil
}

// cacheKey identifies a query by its SQL and arguments.
func cacheKey(query string, args []any) string {
	var sb strings.Builder
	sb.WriteString(query)
	for _, a := range args {
		fmt.Fprintf(&sb, "\x00%T:%v", a, a)
	}
	return sb.String()
}

// cachedCount runs a count query, or answers it from the cache when the
// catalog has not changed since it last ran.
func (s *Store) cachedCount(ctx context.Context, query string, args []any) (int, error) {
	return s.cachedCountOf(ctx, cacheKey(query, args), func() (int, error) {
		var n int
		err := s.r.QueryRowContext(ctx, query, args...).Scan(&n)
		return n, err
	})
}

// cachedCountOf answers a count identified by key from the cache, or
// computes it.
func (s *Store) cachedCountOf(ctx context.Context, key string, compute func() (int, error)) (int, error) {
	gen, err := s.generation(ctx)
	if err != nil {
		return 0, err
	}
	if n, ok := s.counts.get(key, gen); ok {
		return n, nil
	}
	started := s.now()
	n, err := compute()
	if err != nil {
		return 0, err
	}
	s.counts.put(key, gen, n, started, s.now())
	return n, nil
}

package auth

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/atrium-dev/atrium/internal/store"
	"github.com/atrium-dev/atrium/internal/store/storetest"
)

// clock is a fake clock that tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// openStores opens n stores on one fresh database of engine e, as n
// replicas would.
func openStores(t *testing.T, e storetest.Engine, n int) []*store.Store {
	t.Helper()
	ctx := context.Background()
	var open func() (*store.Store, error)
	switch e {
	case storetest.Postgres:
		url := storetest.PostgresURL(t)
		open = func() (*store.Store, error) { return store.OpenPostgres(ctx, url, store.Options{}) }
	default:
		path := storetest.SQLitePath(t)
		open = func() (*store.Store, error) { return store.Open(ctx, path, store.Options{}) }
	}
	var out []*store.Store
	for range n {
		st, err := open()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		out = append(out, st)
	}
	return out
}

// openStore opens a fresh SQLite store.
func openStore(t *testing.T) *store.Store {
	t.Helper()
	return openStores(t, storetest.SQLite, 1)[0]
}

const testIssuer = "https://atrium.example.com/api/auth"

// fixture is one replica's auth services on a store, on a fake clock.
type fixture struct {
	clock    *clock
	keys     *Keys
	tokens   *Tokens
	sessions *Sessions
}

func newFixture(t *testing.T, st *store.Store, c *clock) *fixture {
	t.Helper()
	keys := NewKeys(st, KeysOptions{Now: c.Now})
	tokens, err := NewTokens(keys, TokensOptions{Issuer: testIssuer, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	sessions, err := NewSessions(st, SessionsOptions{BaseURL: "https://atrium.example.com", Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{clock: c, keys: keys, tokens: tokens, sessions: sessions}
}

var jane = User("user:default/jane", []string{"group:default/team-a"})

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// The store is what Keys and Sessions run on.
var (
	_ KeyStore     = (*store.Store)(nil)
	_ SessionStore = (*store.Store)(nil)
)

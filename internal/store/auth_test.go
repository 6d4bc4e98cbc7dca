package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/atrium-dev/atrium/internal/store/storetest"
)

// keyMaker returns a newKey function for CurrentSigningKey that makes
// keys named prefix-1, prefix-2, ... created at now, and counts its calls.
func keyMaker(prefix string, now time.Time, rotation, publish time.Duration) (func() (SigningKey, error), *int) {
	var mu sync.Mutex
	n := 0
	return func() (SigningKey, error) {
		mu.Lock()
		defer mu.Unlock()
		n++
		return SigningKey{KID: fmt.Sprintf("%s-%d", prefix, n), PrivateKey: "pem-" + prefix,
			CreatedAt: now, RetireAt: now.Add(rotation), ExpiresAt: now.Add(rotation + publish)}, nil
	}, &n
}

func kids(keys []SigningKey) []string {
	var out []string
	for _, k := range keys {
		out = append(out, k.KID)
	}
	return out
}

func TestSigningKeys(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		st := openTestStore(t, e, Options{})
		t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		const rotation, publish = 24 * time.Hour, time.Hour

		// The first call creates a key; later ones, until it retires, return it.
		mk, calls := keyMaker("a", t0, rotation, publish)
		k1, err := st.CurrentSigningKey(ctx, t0, mk)
		if err != nil {
			t.Fatal(err)
		}
		want := SigningKey{KID: "a-1", PrivateKey: "pem-a", CreatedAt: t0, RetireAt: t0.Add(rotation), ExpiresAt: t0.Add(rotation + publish)}
		if diff := cmp.Diff(want, k1); diff != "" {
			t.Errorf("first key (-want +got):\n%s", diff)
		}
		again, err := st.CurrentSigningKey(ctx, t0.Add(rotation-time.Millisecond), mk)
		if err != nil {
			t.Fatal(err)
		}
		if again.KID != "a-1" || *calls != 1 {
			t.Errorf("before retiring: got key %s after %d creations, want a-1 after 1", again.KID, *calls)
		}

		// Once it retires, a new key is made; the old one stays published
		// until it expires.
		t1 := t0.Add(rotation)
		mk2, _ := keyMaker("b", t1, rotation, publish)
		k2, err := st.CurrentSigningKey(ctx, t1, mk2)
		if err != nil {
			t.Fatal(err)
		}
		if k2.KID != "b-1" {
			t.Errorf("after retiring: got key %s, want b-1", k2.KID)
		}
		for _, tt := range []struct {
			name string
			at   time.Time
			want []string
		}{
			{"both published", t1, []string{"b-1", "a-1"}},
			{"old one expired", t1.Add(publish), []string{"b-1"}},
			{"all expired", t1.Add(rotation + publish), nil},
		} {
			got, err := st.SigningKeys(ctx, tt.at)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, kids(got)); diff != "" {
				t.Errorf("%s: SigningKeys (-want +got):\n%s", tt.name, diff)
			}
		}

		// An expired key can still be looked up until a new key is made,
		// which deletes it.
		if _, err := st.SigningKey(ctx, "a-1"); err != nil {
			t.Errorf("SigningKey(a-1) = %v", err)
		}
		t2 := t1.Add(rotation + publish)
		mk3, _ := keyMaker("c", t2, rotation, publish)
		if _, err := st.CurrentSigningKey(ctx, t2, mk3); err != nil {
			t.Fatal(err)
		}
		for _, kid := range []string{"a-1", "b-1", "nope"} {
			if _, err := st.SigningKey(ctx, kid); !errors.Is(err, ErrNotFound) {
				t.Errorf("SigningKey(%s) after pruning = %v, want ErrNotFound", kid, err)
			}
		}
		got, err := st.SigningKey(ctx, "c-1")
		if err != nil {
			t.Fatal(err)
		}
		if got.RetireAt != t2.Add(rotation) {
			t.Errorf("c-1 retires at %v, want %v", got.RetireAt, t2.Add(rotation))
		}

		// An error making the key fails the call and stores nothing.
		t3 := t2.Add(rotation)
		boom := errors.New("no entropy")
		if _, err := st.CurrentSigningKey(ctx, t3, func() (SigningKey, error) { return SigningKey{}, boom }); !errors.Is(err, boom) {
			t.Errorf("failing newKey: err = %v, want %v", err, boom)
		}
		if got, _ := st.SigningKeys(ctx, t3); len(got) != 1 {
			t.Errorf("after failing newKey: %d keys published, want 1", len(got))
		}
	})
}

// TestSigningKeyReplicasAgree has several stores on one database (as
// replicas are) ask for the current key at once: all must get one key.
func TestSigningKeyReplicasAgree(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		var open func() (*Store, error)
		switch e {
		case storetest.Postgres:
			url := storetest.PostgresURL(t)
			open = func() (*Store, error) { return OpenPostgres(ctx, url, Options{}) }
		default:
			path := storetest.SQLitePath(t)
			open = func() (*Store, error) { return Open(ctx, path, Options{}) }
		}
		var replicas []*Store
		for range 3 {
			st, err := open()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			replicas = append(replicas, st)
		}
		now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		var wg sync.WaitGroup
		got := make([]string, 12)
		errs := make([]error, len(got))
		for i := range got {
			wg.Go(func() {
				mk, _ := keyMaker(fmt.Sprintf("r%d", i), now, time.Hour, time.Hour)
				k, err := replicas[i%len(replicas)].CurrentSigningKey(ctx, now, mk)
				got[i], errs[i] = k.KID, err
			})
		}
		wg.Wait()
		for i := range got {
			if errs[i] != nil {
				t.Fatalf("caller %d: %v", i, errs[i])
			}
			if got[i] != got[0] {
				t.Errorf("caller %d got key %s, caller 0 got %s", i, got[i], got[0])
			}
		}
		keys, err := replicas[0].SigningKeys(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != 1 {
			t.Errorf("%d keys stored, want 1: %v", len(keys), kids(keys))
		}
	})
}

func TestSessions(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		st := openTestStore(t, e, Options{})
		t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		sess := Session{IDHash: "h1", UserRef: "user:default/jane", OwnershipRefs: []string{"group:default/team-a", "user:default/jane"},
			CreatedAt: t0, ExpiresAt: t0.Add(12 * time.Hour), LastSeenAt: t0}
		if err := st.InsertSession(ctx, sess); err != nil {
			t.Fatal(err)
		}
		if err := st.InsertSession(ctx, Session{IDHash: "h2", UserRef: "user:default/joe", CreatedAt: t0,
			ExpiresAt: t0.Add(time.Hour), LastSeenAt: t0}); err != nil {
			t.Fatal(err)
		}
		if err := st.InsertSession(ctx, sess); err == nil {
			t.Error("inserting a session twice succeeded")
		}

		got, err := st.SessionByHash(ctx, "h1")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(sess, got); diff != "" {
			t.Errorf("SessionByHash (-want +got):\n%s", diff)
		}
		joe, err := st.SessionByHash(ctx, "h2")
		if err != nil {
			t.Fatal(err)
		}
		if joe.OwnershipRefs == nil || len(joe.OwnershipRefs) != 0 {
			t.Errorf("no ownership refs read back as %#v, want empty", joe.OwnershipRefs)
		}

		seen := t0.Add(time.Hour)
		if err := st.TouchSession(ctx, "h1", seen, seen.Add(12*time.Hour)); err != nil {
			t.Fatal(err)
		}
		got, err = st.SessionByHash(ctx, "h1")
		if err != nil {
			t.Fatal(err)
		}
		if !got.LastSeenAt.Equal(seen) || !got.ExpiresAt.Equal(seen.Add(12*time.Hour)) {
			t.Errorf("after touch: last seen %v, expires %v; want %v, %v", got.LastSeenAt, got.ExpiresAt, seen, seen.Add(12*time.Hour))
		}

		if err := st.RevokeSession(ctx, "h1"); err != nil {
			t.Fatal(err)
		}
		if got, err = st.SessionByHash(ctx, "h1"); err != nil || !got.Revoked {
			t.Errorf("after revoke: revoked = %v, err = %v; want true, nil", got.Revoked, err)
		}
		if err := st.TouchSession(ctx, "h1", seen, seen); !errors.Is(err, ErrNotFound) {
			t.Errorf("touching a revoked session: err = %v, want ErrNotFound", err)
		}

		for name, err := range map[string]error{
			"SessionByHash": func() error { _, err := st.SessionByHash(ctx, "nope"); return err }(),
			"TouchSession":  st.TouchSession(ctx, "nope", seen, seen),
			"RevokeSession": st.RevokeSession(ctx, "nope"),
		} {
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("%s of an unknown session: err = %v, want ErrNotFound", name, err)
			}
		}

		// h2 expired at t0+1h; h1 (revoked) expires at t0+13h.
		n, err := st.DeleteExpiredSessions(ctx, t0.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("DeleteExpiredSessions deleted %d, want 1", n)
		}
		if _, err := st.SessionByHash(ctx, "h2"); !errors.Is(err, ErrNotFound) {
			t.Errorf("expired session still there: err = %v", err)
		}
		if _, err := st.SessionByHash(ctx, "h1"); err != nil {
			t.Errorf("unexpired session deleted: %v", err)
		}
	})
}

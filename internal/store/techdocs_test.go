package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/atrium-dev/atrium/internal/store/storetest"
)

func TestDocsBuildLease(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		st := openTestStore(t, e, Options{Now: clock.Now})
		const ref, lease = "component:default/app", time.Minute

		if _, ok, err := st.DocsBuildState(ctx, ref); err != nil || ok {
			t.Fatalf("state before any build: ok %v, err %v", ok, err)
		}
		if ok, err := st.AcquireDocsBuild(ctx, ref, "a", lease); err != nil || !ok {
			t.Fatalf("a acquires: %v %v", ok, err)
		}
		if ok, err := st.AcquireDocsBuild(ctx, ref, "b", lease); err != nil || ok {
			t.Fatalf("b acquires a held lease: %v %v", ok, err)
		}
		if b, _, _ := st.DocsBuildState(ctx, ref); !b.Building {
			t.Errorf("state while building = %+v", b)
		}
		clock.Advance(30 * time.Second)
		if err := st.RenewDocsBuild(ctx, ref, "a", lease); err != nil {
			t.Fatal(err)
		}
		if err := st.RenewDocsBuild(ctx, ref, "b", lease); !errors.Is(err, ErrLeaseLost) {
			t.Errorf("b renews: %v, want ErrLeaseLost", err)
		}
		if err := st.FinishDocsBuild(ctx, ref, "a", "etag-1", ""); err != nil {
			t.Fatal(err)
		}
		b, ok, err := st.DocsBuildState(ctx, ref)
		if err != nil || !ok || b.Building || b.Etag != "etag-1" || b.Error != "" || !b.BuiltAt.Equal(clock.Now()) {
			t.Errorf("state after a success = %+v, %v, %v", b, ok, err)
		}

		// A failure keeps the last success's etag; a dead builder's lease
		// runs out and another replica takes over.
		if ok, _ := st.AcquireDocsBuild(ctx, ref, "b", lease); !ok {
			t.Fatal("b cannot acquire a free lease")
		}
		if err := st.FinishDocsBuild(ctx, ref, "b", "etag-2", "mkdocs.yml: site_name is required"); err != nil {
			t.Fatal(err)
		}
		if b, _, _ := st.DocsBuildState(ctx, ref); b.Etag != "etag-1" || b.Error != "mkdocs.yml: site_name is required" {
			t.Errorf("state after a failure = %+v", b)
		}
		if ok, _ := st.AcquireDocsBuild(ctx, ref, "c", lease); !ok {
			t.Fatal("c cannot acquire")
		}
		if ok, _ := st.AcquireDocsBuild(ctx, ref, "d", lease); ok {
			t.Fatal("d acquired c's live lease")
		}
		clock.Advance(2 * lease)
		if b, _, _ := st.DocsBuildState(ctx, ref); b.Building {
			t.Error("an expired lease still reads as building")
		}
		if ok, _ := st.AcquireDocsBuild(ctx, ref, "d", lease); !ok {
			t.Fatal("d cannot take over an expired lease")
		}
		if err := st.RenewDocsBuild(ctx, ref, "c", lease); !errors.Is(err, ErrLeaseLost) {
			t.Errorf("c renews after losing the lease: %v", err)
		}
	})
}

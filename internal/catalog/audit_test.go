package catalog_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/atrium-dev/atrium/internal/audit"
	"github.com/atrium-dev/atrium/internal/catalog"
	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/derrors"
	"github.com/atrium-dev/atrium/internal/store/storetest"
)

// events returns the whole audit log, oldest first, as "action target
// actor outcome" lines, and the events themselves.
func (e *env) events() ([]string, []audit.Event) {
	e.t.Helper()
	var lines []string
	var all []audit.Event
	err := e.st.WalkAudit(context.Background(), 0, func(ev audit.Event) error {
		lines = append(lines, ev.Action+" "+ev.Target+" "+ev.Actor.String()+" "+string(ev.Outcome))
		all = append(all, ev)
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return lines, all
}

// since returns the lines of events after the first n.
func since(lines []string, n int) []string { return slices.Clone(lines[n:]) }

func (e *env) verifyChain() {
	e.t.Helper()
	if _, err := audit.Verify(context.Background(), e.st, nil); err != nil {
		e.t.Fatalf("audit chain: %v", err)
	}
}

// TestAuditRecordsIngestion follows one file through its life and checks
// each ingestion writer records the right events: configured location
// added, entities created, changed with their diff, orphaned, deleted.
func TestAuditRecordsIngestion(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng, catalog.Options{OrphanStrategy: "delete"})
		e.write("catalog.yaml", component("a", "team-a", "first words")+"---\n"+component("b", "team-a", ""))
		root := e.fileRoot("catalog.yaml")
		e.sync()
		lines, _ := e.events()
		slices.Sort(lines[1:]) // stitching order within one batch is not part of the contract
		want := []string{
			"catalog.location.created " + root + " system:config succeeded",
			"catalog.entity.created component:default/a system:catalog-processing succeeded",
			"catalog.entity.created component:default/b system:catalog-processing succeeded",
			"catalog.entity.created " + root + " system:catalog-processing succeeded",
		}
		if diff := cmp.Diff(want, lines); diff != "" {
			t.Fatalf("events after the first read (-want +got):\n%s", diff)
		}
		created := e.clock.Now()

		// A change: a's description, and b no longer in the file.
		e.write("catalog.yaml", component("a", "team-a", "second words"))
		e.resync()
		lines, all := e.events()
		got := since(lines, len(want))
		for _, w := range []string{
			"catalog.entity.updated component:default/a system:catalog-processing succeeded",
			"catalog.entity.orphaned component:default/b system:catalog-processing succeeded",
			"catalog.entity.deleted component:default/b system:catalog-orphan-cleanup succeeded",
		} {
			if !slices.Contains(got, w) {
				t.Errorf("after the change, no event %q in:\n%s", w, strings.Join(got, "\n"))
			}
		}
		var update audit.Event
		for _, ev := range all {
			if ev.Action == audit.EntityUpdated && ev.Target == "component:default/a" {
				update = ev
			}
		}
		var ops []struct{ Op, Path string }
		if err := json.Unmarshal(update.Diff, &ops); err != nil {
			t.Fatalf("update diff %s: %v", update.Diff, err)
		}
		if !slices.Contains(ops, struct{ Op, Path string }{"replace", "/metadata/description"}) {
			t.Errorf("update diff = %s, want a replace of /metadata/description", update.Diff)
		}

		// History and time travel rebuild both versions.
		ref := entity.MustParseRef("component:default/a")
		versions, err := e.svc.History(context.Background(), ref)
		if err != nil {
			t.Fatal(err)
		}
		if len(versions) != 2 || versions[0].Action != audit.EntityUpdated || versions[1].Action != audit.EntityCreated {
			t.Fatalf("history = %d versions %v, want updated then created", len(versions), actions(versions))
		}
		current, err := e.svc.EntityByRef(context.Background(), ref)
		if err != nil {
			t.Fatal(err)
		}
		if !jsonEqual(t, versions[0].Entity, current) {
			t.Errorf("newest version differs from the served entity:\n%s\n%s", versions[0].Entity, current)
		}
		then, err := e.svc.EntityAt(context.Background(), ref, created)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(then), `"first words"`) {
			t.Errorf("entity at %v = %s, want the first description", created, then)
		}
		if _, err := e.svc.EntityAt(context.Background(), ref, created.Add(-time.Hour)); !errors.Is(err, derrors.ErrNotFound) {
			t.Errorf("entity before it existed: err = %v, want NotFound", err)
		}
		// b's history ends with its deletion, and it is gone at that time.
		if _, err := e.svc.EntityAt(context.Background(), entity.MustParseRef("component:default/b"), e.clock.Now()); !errors.Is(err, derrors.ErrNotFound) {
			t.Errorf("deleted entity now: err = %v, want NotFound", err)
		}
		e.verifyChain()

		// Unchanged input records nothing.
		n := len(lines)
		e.resync()
		if lines, _ := e.events(); len(lines) != n {
			t.Errorf("an unchanged refresh recorded %v", since(lines, n))
		}
	})
}

func actions(vs []audit.Version) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Action)
	}
	return out
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	return cmp.Equal(x, y)
}

// TestAuditRecordsAPICalls checks the API writers: locations, refresh and
// delete, with the actor and request they came with, and refusals.
func TestAuditRecordsAPICalls(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng, catalog.Options{AllowedLocationTypes: []string{"file"}})
		p := e.write("catalog.yaml", component("a", "team-a", ""))
		jane := audit.Actor{Kind: "user", ID: "default/jane"}
		req := audit.Request{ID: "req-1", Method: "POST", Route: "POST /api/catalog/locations", IP: "192.0.2.7", UserAgent: "test"}
		ctx := audit.WithRequest(audit.WithActor(context.Background(), jane), req)

		res, err := e.svc.AddLocation(ctx, "file", p, catalog.AddLocationOptions{})
		if err != nil {
			t.Fatal(err)
		}
		e.sync()
		if _, err := e.svc.AddLocation(ctx, "file", p, catalog.AddLocationOptions{}); !errors.Is(err, derrors.ErrConflict) {
			t.Fatalf("second AddLocation: %v, want a conflict", err)
		}
		if _, err := e.svc.AddLocation(ctx, "url", "https://example.com/x.yaml", catalog.AddLocationOptions{}); !errors.Is(err, derrors.ErrInvalid) {
			t.Fatalf("AddLocation of a type not allowed: %v", err)
		}
		a := e.mustGet("component:default/a")
		if err := e.svc.Refresh(ctx, a.Ref()); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.DeleteEntityByUID(ctx, a.Metadata.UID); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.DeleteLocation(ctx, res.Location.ID); err != nil {
			t.Fatal(err)
		}
		e.sync()

		lines, all := e.events()
		for _, w := range []string{
			"catalog.location.created " + res.Location.ID + " user:default/jane succeeded",
			"catalog.location.created file:" + p + " user:default/jane failed",
			"catalog.location.created url:https://example.com/x.yaml user:default/jane failed",
			"catalog.entity.refresh-requested component:default/a user:default/jane succeeded",
			"catalog.entity.deleted component:default/a user:default/jane succeeded",
			"catalog.location.deleted " + res.Location.ID + " user:default/jane succeeded",
		} {
			if !slices.Contains(lines, w) {
				t.Errorf("no event %q in:\n%s", w, strings.Join(lines, "\n"))
			}
		}
		for _, ev := range all {
			if ev.Actor == jane && (ev.Request == nil || *ev.Request != req) {
				t.Errorf("%s %s: request = %+v, want %+v", ev.Action, ev.Target, ev.Request, req)
			}
			if ev.Outcome == audit.Failed && ev.Error == "" {
				t.Errorf("%s %s failed without an error", ev.Action, ev.Target)
			}
		}
		e.verifyChain()
	})
}

// TestAuditRecordsRefusalsAndConflicts: readonly refusals are denied
// events; a conflicting entity is a failed event on its ref.
func TestAuditRecordsRefusalsAndConflicts(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng, catalog.Options{Readonly: true})
		first := e.write("first.yaml", component("shared", "team-a", ""))
		second := e.write("second.yaml", component("shared", "team-b", ""))
		e.withLocations(catalog.ConfigLocation{Type: "file", Target: first})
		e.sync()
		e.withLocations(catalog.ConfigLocation{Type: "file", Target: first}, catalog.ConfigLocation{Type: "file", Target: second})
		e.sync()
		if err := e.svc.DeleteLocation(context.Background(), "no-such-id"); !errors.Is(err, derrors.ErrForbidden) {
			t.Fatalf("DeleteLocation in readonly mode: %v", err)
		}
		_, all := e.events()
		var conflict, denied *audit.Event
		for i, ev := range all {
			switch {
			case ev.Action == audit.EntityConflict:
				conflict = &all[i]
			case ev.Action == audit.LocationDeleted && ev.Outcome == audit.Denied:
				denied = &all[i]
			}
		}
		if conflict == nil || conflict.Target != "component:default/shared" || conflict.Outcome != audit.Failed ||
			!strings.Contains(conflict.Error, "file:"+second) {
			t.Errorf("conflict event = %+v, want a failed event on component:default/shared naming %s", conflict, second)
		}
		if denied == nil || denied.Actor != audit.Anonymous || denied.Severity != audit.High {
			t.Errorf("readonly refusal = %+v, want a denied, high-severity event by anonymous", denied)
		}
		// A refresh that changes nothing does not report the conflict again.
		n := len(all)
		e.resync()
		if _, all := e.events(); len(all) != n {
			t.Errorf("a refresh recorded %d more events", len(all)-n)
		}
	})
}

// TestAuditOff: with the audit log disabled, nothing is recorded.
func TestAuditOffRecordsNothing(t *testing.T) {
	e := newEnvWith(t, storetest.SQLite, catalog.Options{}, true)
	e.write("catalog.yaml", component("a", "team-a", ""))
	e.fileRoot("catalog.yaml")
	e.sync()
	if lines, _ := e.events(); len(lines) != 0 {
		t.Errorf("audit off recorded %v", lines)
	}
}

// TestAuditHistorySurvivesRetention: once retention has archived an
// entity's creation, its history starts from a baseline version and time
// travel still answers from there on.
func TestAuditHistorySurvivesRetention(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng, catalog.Options{})
		e.write("catalog.yaml", component("a", "team-a", "one"))
		e.fileRoot("catalog.yaml")
		e.sync()
		e.write("catalog.yaml", component("a", "team-a", "two"))
		e.resync()
		ctx := context.Background()
		ref := entity.MustParseRef("component:default/a")
		before, err := e.svc.EntityByRef(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(48 * time.Hour)
		r := &audit.Retention{Store: e.st, Keep: 24 * time.Hour, Dir: t.TempDir(), Log: discard()}
		if n, err := r.RunOnce(ctx, e.clock.Now()); err != nil || n == 0 {
			t.Fatalf("retention archived %d events: %v", n, err)
		}
		e.write("catalog.yaml", component("a", "team-a", "three"))
		e.resync()

		versions, err := e.svc.History(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		if got := actions(versions); !cmp.Equal(got, []string{audit.EntityUpdated, audit.Baseline}) {
			t.Fatalf("history after retention = %v, want updated then the baseline", got)
		}
		if !jsonEqual(t, versions[1].Entity, before) {
			t.Errorf("baseline = %s, want the version before retention %s", versions[1].Entity, before)
		}
		if versions[0].Gap || !strings.Contains(string(versions[0].Entity), `"three"`) {
			t.Errorf("newest version = %s (gap %v), want description three", versions[0].Entity, versions[0].Gap)
		}
		then, err := e.svc.EntityAt(ctx, ref, e.clock.Now().Add(-time.Minute))
		if err != nil || !strings.Contains(string(then), `"two"`) {
			t.Errorf("entity a minute before the last change = %s, %v; want description two", then, err)
		}
		e.verifyChain()
	})
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

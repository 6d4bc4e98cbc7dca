package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"time"

	"github.com/atrium-dev/atrium/internal/api"
	"github.com/atrium-dev/atrium/internal/audit"
	"github.com/atrium-dev/atrium/internal/catalog"
	"github.com/atrium-dev/atrium/internal/store"
)

// AuditOptions configure Audit.
type AuditOptions struct {
	// Events is how many events to generate.
	Events int
	Seed   int64
	// Dir holds the SQLite database; Postgres, if set, is used instead
	// (schema BenchSchema, emptied first).
	Dir, Postgres string
	// Iterations per query kind.
	Iterations int
	// Progress, if set, receives a line per phase.
	Progress io.Writer
}

// AuditReport is what Audit measured.
type AuditReport struct {
	Events         int
	AppendSeconds  float64
	EventsPerSec   float64
	VerifySeconds  float64
	Queries        []QueryResult
	GeneratedUntil time.Time
}

// Audit fills an audit log with a year of synthetic events (mostly
// ingestion, some users' API calls, a few failures) and times filtered
// pages of GET /api/audit/events and entity histories through the real
// handler.
func Audit(ctx context.Context, opts AuditOptions) (AuditReport, error) {
	rep := AuditReport{Events: opts.Events}
	progress := opts.Progress
	if progress == nil {
		progress = io.Discard
	}
	if opts.Postgres != "" {
		if err := resetSchema(ctx, opts.Postgres); err != nil {
			return rep, err
		}
	}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	step := 365 * 24 * time.Hour / time.Duration(max(opts.Events, 1))
	now := start
	st, err := openStore(ctx, opts.Dir, opts.Postgres, store.Options{Now: func() time.Time { return now }})
	if err != nil {
		return rep, err
	}
	defer st.Close()

	rnd := rand.New(rand.NewPCG(uint64(opts.Seed), 11))
	const targets, users = 50000, 200
	t0 := time.Now()
	const batch = 2000
	for done := 0; done < opts.Events; {
		n := min(batch, opts.Events-done)
		events := make([]audit.Event, n)
		for i := range events {
			events[i] = syntheticEvent(rnd, targets, users)
			events[i].Time = now
			now = now.Add(step)
		}
		if err := st.AppendAudit(ctx, events...); err != nil {
			return rep, err
		}
		done += n
		if done%100000 == 0 {
			fmt.Fprintf(progress, "appended %d events\n", done)
		}
	}
	rep.AppendSeconds = time.Since(t0).Seconds()
	rep.EventsPerSec = float64(opts.Events) / rep.AppendSeconds
	rep.GeneratedUntil = now
	fmt.Fprintf(progress, "appended %d events in %.1fs\n", opts.Events, rep.AppendSeconds)

	// As autovacuum would have by the time anyone reads a log this size.
	if err := st.Analyze(ctx); err != nil {
		return rep, err
	}
	t1 := time.Now()
	if _, err := audit.Verify(ctx, st, nil); err != nil {
		return rep, err
	}
	rep.VerifySeconds = time.Since(t1).Seconds()

	svc := catalog.New(st, catalog.Options{Logger: slog.New(slog.DiscardHandler)})
	h := api.NewAuditHandler(svc, slog.New(slog.DiscardHandler))
	// A cursor in the middle of the log, for a page far from the head.
	mid := encodeCursor(int64(opts.Events / 2))
	day := func() string {
		d := start.Add(time.Duration(rnd.Int64N(int64(360 * 24 * time.Hour)))).Truncate(24 * time.Hour)
		return "&from=" + url.QueryEscape(d.Format(time.RFC3339)) + "&to=" + url.QueryEscape(d.Add(24*time.Hour).Format(time.RFC3339))
	}
	user := func() string { return url.QueryEscape(fmt.Sprintf("user:default/user-%d", rnd.IntN(users))) }
	target := func() string { return url.QueryEscape(fmt.Sprintf("component:default/service-%d", rnd.IntN(targets))) }
	kinds := []request{
		{"newest page", func() string { return "/api/audit/events?limit=50" }},
		{"page in the middle (cursor)", func() string { return "/api/audit/events?limit=50&cursor=" + mid }},
		{"actor=<user>", func() string { return "/api/audit/events?limit=50&actor=" + user() }},
		{"action=catalog.location.deleted", func() string { return "/api/audit/events?limit=50&action=catalog.location.deleted" }},
		{"target=<entity>", func() string { return "/api/audit/events?limit=50&target=" + target() }},
		{"outcome=failed", func() string { return "/api/audit/events?limit=50&outcome=failed" }},
		{"one day", func() string { return "/api/audit/events?limit=50" + day() }},
		{"actor=<user>&action=refresh&outcome=succeeded", func() string {
			return "/api/audit/events?limit=50&actor=" + user() + "&action=catalog.entity.refresh-requested&outcome=succeeded"
		}},
		{"actor=system&one day", func() string { return "/api/audit/events?limit=50&actor=system:catalog-processing" + day() }},
		{"entity history", func() string {
			return fmt.Sprintf("/api/audit/entities/component/default/service-%d/history", rnd.IntN(targets))
		}},
	}
	rep.Queries, err = timeRequests(ctx, h, kinds, opts.Iterations)
	return rep, err
}

// syntheticEvent makes an event like a busy portal's: 94% ingestion
// changes to one of targets entities, 3% users refreshing, 2% location
// changes, 1% failed requests.
func syntheticEvent(rnd *rand.Rand, targets, users int) audit.Event {
	target := fmt.Sprintf("component:default/service-%d", rnd.IntN(targets))
	user := audit.Actor{Kind: "user", ID: fmt.Sprintf("default/user-%d", rnd.IntN(users))}
	req := &audit.Request{ID: fmt.Sprintf("%016x", rnd.Uint64()), Method: "POST", Route: "POST /api/catalog/refresh",
		IP: "192.0.2.10", UserAgent: "bench"}
	switch p := rnd.IntN(100); {
	case p < 94:
		diff, _ := json.Marshal([]map[string]any{
			{"op": "replace", "path": "/metadata/etag", "value": fmt.Sprintf("%040x", rnd.Uint64())},
			{"op": "replace", "path": "/metadata/description", "value": fmt.Sprintf("Revision %d of the service", rnd.IntN(1000))},
		})
		return audit.Event{Actor: audit.SystemProcessing, Action: audit.EntityUpdated, Target: target,
			Outcome: audit.Succeeded, Severity: audit.Low, Diff: diff}
	case p < 97:
		return audit.Event{Actor: user, Action: audit.EntityRefreshRequested, Target: target,
			Outcome: audit.Succeeded, Severity: audit.Low, Request: req}
	case p < 99:
		action := audit.LocationCreated
		if rnd.IntN(4) == 0 {
			action = audit.LocationDeleted
		}
		return audit.Event{Actor: user, Action: action, Target: fmt.Sprintf("%032x", rnd.Uint64()),
			Outcome: audit.Succeeded, Severity: audit.Medium, Request: req}
	default:
		return audit.Event{Actor: user, Action: audit.LocationCreated, Target: "url:https://example.com/missing.yaml",
			Outcome: audit.Failed, Error: "The location target could not be read", Severity: audit.Medium, Request: req}
	}
}

// encodeCursor makes the audit API's cursor for events before seq.
func encodeCursor(before int64) string {
	return api.AuditCursor(before)
}

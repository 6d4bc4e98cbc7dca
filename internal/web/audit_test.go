package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atrium-dev/atrium/internal/audit"
	"github.com/atrium-dev/atrium/internal/catalog"
	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/catalog/source"
	"github.com/atrium-dev/atrium/internal/store"
)

// auditEnv is a small catalog of its own whose audit log the audit tests
// know event by event, on a clock they set: 57 components created on
// March 1st, two of them changed on March 2nd (at a user's request), and
// a registered location with one component added and removed again on
// March 3rd. The shared example catalog cannot serve here: other tests
// add to its log as they run.
type auditEnv struct {
	testEnv
	// Seqs of the events the tests open.
	created, updated, xssUpdated, deleted, locationDeleted, failed int64
	// total counts the events in the log.
	total int
}

var (
	auditEnvOnce sync.Once
	auditEnvVal  *auditEnv
	auditEnvErr  error
)

// The times of the three days of changes.
var (
	auditDay1 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	auditDay2 = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	auditDay3 = time.Date(2026, 3, 3, 12, 0, 0, 0, time.UTC)
)

// jane is the user who asks for the refreshes; hostile is an actor whose
// name is markup.
var (
	jane    = audit.Actor{Kind: "user", ID: "default/jane"}
	hostile = audit.Actor{Kind: "user", ID: `default/<script>window.__xss=3</script>`}
)

// auditCatalog is the catalog file: petstore and the entity with markup
// in its description, described as given, and 55 fillers.
func auditCatalog(petstore, xss string) string {
	var b strings.Builder
	b.WriteString(componentYAML("petstore", petstore))
	fmt.Fprintf(&b, "---\n%s", strings.Replace(componentYAML("xss-subject", "x"), "description: x", "description: '"+xss+"'", 1))
	for i := range 55 {
		fmt.Fprintf(&b, "---\n%s", componentYAML(fmt.Sprintf("filler-%02d", i), "Fills the log."))
	}
	return b.String()
}

func getAuditEnv(t testing.TB) *auditEnv {
	t.Helper()
	auditEnvOnce.Do(func() { auditEnvVal, auditEnvErr = newAuditEnv() })
	if auditEnvErr != nil {
		t.Fatal(auditEnvErr)
	}
	return auditEnvVal
}

func newAuditEnv() (*auditEnv, error) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "atrium-web-audit-")
	if err != nil {
		return nil, err
	}
	cleanups = append(cleanups, func() { os.RemoveAll(dir) })
	var now atomic.Int64
	now.Store(auditDay1.UnixMicro())
	st, err := store.Open(ctx, filepath.Join(dir, "atrium.sqlite"), store.Options{Now: func() time.Time { return time.UnixMicro(now.Load()) }})
	if err != nil {
		return nil, err
	}
	cleanups = append(cleanups, func() { st.Close() })
	file := filepath.Join(dir, "catalog.yaml")
	write := func(path, content string) error { return os.WriteFile(path, []byte(content), 0o644) }
	if err := write(file, auditCatalog("Sells pets.", xssDescription)); err != nil {
		return nil, err
	}
	svc := catalog.New(st, catalog.Options{
		Readers:              map[string]catalog.Reader{"file": &source.FileReader{}},
		Rules:                []catalog.Rule{{Allow: catalog.Kinds("Component", "Location")}},
		Locations:            []catalog.ConfigLocation{{Type: "file", Target: file}},
		AllowedLocationTypes: []string{"file"},
		Logger:               slog.New(slog.DiscardHandler),
	})
	if err := svc.SyncConfigLocations(ctx); err != nil {
		return nil, err
	}
	if err := svc.Sync(ctx); err != nil {
		return nil, err
	}

	// Day 2: two descriptions change, and jane asks for a refresh of both;
	// a hostile user asks for one of an entity that does not exist.
	now.Store(auditDay2.UnixMicro())
	if err := write(file, auditCatalog("Sells pets and toys.", xssDescription+" (edited)")); err != nil {
		return nil, err
	}
	for _, name := range []string{"petstore", "xss-subject"} {
		if err := svc.Refresh(audit.WithActor(ctx, jane), entity.Ref{Kind: "component", Namespace: "default", Name: name}); err != nil {
			return nil, err
		}
	}
	missing := entity.Ref{Kind: "component", Namespace: "default", Name: "<script>window.__xss=4</script>"}
	if err := svc.Refresh(audit.WithActor(ctx, hostile), missing); err == nil {
		return nil, fmt.Errorf("refreshing a missing entity succeeded")
	}
	if err := svc.Sync(ctx); err != nil {
		return nil, err
	}

	// Day 3: a location registered, processed, and unregistered.
	now.Store(auditDay3.UnixMicro())
	doomed := filepath.Join(dir, "doomed.yaml")
	if err := write(doomed, componentYAML("doomed", "Lives one day.")); err != nil {
		return nil, err
	}
	res, err := svc.AddLocation(ctx, "file", doomed, catalog.AddLocationOptions{})
	if err != nil {
		return nil, err
	}
	if err := svc.Sync(ctx); err != nil {
		return nil, err
	}
	if err := svc.DeleteLocation(ctx, res.Location.ID); err != nil {
		return nil, err
	}
	if err := svc.Sync(ctx); err != nil {
		return nil, err
	}

	e := &auditEnv{testEnv: testEnv{svc: svc, dir: dir}}
	seq := func(action, target string) (int64, error) {
		events, err := svc.AuditEvents(ctx, audit.Query{Actions: []string{action}, Targets: []string{target}, Limit: 2})
		if err != nil {
			return 0, err
		}
		if len(events) != 1 {
			return 0, fmt.Errorf("%d events %s of %s, want 1", len(events), action, target)
		}
		return events[0].Seq, nil
	}
	for _, s := range []struct {
		into           *int64
		action, target string
	}{
		{&e.created, audit.EntityCreated, "component:default/petstore"},
		{&e.updated, audit.EntityUpdated, "component:default/petstore"},
		{&e.xssUpdated, audit.EntityUpdated, "component:default/xss-subject"},
		{&e.deleted, audit.EntityDeleted, "component:default/doomed"},
		{&e.locationDeleted, audit.LocationDeleted, res.Location.ID},
		{&e.failed, audit.EntityRefreshRequested, missing.Key()},
	} {
		if *s.into, err = seq(s.action, s.target); err != nil {
			return nil, err
		}
	}
	all, err := svc.AuditEvents(ctx, audit.Query{Limit: 100000})
	if err != nil {
		return nil, err
	}
	e.total = len(all)
	e.srv = httptest.NewServer(NewHandler(svc, slog.New(slog.DiscardHandler), Options{Title: "Atrium"}))
	cleanups = append(cleanups, e.srv.Close)
	return e, nil
}

// eventLinks are the links to event pages in a page's table, in order.
var eventLink = regexp.MustCompile(`<a class="row-link" href="/audit/events/(\d+)"`)

func eventSeqs(t *testing.T, body string) []int64 {
	t.Helper()
	var out []int64
	for _, m := range eventLink.FindAllStringSubmatch(body, -1) {
		n, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

var olderLink = regexp.MustCompile(`<a href="([^"]+)" rel="next">Older events`)

func TestAuditPage(t *testing.T) {
	e := getAuditEnv(t)
	tests := []struct {
		name, path string
		status     int
		rows       int // -1: do not count
		want       []string
		notWant    []string
	}{
		{"newest first", "/audit", 200, auditPageSize, []string{"<h1>Audit log</h1>", `rel="next">Older events`, `datetime="2026-03-03T12:00:00Z"`}, nil},
		{"by action", "/audit?action=catalog.entity.updated", 200, 2,
			[]string{`<a href="/catalog/default/component/petstore">`, "component:default/petstore", "component:default/xss-subject",
				`<option value="catalog.entity.updated" selected>`}, []string{"filler-", "catalog.entity.created"}},
		// A form sent without JavaScript sends its empty fields too.
		{"empty fields", "/audit?actor=&action=catalog.entity.updated&target=&outcome=&from=&to=", 200, 2, []string{"Clear filters"}, nil},
		{"by target", "/audit?target=component:default/petstore", 200, 3,
			[]string{"catalog.entity.created", "catalog.entity.updated", "catalog.entity.refresh-requested"}, []string{"xss-subject"}},
		{"target in any case", "/audit?target=Component:Default/PETSTORE", 200, 3, nil, nil},
		{"by actor", "/audit?actor=user:default/jane", 200, 2, []string{"catalog.entity.refresh-requested", "user:default/jane"}, []string{"system:catalog-processing"}},
		{"failed", "/audit?outcome=failed", 200, 1, []string{`class="row-failed"`, `class="badge badge-failed"`, "not found"}, nil},
		{"between times", "/audit?from=2026-03-02T00:00&to=2026-03-02T23:59", 200, 5, []string{"component:default/petstore"}, []string{"catalog.entity.created", "doomed"}},
		{"a day", "/audit?from=2026-03-03&to=2026-03-03", 200, -1, []string{"component:default/doomed", "catalog.location.deleted"}, []string{"petstore"}},
		{"to includes its minute", "/audit?to=2026-03-01T10:00&action=catalog.entity.updated", 200, 0, []string{"No events match these filters."}, nil},
		{"unknown action", "/audit?action=scaffolder.task.created", 200, 0,
			[]string{"No events match these filters.", `<option value="scaffolder.task.created" selected>`}, nil},
		{"bad from", "/audit?from=yesterday", 400, 0, []string{`"From" is not a date and time`, `role="alert"`, `aria-invalid="true"`}, nil},
		{"bad to", "/audit?to=2026-13-01T00:00", 400, 0, []string{`"To" is not a date and time`}, nil},
		{"from after to", "/audit?from=2026-03-02T00:00&to=2026-03-01T00:00", 400, 0, []string{`"From" must be before "To"`}, nil},
		{"bad outcome", "/audit?outcome=maybe", 400, 0, []string{"Outcome must be succeeded, failed or denied."}, nil},
		{"bad action", "/audit?action=%3Cscript%3E", 400, 0, []string{"That is not an action name"}, nil},
		{"bad page link", "/audit?before=soon", 400, 0, []string{"This page link is not valid"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := e.get(t, e.client(), tt.path)
			if code != tt.status {
				t.Fatalf("GET %s = %d, want %d\n%s", tt.path, code, tt.status, excerpt(body))
			}
			if n := len(eventSeqs(t, body)); tt.rows >= 0 && n != tt.rows {
				t.Errorf("GET %s lists %d events, want %d", tt.path, n, tt.rows)
			}
			// What follows the filter form: the events, or the error.
			form := strings.Index(body, `<form class="card audit-filters"`)
			results := pageText(body[form+strings.Index(body[form:], "</form>"):])
			for _, w := range tt.want {
				if !strings.Contains(body, w) && !strings.Contains(results, w) {
					t.Errorf("GET %s lacks %q\n%s", tt.path, w, excerpt(body))
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(results, w) {
					t.Errorf("GET %s has %q", tt.path, w)
				}
			}
		})
	}
}

// TestAuditPaging follows the "Older events" links to the end of the log:
// every event once, newest first, the filters kept.
func TestAuditPaging(t *testing.T) {
	e := getAuditEnv(t)
	for _, tt := range []struct {
		name, path string
		want       int
	}{
		{"all", "/audit", e.total},
		// 57 components and their location entity; doomed and its.
		{"filtered", "/audit?action=catalog.entity.created", 60},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var seqs []int64
			path := tt.path
			for page := 1; path != ""; page++ {
				code, body := e.get(t, e.client(), path)
				if code != http.StatusOK {
					t.Fatalf("GET %s = %d", path, code)
				}
				got := eventSeqs(t, body)
				if len(got) == 0 || len(got) > auditPageSize {
					t.Fatalf("page %d (%s) lists %d events", page, path, len(got))
				}
				if page > 1 && !strings.Contains(body, `rel="first">« Newest events`) {
					t.Errorf("page %d has no link back to the newest events", page)
				}
				seqs = append(seqs, got...)
				path = ""
				if m := olderLink.FindStringSubmatch(body); m != nil {
					path = html.UnescapeString(m[1])
					if q := strings.TrimPrefix(tt.path, "/audit"); q != "" && !strings.Contains(path, q[1:]) {
						t.Errorf("the older events link %s drops the filter %s", path, q)
					}
				}
			}
			if len(seqs) != tt.want {
				t.Errorf("the pages list %d events, want %d", len(seqs), tt.want)
			}
			for i := 1; i < len(seqs); i++ {
				if seqs[i] >= seqs[i-1] {
					t.Fatalf("event %d follows event %d: not newest first, or listed twice", seqs[i], seqs[i-1])
				}
			}
		})
	}
}

// diffRow is a row of a rendered diff: each side's kind and text.
type renderedRow struct{ leftKind, left, rightKind, right string }

var (
	diffRowRE  = regexp.MustCompile(`<tr><td class="diff-n diff-(\w+)">\d*</td><td class="diff-line diff-\w+">(.*?)</td><td class="diff-n diff-(\w+)">\d*</td><td class="diff-line diff-\w+">(.*?)</td></tr>`)
	htmlTagsRE = regexp.MustCompile(`<[^>]*>`)
)

// pageText is the text of markup, tags dropped and escapes undone.
func pageText(s string) string { return html.UnescapeString(htmlTagsRE.ReplaceAllString(s, "")) }

// diffRows returns the rows of the diffs in a page.
func diffRows(body string) []renderedRow {
	var out []renderedRow
	for _, m := range diffRowRE.FindAllStringSubmatch(body, -1) {
		out = append(out, renderedRow{m[1], pageText(m[2]), m[3], pageText(m[4])})
	}
	return out
}

// diffCells returns the text of the diff's cells of a kind ("del" on the
// left, "add" on the right, "same" on both, "none" for fillers).
func diffCells(body, kind string) []string {
	var out []string
	for _, r := range diffRows(body) {
		if r.leftKind == kind {
			out = append(out, r.left)
		}
		if r.rightKind == kind && kind != diffSame {
			out = append(out, r.right)
		}
	}
	return out
}

// hasLine reports whether a line contains s.
func hasLine(lines []string, s string) bool {
	for _, l := range lines {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

func TestAuditEvent(t *testing.T) {
	e := getAuditEnv(t)
	page := func(t *testing.T, seq int64) string {
		t.Helper()
		path := eventHref(seq)
		code, body := e.get(t, e.client(), path)
		if code != http.StatusOK {
			t.Fatalf("GET %s = %d\n%s", path, code, excerpt(body))
		}
		return body
	}
	t.Run("update side by side", func(t *testing.T) {
		body := page(t, e.updated)
		del, add, same := diffCells(body, "del"), diffCells(body, "add"), diffCells(body, "same")
		if !hasLine(del, `"description": "Sells pets."`) || hasLine(del, "toys") {
			t.Errorf("removed lines (left) %q: want the old description only", del)
		}
		if !hasLine(add, `"description": "Sells pets and toys."`) || hasLine(add, `"Sells pets."`) {
			t.Errorf("added lines (right) %q: want the new description only", add)
		}
		if !hasLine(same, `"name": "petstore"`) || !hasLine(same, `"kind": "Component"`) {
			t.Errorf("unchanged lines lack the entity's name and kind")
		}
		// Each row is one line of each side: the changed lines face each other.
		facing := false
		for _, r := range diffRows(body) {
			facing = facing || r.leftKind == diffDel && strings.Contains(r.left, `"Sells pets."`) &&
				r.rightKind == diffAdd && strings.Contains(r.right, `"Sells pets and toys."`)
		}
		if !facing {
			t.Error("the old and new description are not on one row, left and right")
		}
		text := pageText(body)
		for _, w := range []string{"Before", "After", "event " + strconv.FormatInt(e.created, 10), "system:catalog-processing",
			"catalog.entity.updated", "Hash chain", "Previous hash", "JSON Patch:", "/metadata/description",
			"No HTTP request"} {
			if !strings.Contains(text, w) {
				t.Errorf("the event page lacks %q", w)
			}
		}
		for _, link := range []string{`href="/catalog/default/component/petstore/history"`, `href="/audit?target=component%3Adefault%2Fpetstore"`} {
			if !strings.Contains(body, link) {
				t.Errorf("the event page lacks the link %s", link)
			}
		}
	})
	t.Run("creation", func(t *testing.T) {
		body := page(t, e.created)
		if del := diffCells(body, "del"); len(del) != 0 {
			t.Errorf("a creation removes lines: %q", del)
		}
		if add := diffCells(body, "add"); !hasLine(add, `"name": "petstore"`) || !hasLine(add, `"description": "Sells pets."`) {
			t.Errorf("a creation's added lines: %q", add)
		}
		if len(diffCells(body, "none")) == 0 || !strings.Contains(body, "No entity: this event created it.") {
			t.Error("the left side of a creation is not empty")
		}
	})
	t.Run("deletion", func(t *testing.T) {
		body := page(t, e.deleted)
		if add := diffCells(body, "add"); len(add) != 0 {
			t.Errorf("a deletion adds lines: %q", add)
		}
		if del := diffCells(body, "del"); !hasLine(del, `"name": "doomed"`) {
			t.Errorf("a deletion's removed lines: %q", del)
		}
		if !strings.Contains(body, "No entity: this event deleted it.") {
			t.Error("the right side of a deletion does not say the entity is gone")
		}
		if strings.Contains(body, "/history") {
			t.Error("a deletion links to the history tab of an entity that is gone")
		}
	})
	t.Run("location patch", func(t *testing.T) {
		body := page(t, e.locationDeleted)
		if strings.Contains(body, `class="diff"`) {
			t.Error("a location event shows an entity diff")
		}
		if text := pageText(body); !strings.Contains(text, "JSON Patch it recorded") || !strings.Contains(text, `"op": "remove"`) {
			t.Errorf("a location event does not show its patch\n%s", excerpt(body))
		}
	})
	t.Run("failure", func(t *testing.T) {
		body := page(t, e.failed)
		text := unescapeHTML(body)
		for _, w := range []string{"badge-failed", "Error", "not found", `Request`} {
			if !strings.Contains(text, w) {
				t.Errorf("the failed event's page lacks %q", w)
			}
		}
		if strings.Contains(body, "Changes") {
			t.Error("an event without a diff shows changes")
		}
	})
	t.Run("versions cannot be rebuilt", func(t *testing.T) {
		// As when retention archived an entity's first events.
		srv := httptest.NewServer(NewHandler(brokenHistory{e.svc}, slog.New(slog.DiscardHandler), Options{}))
		defer srv.Close()
		stub := &testEnv{srv: srv}
		code, body := stub.get(t, stub.client(), eventHref(e.updated))
		text := pageText(body)
		if code != http.StatusOK || !strings.Contains(text, "could not be rebuilt") || !strings.Contains(text, `"path": "/metadata/description"`) {
			t.Errorf("GET %s = %d, want the event with its patch and a note\n%s", eventHref(e.updated), code, excerpt(body))
		}
	})
	for _, path := range []string{"/audit/events/999999", "/audit/events/0", "/audit/events/abc", "/audit/events/-1", "/audit/events/9223372036854775807"} {
		t.Run("missing "+path, func(t *testing.T) {
			if code, body := e.get(t, e.client(), path); code != http.StatusNotFound {
				t.Errorf("GET %s = %d, want 404\n%s", path, code, excerpt(body))
			}
		})
	}
}

// TestAuditEscapes checks that markup in entities, actors, targets and
// errors shows as text on every audit page.
func TestAuditEscapes(t *testing.T) {
	e := getAuditEnv(t)
	for _, path := range []string{eventHref(e.xssUpdated), eventHref(e.failed), "/audit?outcome=failed",
		"/audit?actor=" + strings.ReplaceAll(hostile.String(), "<", "%3C"), "/catalog/default/component/xss-subject/history"} {
		t.Run(path, func(t *testing.T) {
			code, body := e.get(t, e.client(), path)
			if code != http.StatusOK {
				t.Fatalf("GET %s = %d", path, code)
			}
			if strings.Contains(body, "<script>window.__xss") || strings.Contains(body, "<img src=x") {
				t.Errorf("%s renders data as markup", path)
			}
			if !strings.Contains(body, "&lt;script&gt;window.") {
				t.Errorf("%s does not show the markup as text\n%s", path, excerpt(body))
			}
		})
	}
	body := e.mustGet(t, eventHref(e.xssUpdated))
	if add := diffCells(body, "add"); !hasLine(add, `<script>window.__xss = 1</script><img src=x onerror=\"window.__xss = 2\"> is shown as text (edited)`) {
		t.Errorf("the edited description is not an added line, as text: %q", add)
	}
}

func TestEntityHistory(t *testing.T) {
	e := getAuditEnv(t)
	body := e.mustGet(t, "/catalog/default/component/petstore/history")
	if got, want := eventSeqs(t, body), []int64{e.updated, e.created}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("versions %v, want %v (newest first)", got, want)
	}
	text := unescapeHTML(body)
	for _, w := range []string{`<a href="/catalog/default/component/petstore/history" aria-current="page">History</a>`,
		"Latest change", "Updated", "Created", "/metadata/description", "The whole entity, first recorded",
		`href="/audit?target=component%3Adefault%2Fpetstore"`} {
		if !strings.Contains(text, w) && !strings.Contains(body, w) {
			t.Errorf("the history tab lacks %q", w)
		}
	}
	if !hasLine(diffCells(body, "del"), "Sells pets.") || !hasLine(diffCells(body, "add"), "Sells pets and toys.") {
		t.Error("the latest change is not shown side by side")
	}
	// The etag changes with every version: it comes after what the author changed.
	if i, j := strings.Index(body, "<code>/metadata/description</code>"), strings.Index(body, "<code>/metadata/etag</code>"); i < 0 || j < i {
		t.Errorf("change summary order: description at %d, etag at %d", i, j)
	}

	t.Run("a baseline and a gap", func(t *testing.T) {
		srv := httptest.NewServer(NewHandler(gappedHistory{e.svc}, slog.New(slog.DiscardHandler), Options{}))
		defer srv.Close()
		stub := &testEnv{srv: srv}
		code, body := stub.get(t, stub.client(), "/catalog/default/component/petstore/history")
		text := unescapeHTML(body)
		if code != http.StatusOK || !strings.Contains(text, "where its recorded history begins") ||
			!strings.Contains(text, "changed while the audit log was off") {
			t.Errorf("history with a baseline and a gap: %d\n%s", code, excerpt(body))
		}
		if strings.Contains(body, `href="/audit/events/7"`) {
			t.Error("the baseline links to an archived event")
		}
		if strings.Contains(body, "Latest change") {
			t.Error("a change after a gap is shown side by side against an unknown version")
		}
	})

	t.Run("no history", func(t *testing.T) {
		srv := httptest.NewServer(NewHandler(noHistory{e.svc}, slog.New(slog.DiscardHandler), Options{}))
		defer srv.Close()
		stub := &testEnv{srv: srv}
		code, body := stub.get(t, stub.client(), "/catalog/default/component/petstore/history")
		if code != http.StatusOK || !strings.Contains(body, "No recorded changes") || strings.Contains(body, "Latest change") {
			t.Errorf("an entity with no history: %d\n%s", code, excerpt(body))
		}
	})
}

// noHistory is the catalog with an audit log that has nothing on anything.
type noHistory struct{ *catalog.Service }

func (noHistory) History(context.Context, entity.Ref) ([]audit.Version, error) { return nil, nil }

func (noHistory) AuditEvents(context.Context, audit.Query) ([]audit.Event, error) { return nil, nil }

// gappedHistory is the catalog with an entity whose history starts at a
// baseline (event 7, archived) and whose newest change follows a gap.
type gappedHistory struct{ *catalog.Service }

func (gappedHistory) History(context.Context, entity.Ref) ([]audit.Version, error) {
	t := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	return []audit.Version{
		{Seq: 9, Time: t.Add(2 * time.Hour), Actor: audit.SystemProcessing, Action: audit.EntityUpdated, Gap: true,
			Diff: json.RawMessage(`[{"op":"test","path":"/metadata/etag","value":"x"},{"op":"replace","path":"/spec/owner","value":"b"}]`)},
		{Seq: 7, Time: t, Actor: audit.SystemAudit, Action: audit.Baseline,
			Entity: json.RawMessage(`{"kind":"Component","metadata":{"name":"petstore","etag":"y"},"spec":{"owner":"a"}}`)},
	}, nil
}

// brokenHistory is the catalog with entity versions that do not rebuild.
type brokenHistory struct{ *catalog.Service }

func (brokenHistory) History(context.Context, entity.Ref) ([]audit.Version, error) {
	return nil, errors.New("audit event 1 does not apply to the version before it")
}

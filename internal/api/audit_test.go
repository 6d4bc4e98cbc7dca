package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/atrium-dev/atrium/internal/audit"
	"github.com/atrium-dev/atrium/internal/catalog/entity"
)

// fakeAudit serves events 1..n, newest first, honouring Before, Limit and
// Actors, and records the queries it was asked.
type fakeAudit struct {
	n       int64
	queries []audit.Query
}

func (f *fakeAudit) AuditEvents(_ context.Context, q audit.Query) ([]audit.Event, error) {
	f.queries = append(f.queries, q)
	var out []audit.Event
	for seq := f.n; seq >= 1 && len(out) < q.Limit; seq-- {
		if q.Before > 0 && seq >= q.Before {
			continue
		}
		e := audit.Event{Seq: seq, Time: time.Date(2025, 1, 1, 0, 0, int(seq), 0, time.UTC), Actor: audit.SystemProcessing,
			Action: audit.EntityUpdated, Target: "component:default/a", Outcome: audit.Succeeded, Severity: audit.Low}
		if len(q.Actors) > 0 && !strings.EqualFold(q.Actors[0], e.Actor.String()) {
			continue
		}
		out = append(out, e)
	}
	return out, nil
}

func (f *fakeAudit) History(_ context.Context, ref entity.Ref) ([]audit.Version, error) {
	if ref.Name != "a" {
		return nil, nil
	}
	return []audit.Version{{Seq: 2, Action: audit.EntityUpdated, Entity: json.RawMessage(`{"v":2}`)},
		{Seq: 1, Action: audit.EntityCreated, Entity: json.RawMessage(`{"v":1}`)}}, nil
}

func getAudit(t *testing.T, h http.Handler, target string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, AuditPrefix+target, nil))
	return rec
}

func TestAuditEventsAPI(t *testing.T) {
	f := &fakeAudit{n: 5}
	h := NewAuditHandler(f, slog.New(slog.DiscardHandler))

	// Pages of two, following nextCursor to the end.
	var seqs []int64
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		target := "/events?limit=2"
		if cursor != "" {
			target += "&cursor=" + cursor
		}
		rec := getAudit(t, h, target)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", target, rec.Code, rec.Body)
		}
		var page auditPage
		if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Items {
			seqs = append(seqs, e.Seq)
		}
		if cursor = page.PageInfo.NextCursor; cursor == "" {
			break
		}
	}
	if diff := cmp.Diff([]int64{5, 4, 3, 2, 1}, seqs); diff != "" {
		t.Errorf("paged seqs (-want +got):\n%s", diff)
	}

	// Filters reach the query, actors and targets lowercased.
	f.queries = nil
	rec := getAudit(t, h, "/events?actor=User:Default/Jane&action=catalog.entity.deleted&action=catalog.location.deleted"+
		"&target=Component:Default/A&outcome=failed&outcome=denied&from=2025-01-01T00:00:00Z&to=2025-02-01T00:00:00%2B01:00")
	if rec.Code != http.StatusOK {
		t.Fatalf("filtered: %d %s", rec.Code, rec.Body)
	}
	want := audit.Query{Actors: []string{"user:default/jane"}, Actions: []string{audit.EntityDeleted, audit.LocationDeleted},
		Targets: []string{"component:default/a"}, Outcomes: []audit.Outcome{audit.Failed, audit.Denied},
		From: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 2, 1, 0, 0, 0, 0, time.FixedZone("", 3600)),
		Limit: defaultAuditLimit + 1}
	if diff := cmp.Diff(want, f.queries[0], cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("query (-want +got):\n%s", diff)
	}

	for _, tt := range []struct{ target, message string }{
		{"/events?outcome=maybe", "Invalid outcome 'maybe'"},
		{"/events?from=yesterday", "Invalid from 'yesterday'"},
		{"/events?limit=0", "Invalid limit '0'"},
		{"/events?limit=501", "Invalid limit '501'"},
		{"/events?cursor=not-a-cursor", "Malformed cursor"},
		{"/events?cursor=" + encodeAuditCursor(0), "Malformed cursor"},
		{"/events?order=asc", "Unknown query parameter 'order'"},
	} {
		rec := getAudit(t, h, tt.target)
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), tt.message) {
			t.Errorf("%s: %d %s, want 400 saying %q", tt.target, rec.Code, rec.Body, tt.message)
		}
	}
}

func TestAuditHistoryAPI(t *testing.T) {
	h := NewAuditHandler(&fakeAudit{}, slog.New(slog.DiscardHandler))
	rec := getAudit(t, h, "/entities/Component/default/a/history")
	if rec.Code != http.StatusOK {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	var got history
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.EntityRef != "component:default/a" || len(got.Versions) != 2 || string(got.Versions[0].Entity) != `{"v":2}` {
		t.Errorf("history = %s", rec.Body)
	}
	rec = getAudit(t, h, "/entities/component/default/never/history")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"versions":[]`) {
		t.Errorf("history of an unknown entity = %d %s, want 200 with no versions", rec.Code, rec.Body)
	}
}

func TestEntityByNameAt(t *testing.T) {
	h := newTestHandler(newFakeCatalog(), 10)
	rec := request{method: "GET", target: "/entities/by-name/component/default/petstore?at=2026-03-01T00:00:00Z"}.do(t, h)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"petstore"`) {
		t.Errorf("at a time it existed: %d %s", rec.Code, rec.Body)
	}
	rec = request{method: "GET", target: "/entities/by-name/component/default/petstore?at=2020-03-01T00:00:00Z"}.do(t, h)
	if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "at 2020-03-01T00:00:00Z") {
		t.Errorf("before it existed: %d %s, want 404 naming the time", rec.Code, rec.Body)
	}
	rec = request{method: "GET", target: "/entities/by-name/component/default/petstore?at=last-week"}.do(t, h)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "RFC 3339") {
		t.Errorf("a bad time: %d %s, want 400", rec.Code, rec.Body)
	}
}

func FuzzAuditCursor(f *testing.F) {
	f.Add(encodeAuditCursor(42))
	f.Add("YmVmb3JlOi0x")
	f.Add("%%%")
	f.Fuzz(func(t *testing.T, c string) {
		seq, ok := decodeAuditCursor(c)
		if ok && (seq <= 0 || encodeAuditCursor(seq) == "") {
			t.Errorf("decoded %q to %d", c, seq)
		}
	})
}

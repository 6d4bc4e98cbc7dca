package api

import (
	"context"
	"encoding/base64"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/atrium-dev/atrium/internal/audit"
	"github.com/atrium-dev/atrium/internal/catalog/entity"
)

// AuditPrefix is where the app mounts the audit API.
const AuditPrefix = "/api/audit"

// Audit is the audit log as the REST API reads it.
type Audit interface {
	AuditEvents(ctx context.Context, q audit.Query) ([]audit.Event, error)
	History(ctx context.Context, ref entity.Ref) ([]audit.Version, error)
}

// auditHandler serves /api/audit.
type auditHandler struct{ a Audit }

// NewAuditHandler returns the handler for the audit log's REST API:
//
//	GET /api/audit/events?actor=&action=&target=&outcome=&from=&to=&limit=&cursor=
//	GET /api/audit/entities/{kind}/{namespace}/{name}/history
//
// Like NewCatalogHandler it expects full paths and strips AuditPrefix.
func NewAuditHandler(a Audit, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.Default()
	}
	h := &auditHandler{a: a}
	return newPrefixRouter(AuditPrefix, &errorAdapter{logger: logger}, h.routeTable())
}

// routeTable is the audit API's route table.
func (h *auditHandler) routeTable() []route {
	return []route{
		{"GET /events", h.getEvents},
		{"GET /entities/{kind}/{namespace}/{name}/history", h.getHistory},
	}
}

// auditPage is one page of events. NextCursor, when set, fetches the
// next (older) page.
type auditPage struct {
	Items    []audit.Event `json:"items"`
	PageInfo struct {
		NextCursor string `json:"nextCursor,omitempty"`
	} `json:"pageInfo"`
}

const (
	defaultAuditLimit = 50
	maxAuditLimit     = 500
)

// getEvents serves GET /events: events newest first, filtered; several
// values of one filter (repeated parameters) match any of them.
func (h *auditHandler) getEvents(w http.ResponseWriter, r *http.Request) error {
	q, err := queryParams(r, "actor", "action", "target", "outcome", "from", "to", "limit", "cursor")
	if err != nil {
		return err
	}
	aq := audit.Query{Actions: q["action"], Limit: defaultAuditLimit}
	for _, a := range q["actor"] {
		aq.Actors = append(aq.Actors, strings.ToLower(a))
	}
	for _, t := range q["target"] {
		aq.Targets = append(aq.Targets, strings.ToLower(t))
	}
	for _, o := range q["outcome"] {
		switch out := audit.Outcome(o); out {
		case audit.Succeeded, audit.Failed, audit.Denied:
			aq.Outcomes = append(aq.Outcomes, out)
		default:
			return invalid("Invalid outcome '%s': expected succeeded, failed or denied", o)
		}
	}
	for _, p := range []struct {
		name string
		into *time.Time
	}{{"from", &aq.From}, {"to", &aq.To}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return invalid("Invalid %s '%s': expected an RFC 3339 time such as 2026-01-02T15:04:05Z", p.name, v)
			}
			*p.into = t
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxAuditLimit {
			return invalid("Invalid limit '%s': expected a whole number from 1 to %d", v, maxAuditLimit)
		}
		aq.Limit = n
	}
	if c := q.Get("cursor"); c != "" {
		seq, ok := decodeAuditCursor(c)
		if !ok {
			return invalid("Malformed cursor")
		}
		aq.Before = seq
	}
	// One more than the page tells whether there is a next page.
	want := aq.Limit
	aq.Limit++
	events, err := h.a.AuditEvents(r.Context(), aq)
	if err != nil {
		return err
	}
	var page auditPage
	if len(events) > want {
		events = events[:want]
		page.PageInfo.NextCursor = encodeAuditCursor(events[want-1].Seq)
	}
	page.Items = events
	if page.Items == nil {
		page.Items = []audit.Event{}
	}
	return writeJSON(w, http.StatusOK, page)
}

// AuditCursor returns the cursor of the page of events before seq, as
// GET /api/audit/events hands it out in pageInfo.nextCursor.
func AuditCursor(before int64) string { return encodeAuditCursor(before) }

// Cursors are opaque to clients; inside, the seq to continue before.
func encodeAuditCursor(before int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("before:" + strconv.FormatInt(before, 10)))
}

func decodeAuditCursor(c string) (int64, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, false
	}
	s, ok := strings.CutPrefix(string(b), "before:")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0
}

// history is an entity's versions, newest first.
type history struct {
	EntityRef string          `json:"entityRef"`
	Versions  []audit.Version `json:"versions"`
}

// getHistory serves GET /entities/{kind}/{namespace}/{name}/history. An
// entity with no recorded versions (never existed, or older than the log)
// answers an empty list rather than 404: its history is empty.
func (h *auditHandler) getHistory(w http.ResponseWriter, r *http.Request) error {
	if _, err := queryParams(r); err != nil {
		return err
	}
	ref := pathRef(r)
	versions, err := h.a.History(r.Context(), ref)
	if err != nil {
		return err
	}
	if versions == nil {
		versions = []audit.Version{}
	}
	return writeJSON(w, http.StatusOK, history{EntityRef: ref.Key(), Versions: versions})
}

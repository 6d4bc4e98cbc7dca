package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/atrium-dev/atrium/internal/audit"
	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/scaffolder"
	"github.com/atrium-dev/atrium/internal/scaffolder/action"
)

// auditView is the audit log page: a filter form above one page of
// events, newest first.
type auditView struct {
	Layout
	// Form holds the filters as submitted, to show them again.
	Form auditForm
	// Actions and Outcomes are the options of the form's selects;
	// Actors suggests actor names.
	Actions, Outcomes []option
	Actors            []string
	// Error says why the filters could not be applied (the page then
	// lists no events); ErrorField is the form field at fault, if one is.
	Error, ErrorField string
	Events            []auditRow
	// Active counts the filters in force; ClearHref drops them all.
	Active    int
	ClearHref string
	// OlderHref continues with the events before this page; NewestHref
	// goes back to the newest. Both keep the filters.
	OlderHref, NewestHref string
}

// auditForm is the audit page's filter form as submitted.
type auditForm struct{ Actor, Action, Target, Outcome, From, To string }

// auditRow is one event of the audit table.
type auditRow struct {
	Seq              int64
	Href             string
	Time             stamp
	Actor, Action    string
	Target           targetLink
	Outcome          string
	Error, Severity  string
	Failed, Elevated bool
}

// stamp is a moment as pages show it: Text for people (UTC), ISO for
// the datetime attribute of <time>.
type stamp struct{ ISO, Text string }

func newStamp(t time.Time) stamp {
	u := t.UTC()
	return stamp{ISO: u.Format(time.RFC3339Nano), Text: u.Format("2006-01-02 15:04:05")}
}

// targetLink is an event's target; Href is set when it is an entity ref,
// to the entity's page.
type targetLink struct{ Text, Href string }

// entityTarget matches targets that are full entity refs in the form the
// log writes them, kind:namespace/name; other targets (location ids,
// "audit:1-50") are not.
var entityTarget = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*:[a-z0-9][a-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$`)

// targetRef returns the entity an event's target names, if it names one.
func targetRef(target string) (entity.Ref, bool) {
	if !entityTarget.MatchString(target) {
		return entity.Ref{}, false
	}
	ref, err := entity.ParseRef(target, entity.RefDefaults{})
	return ref, err == nil
}

func newTargetLink(target string) targetLink {
	l := targetLink{Text: target}
	if ref, ok := targetRef(target); ok {
		l.Href = entityHref(ref)
	}
	return l
}

// auditPageSize is how many events a page of the audit log lists.
const auditPageSize = 50

// auditActions are the actions the filter offers: the catalog's, the
// scaffolder's tasks', and one per registered scaffolder action.
var auditActions = func() []string {
	out := []string{
		audit.EntityCreated, audit.EntityUpdated, audit.EntityDeleted, audit.EntityOrphaned, audit.EntityConflict,
		audit.EntityRefreshRequested, audit.LocationCreated, audit.LocationUpdated, audit.LocationDeleted,
		audit.EventsArchived,
		scaffolder.AuditTaskCreated, scaffolder.AuditTaskCancelled, scaffolder.AuditTaskRetried,
		scaffolder.AuditTaskCompleted, scaffolder.AuditTaskFailed,
	}
	for _, a := range action.List() {
		out = append(out, scaffolder.AuditActionPrefix+a.ID)
	}
	return out
}()

// auditOutcomes are the outcomes the filter offers.
var auditOutcomes = []audit.Outcome{audit.Succeeded, audit.Failed, audit.Denied}

// auditActors are the actors the actor field suggests: Atrium's own.
var auditActors = []string{
	audit.SystemProcessing.String(), audit.SystemOrphanCleanup.String(), audit.SystemConfig.String(),
	audit.SystemRetention.String(), audit.Anonymous.String(),
}

// actionName matches what an action may look like, so that a hand-made
// URL cannot put arbitrary text into the query.
var actionName = regexp.MustCompile(`^[a-z0-9][a-z0-9._:-]{0,99}$`)

// Layouts a from or to value may have: the datetime-local input's, with
// or without seconds, or a date alone. Each comes with the span it names,
// which "to" includes.
var auditTimeLayouts = []struct {
	layout string
	span   time.Duration
}{
	{"2006-01-02T15:04", time.Minute},
	{"2006-01-02T15:04:05", time.Second},
	{"2006-01-02", 24 * time.Hour},
}

// formError is a filter value the audit page cannot use.
type formError struct{ field, message string }

func readAuditForm(q url.Values) auditForm {
	get := func(k string) string { return strings.TrimSpace(q.Get(k)) }
	return auditForm{Actor: get("actor"), Action: get("action"), Target: get("target"),
		Outcome: get("outcome"), From: get("from"), To: get("to")}
}

// query turns the form into a query of the log. Actors and targets are
// matched lowercased, as the log writes them.
func (f auditForm) query() (audit.Query, *formError) {
	var q audit.Query
	if f.Actor != "" {
		q.Actors = []string{strings.ToLower(f.Actor)}
	}
	if f.Target != "" {
		q.Targets = []string{strings.ToLower(f.Target)}
	}
	if f.Action != "" {
		if !actionName.MatchString(f.Action) {
			return q, &formError{"action", "That is not an action name: pick one from the list."}
		}
		q.Actions = []string{f.Action}
	}
	if f.Outcome != "" {
		o := audit.Outcome(f.Outcome)
		switch o {
		case audit.Succeeded, audit.Failed, audit.Denied:
		default:
			return q, &formError{"outcome", "Outcome must be succeeded, failed or denied."}
		}
		q.Outcomes = []audit.Outcome{o}
	}
	from, _, ok := parseAuditTime(f.From)
	if !ok {
		return q, &formError{"from", `"From" is not a date and time: pick one, or write it as 2026-03-01T14:30 (UTC).`}
	}
	to, span, ok := parseAuditTime(f.To)
	if !ok {
		return q, &formError{"to", `"To" is not a date and time: pick one, or write it as 2026-03-01T14:30 (UTC).`}
	}
	q.From = from
	if !to.IsZero() {
		q.To = to.Add(span) // "to" includes the minute (or second, or day) it names
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(q.To) {
		return q, &formError{"from", `"From" must be before "To".`}
	}
	return q, nil
}

// parseAuditTime reads a from or to value as UTC; "" is no bound.
func parseAuditTime(s string) (time.Time, time.Duration, bool) {
	if s == "" {
		return time.Time{}, 0, true
	}
	for _, l := range auditTimeLayouts {
		if t, err := time.ParseInLocation(l.layout, s, time.UTC); err == nil {
			return t, l.span, true
		}
	}
	return time.Time{}, 0, false
}

// values returns the filters in force as URL parameters.
func (f auditForm) values() url.Values {
	v := url.Values{}
	for _, p := range []struct{ k, v string }{{"actor", f.Actor}, {"action", f.Action}, {"target", f.Target},
		{"outcome", f.Outcome}, {"from", f.From}, {"to", f.To}} {
		if p.v != "" {
			v.Set(p.k, p.v)
		}
	}
	return v
}

// href is the audit page with the form's filters, before seq (0: newest).
func (f auditForm) href(before int64) string {
	v := f.values()
	if before > 0 {
		v.Set("before", strconv.FormatInt(before, 10))
	}
	if len(v) == 0 {
		return "/audit"
	}
	return "/audit?" + v.Encode()
}

// auditPage serves /audit.
func (h *handler) auditPage(w http.ResponseWriter, r *http.Request) error {
	params := r.URL.Query()
	f := readAuditForm(params)
	v := &auditView{
		Layout: h.layout(r, "Audit log", sectionAudit, crumb{"Audit log", ""}),
		Form:   f, Actors: auditActors, ClearHref: "/audit", Active: len(f.values()),
	}
	v.Actions = []option{{Value: "", Label: "Any action", Selected: f.Action == ""}}
	known := false
	for _, a := range auditActions {
		v.Actions = append(v.Actions, option{Value: a, Label: a, Selected: a == f.Action})
		known = known || a == f.Action
	}
	if !known && f.Action != "" && actionName.MatchString(f.Action) {
		// An action the list does not know yet (a newer Atrium's).
		v.Actions = append(v.Actions, option{Value: f.Action, Label: f.Action, Selected: true})
	}
	v.Outcomes = []option{{Value: "", Label: "Any outcome", Selected: f.Outcome == ""}}
	for _, o := range auditOutcomes {
		v.Outcomes = append(v.Outcomes, option{Value: string(o), Label: string(o), Selected: string(o) == f.Outcome})
	}

	q, ferr := f.query()
	if ferr == nil {
		if b := params.Get("before"); b != "" {
			n, err := strconv.ParseInt(b, 10, 64)
			if err != nil || n < 1 {
				ferr = &formError{"", "This page link is not valid: start again from the newest events."}
			}
			q.Before = n
		}
	}
	if ferr != nil {
		v.Error, v.ErrorField = ferr.message, ferr.field
		return h.views.render(w, http.StatusBadRequest, "audit", v)
	}

	q.Limit = auditPageSize + 1 // one more tells whether there is an older page
	events, err := h.c.AuditEvents(r.Context(), q)
	if err != nil {
		return err
	}
	if len(events) > auditPageSize {
		events = events[:auditPageSize]
		v.OlderHref = f.href(events[len(events)-1].Seq)
	}
	if q.Before > 0 {
		v.NewestHref = f.href(0)
	}
	for _, e := range events {
		v.Events = append(v.Events, newAuditRow(e))
	}
	return h.views.render(w, http.StatusOK, "audit", v)
}

func newAuditRow(e audit.Event) auditRow {
	return auditRow{
		Seq: e.Seq, Href: eventHref(e.Seq), Time: newStamp(e.Time), Actor: e.Actor.String(), Action: e.Action,
		Target: newTargetLink(e.Target), Outcome: string(e.Outcome), Error: e.Error, Severity: string(e.Severity),
		Failed:   e.Outcome != audit.Succeeded,
		Elevated: e.Severity == audit.High || e.Severity == audit.Critical,
	}
}

package web

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"strconv"

	"github.com/atrium-dev/atrium/internal/audit"
	"github.com/atrium-dev/atrium/internal/derrors"
)

// auditEventView is one audit event: every field of it, and what it
// changed, side by side for entities.
type auditEventView struct {
	Layout
	Event auditRow
	// Request is the HTTP request behind the event, if one was.
	Request *audit.Request
	// PrevHash and Hash chain the event to the one before it; PrevHref
	// links that one.
	PrevHash, Hash, PrevHref string
	// HistoryHref is the History tab of the entity the event changed (not
	// after a deletion, when the entity has no page); TargetHref lists
	// every event about the event's target.
	HistoryHref, TargetHref string
	// Changes is what the event changed; nil when it carries no diff.
	Changes *changesView
}

// changesView shows an event's diff: the entity before and after side by
// side when the event changed an entity whose versions are known, else
// the JSON Patch itself; and the patch's operations.
type changesView struct {
	Diff *diffView
	// Patch is the JSON Patch, pretty-printed, when there is no Diff;
	// Note says why there is none.
	Patch *codeView
	Note  string
	Ops   []patchOpView
}

// auditEvent serves /audit/events/{seq}.
func (h *handler) auditEvent(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	seq, err := strconv.ParseInt(r.PathValue("seq"), 10, 64)
	if err != nil || seq < 1 || seq == math.MaxInt64 {
		return errNotFound
	}
	events, err := h.c.AuditEvents(ctx, audit.Query{Before: seq + 1, Limit: 1})
	if err != nil {
		return err
	}
	if len(events) == 0 || events[0].Seq != seq {
		return derrors.NotFound("There is no audit event %d. Older events may have been archived.", seq)
	}
	e := events[0]
	title := "Event " + strconv.FormatInt(seq, 10)
	v := &auditEventView{
		Layout: h.layout(r, title+" · Audit log", sectionAudit, crumb{"Audit log", "/audit"}, crumb{title, ""}),
		Event:  newAuditRow(e), Request: e.Request, PrevHash: e.PrevHash, Hash: e.Hash,
	}
	if seq > 1 {
		v.PrevHref = eventHref(seq - 1)
	}
	if ref, ok := targetRef(e.Target); ok && audit.IsEntityChange(e.Action) && e.Action != audit.EntityDeleted {
		v.HistoryHref = entityHref(ref) + "/" + tabHistory
	}
	if e.Target != "" {
		v.TargetHref = (auditForm{Target: e.Target}).href(0)
	}
	if len(e.Diff) > 0 {
		if v.Changes, err = h.eventChanges(ctx, e); err != nil {
			return err
		}
	}
	return h.views.render(w, http.StatusOK, "audit_event", v)
}

// eventChanges builds the changes of an event with a diff. For a change
// to an entity it rebuilds the entity's versions from the log and shows
// the one the event made beside the one before it; for anything else
// (locations) it shows the patch.
func (h *handler) eventChanges(ctx context.Context, e audit.Event) (*changesView, error) {
	ops, err := patchOps(e.Diff)
	if err != nil {
		return nil, err
	}
	c := &changesView{Ops: ops}
	if ref, ok := targetRef(e.Target); ok && audit.IsEntityChange(e.Action) && e.Outcome == audit.Succeeded {
		versions, err := h.c.History(ctx, ref)
		switch {
		case err != nil && ctx.Err() != nil:
			return nil, err
		case err != nil:
			// The event's own fields are still worth showing: say what is
			// missing, and keep the detail for the logs.
			h.log.Error("web: rebuild entity versions", "ref", ref.Key(), "seq", e.Seq, "err", err)
			c.Note = "The entity's versions could not be rebuilt from the audit log, so the change is shown as the JSON Patch the event recorded."
		default:
			if c.Diff, _, err = versionDiff("diff", versions, e.Seq); err != nil {
				return nil, err
			}
		}
	} else {
		c.Note = "This event did not change an entity's stored version, so the change is shown as the JSON Patch it recorded."
	}
	if c.Diff == nil {
		text, err := indentJSON(e.Diff)
		if err != nil {
			return nil, err
		}
		p := highlight("patch", "json", text)
		c.Patch = &p
		if c.Note == "" {
			c.Note = "The version this event made is not in the entity's history, so the change is shown as the JSON Patch it recorded."
		}
	}
	return c, nil
}

// versionDiff is the diff of the version that event seq made against the
// version before it, from versions newest first; ok is false, and the
// view nil, if seq made none of them.
func versionDiff(id string, versions []audit.Version, seq int64) (v *diffView, ok bool, err error) {
	for i, ver := range versions {
		if ver.Seq != seq {
			continue
		}
		after := diffSide{Title: "After", Event: eventName(ver.Seq), Href: eventHref(ver.Seq)}
		before := diffSide{Title: "Before"}
		var prev json.RawMessage
		if i+1 < len(versions) {
			p := versions[i+1]
			if p.Gap {
				return nil, false, nil // the version before is unknown
			}
			prev = p.Entity
			before.Event, before.Href = eventName(p.Seq), eventHref(p.Seq)
			if p.Action == audit.Baseline {
				before.Event, before.Href = "where the recorded history begins", ""
			}
		}
		if ver.Gap {
			return nil, false, nil // the version it made is unknown
		}
		if isNoDocument(prev) {
			before.Note = "No entity: this event created it."
		}
		if isNoDocument(ver.Entity) {
			after.Note = "No entity: this event deleted it."
		}
		v, err := newDiffView(id, prev, ver.Entity, before, after)
		return v, err == nil, err
	}
	return nil, false, nil
}

// isNoDocument reports whether a version is no entity (before its
// creation, after its deletion).
func isNoDocument(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

// eventName names an audit event in links.
func eventName(seq int64) string { return "event " + strconv.FormatInt(seq, 10) }

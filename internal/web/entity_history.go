package web

import (
	"net/http"
	"net/url"

	"github.com/atrium-dev/atrium/internal/audit"
)

// historyView is an entity's history tab: its versions from the audit
// log, newest first, and the latest change side by side.
type historyView struct {
	Layout
	Entity   entityFrame
	Versions []versionRow
	// More counts the older versions not listed; AuditHref lists every
	// event about the entity in the audit log.
	More      int
	AuditHref string
	// Latest is the newest version beside the one before it.
	Latest *diffView
}

// versionRow is one version of the entity.
type versionRow struct {
	Seq           int64
	Href          string
	Time          stamp
	Actor, Action string
	// Verb is the action in a word ("Updated"); Changes are the JSON
	// Pointer paths it changed, and MoreChanges how many more it did.
	Verb        string
	Changes     []string
	MoreChanges int
	// Note stands in for Changes when there are none to list.
	Note string
	// Gap says this change does not follow from the version before it
	// (the entity changed while the audit log was off): the version it
	// made is unknown.
	Gap bool
}

// maxHistoryVersions bounds the versions the tab lists; the audit log
// pages through the rest.
const maxHistoryVersions = 200

// actionVerbs name the entity changes in a word.
var actionVerbs = map[string]string{
	audit.EntityCreated: "Created", audit.EntityUpdated: "Updated",
	audit.EntityDeleted: "Deleted", audit.EntityOrphaned: "Orphaned",
	audit.Baseline: "Baseline",
}

// entityHistory serves .../history.
func (h *handler) entityHistory(w http.ResponseWriter, r *http.Request) error {
	e, frame, err := h.loadEntity(r, tabHistory)
	if err != nil {
		return err
	}
	versions, err := h.c.History(r.Context(), e.Ref())
	if err != nil {
		return err
	}
	v := &historyView{
		Layout:    h.layout(r, frame.DisplayName+" · History", sectionCatalog, entityCrumbs(frame, tabHistory)...),
		Entity:    frame,
		AuditHref: "/audit?" + url.Values{"target": {e.Ref().Key()}}.Encode(),
	}
	if len(versions) > maxHistoryVersions {
		v.More = len(versions) - maxHistoryVersions
	}
	for _, ver := range versions[:len(versions)-v.More] {
		row := versionRow{Seq: ver.Seq, Href: eventHref(ver.Seq), Time: newStamp(ver.Time), Actor: ver.Actor.String(),
			Action: ver.Action, Verb: actionVerbs[ver.Action]}
		if row.Verb == "" {
			row.Verb = ver.Action
		}
		// A creation or deletion replaces the whole document: no path to list.
		switch ver.Action {
		case audit.Baseline:
			// Where the recorded history begins: no event of its own left.
			row.Href = ""
			row.Note = "The entity as it was where its recorded history begins (older events were archived, or predate the audit log)"
		case audit.EntityCreated:
			row.Note = "The whole entity, first recorded"
		case audit.EntityDeleted:
			row.Note = "The whole entity, removed"
		default:
			if row.Changes, row.MoreChanges, err = changedPaths(ver.Diff); err != nil {
				return err
			}
			for i, p := range row.Changes {
				if p == "" {
					row.Changes[i] = "(the whole entity)"
				}
			}
			if len(row.Changes) == 0 {
				row.Note = "Nothing"
			}
			if ver.Gap {
				row.Gap = true
			}
		}
		v.Versions = append(v.Versions, row)
	}
	if len(versions) > 0 {
		if v.Latest, _, err = versionDiff("latest", versions, versions[0].Seq); err != nil {
			return err
		}
	}
	return h.views.render(w, http.StatusOK, "entity_history", v)
}

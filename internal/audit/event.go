package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Event is one entry of the audit log.
type Event struct {
	// Seq numbers events from 1 in the order they were appended.
	Seq int64 `json:"seq"`
	// Time is when the event was appended, to the microsecond, UTC.
	Time time.Time `json:"time"`
	// Actor is who or what made the change.
	Actor Actor `json:"actor"`
	// Action names what was done, e.g. "catalog.entity.updated".
	Action string `json:"action"`
	// Target is what it was done to: an entity ref in lowercase
	// ("component:default/petstore") or a location id.
	Target string `json:"target"`
	// Outcome says whether it happened.
	Outcome Outcome `json:"outcome"`
	// Error is why it did not, for failed and denied outcomes.
	Error string `json:"error,omitempty"`
	// Severity ranks the event for alerting.
	Severity Severity `json:"severity"`
	// Request is the HTTP request that made the change, if one did.
	Request *Request `json:"request,omitempty"`
	// Diff is, for entity changes, the RFC 6902 JSON Patch from the
	// previous version of the entity to the new one (see Diff).
	Diff json.RawMessage `json:"diff,omitempty"`
	// PrevHash is the hash of the event before this one ("" for the first).
	PrevHash string `json:"prevHash"`
	// Hash covers this event's canonical form and PrevHash.
	Hash string `json:"hash"`

	// canonicalDiff is Diff as SetDiff set it, known to be in canonical
	// form: sealing need not check it again.
	canonicalDiff json.RawMessage
}

// CanonicalDiff is a diff in the form an event's hash covers: valid JSON,
// compact, with <, > and & escaped as encoding/json escapes them. Only
// Canonicalize makes one.
type CanonicalDiff struct{ b json.RawMessage }

// Canonicalize checks diff and puts it in canonical form. Events are
// sealed one after another, under the chain head's lock; a diff made
// canonical beforehand, where the work can run in parallel, is not
// checked again then (a kilobyte-sized diff is most of sealing's cost).
func Canonicalize(diff json.RawMessage) (CanonicalDiff, error) {
	b, err := json.Marshal(diff) // json.RawMessage: checked, compacted, escaped
	if err != nil {
		return CanonicalDiff{}, err
	}
	return CanonicalDiff{b}, nil
}

// SetDiff sets e's Diff to d.
func (e *Event) SetDiff(d CanonicalDiff) {
	e.Diff = d.b
	e.canonicalDiff = d.b
}

// diffIsCanonical says whether Diff is still what SetDiff set.
func (e *Event) diffIsCanonical() bool {
	return len(e.Diff) > 0 && len(e.Diff) == len(e.canonicalDiff) && &e.Diff[0] == &e.canonicalDiff[0]
}

// Actions recorded by the catalog.
const (
	EntityCreated          = "catalog.entity.created"
	EntityUpdated          = "catalog.entity.updated"
	EntityDeleted          = "catalog.entity.deleted"
	EntityOrphaned         = "catalog.entity.orphaned"
	EntityConflict         = "catalog.entity.conflict"
	EntityRefreshRequested = "catalog.entity.refresh-requested"
	LocationCreated        = "catalog.location.created"
	LocationUpdated        = "catalog.location.updated"
	LocationDeleted        = "catalog.location.deleted"
)

// EventsArchived is retention archiving and deleting old events.
const EventsArchived = "audit.events.archived"

// IsEntityChange reports whether action changes an entity's stored
// version, so that its Diff moves the entity's history on.
func IsEntityChange(action string) bool {
	switch action {
	case EntityCreated, EntityUpdated, EntityOrphaned, EntityDeleted:
		return true
	}
	return false
}

// Outcome says whether an audited action happened.
type Outcome string

// Outcomes.
const (
	Succeeded Outcome = "succeeded"
	Failed    Outcome = "failed"
	Denied    Outcome = "denied"
)

// Severity ranks events, with Backstage's auditor levels.
type Severity string

// Severities.
const (
	Low      Severity = "low"
	Medium   Severity = "medium"
	High     Severity = "high"
	Critical Severity = "critical"
)

// Request is the HTTP request behind an event.
type Request struct {
	ID        string `json:"id,omitempty"`
	Method    string `json:"method,omitempty"`
	Route     string `json:"route,omitempty"`
	IP        string `json:"ip,omitempty"`
	UserAgent string `json:"userAgent,omitempty"`
}

// canonicalHead is the start of the form an event's hash covers: every
// field but Hash, in a fixed order, with the time as integer microseconds
// so that no formatting or database round trip changes it. The diff and
// PrevHash follow, as "diff" and "prevHash" (see canonicalForm).
type canonicalHead struct {
	Seq      int64    `json:"seq"`
	Time     int64    `json:"timeUs"`
	Actor    string   `json:"actor"`
	Action   string   `json:"action"`
	Target   string   `json:"target"`
	Outcome  Outcome  `json:"outcome"`
	Error    string   `json:"error"`
	Severity Severity `json:"severity"`
	Request  *Request `json:"request"`
}

// canonicalForm is the JSON object an event's hash covers: canonicalHead's
// fields, then the diff (null if none) and PrevHash, as encoding/json
// would write them all as one struct.
func canonicalForm(e *Event) ([]byte, error) {
	head, err := json.Marshal(canonicalHead{Seq: e.Seq, Time: e.Time.UnixMicro(), Actor: e.Actor.String(), Action: e.Action,
		Target: e.Target, Outcome: e.Outcome, Error: e.Error, Severity: e.Severity, Request: e.Request})
	if err != nil {
		return nil, err
	}
	diff := json.RawMessage("null")
	switch {
	case e.diffIsCanonical():
		diff = e.Diff
	case len(e.Diff) > 0:
		c, err := Canonicalize(e.Diff)
		if err != nil {
			return nil, err
		}
		diff = c.b
	}
	prev, err := json.Marshal(e.PrevHash)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(head)+len(diff)+len(prev)+len(`,"diff":,"prevHash":`))
	out = append(out, head[:len(head)-1]...) // without its closing brace
	out = append(out, `,"diff":`...)
	out = append(out, diff...)
	out = append(out, `,"prevHash":`...)
	out = append(out, prev...)
	return append(out, '}'), nil
}

// ComputeHash returns the hash e should carry: SHA-256, hex, over its
// canonical JSON form, which includes PrevHash.
func ComputeHash(e *Event) (string, error) {
	b, err := canonicalForm(e)
	if err != nil {
		return "", fmt.Errorf("canonical form of audit event %d: %w", e.Seq, err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// Seal numbers events after the chain head (seq, hash), sets their
// PrevHash and Hash, and returns the new head.
func Seal(events []Event, seq int64, hash string) (int64, string, error) {
	for i := range events {
		seq++
		events[i].Seq = seq
		events[i].PrevHash = hash
		h, err := ComputeHash(&events[i])
		if err != nil {
			return 0, "", err
		}
		events[i].Hash = h
		hash = h
	}
	return seq, hash, nil
}

// Actor is who or what makes a change.
type Actor struct {
	// Kind is "user", "service" (a service token), "system" (a part of
	// Atrium acting on its own, e.g. the ingestion loop) or "anonymous".
	Kind string
	// ID names the actor within its kind: the user's entity ref
	// ("default/jane"), the token's subject, or the system component
	// ("catalog-processing").
	ID string
}

// Actors Atrium's own components act as.
var (
	SystemProcessing    = System("catalog-processing")
	SystemOrphanCleanup = System("catalog-orphan-cleanup")
	SystemConfig        = System("config")
	SystemRetention     = System("audit-retention")
	SystemAudit         = System("audit")
	Anonymous           = Actor{Kind: "anonymous"}
)

// System returns the actor for an Atrium component.
func System(component string) Actor { return Actor{Kind: "system", ID: component} }

// String returns "kind:id", e.g. "user:default/jane" or
// "system:catalog-processing", or the kind alone when there is no id.
func (a Actor) String() string {
	if a.ID == "" {
		return a.Kind
	}
	return a.Kind + ":" + a.ID
}

// ParseActor is the inverse of Actor.String.
func ParseActor(s string) Actor {
	kind, id, _ := strings.Cut(s, ":")
	return Actor{Kind: kind, ID: id}
}

// MarshalJSON writes the actor as its string form.
func (a Actor) MarshalJSON() ([]byte, error) { return json.Marshal(a.String()) }

// UnmarshalJSON reads the string form.
func (a *Actor) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*a = ParseActor(s)
	return nil
}

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

// canonical is the form an event's hash covers: every field but Hash, in
// a fixed order, with the time as integer microseconds so that no
// formatting or database round trip changes it.
type canonical struct {
	Seq      int64           `json:"seq"`
	Time     int64           `json:"timeUs"`
	Actor    string          `json:"actor"`
	Action   string          `json:"action"`
	Target   string          `json:"target"`
	Outcome  Outcome         `json:"outcome"`
	Error    string          `json:"error"`
	Severity Severity        `json:"severity"`
	Request  *Request        `json:"request"`
	Diff     json.RawMessage `json:"diff"`
	PrevHash string          `json:"prevHash"`
}

// ComputeHash returns the hash e should carry: SHA-256, hex, over its
// canonical JSON form, which includes PrevHash.
func ComputeHash(e *Event) (string, error) {
	c := canonical{Seq: e.Seq, Time: e.Time.UnixMicro(), Actor: e.Actor.String(), Action: e.Action,
		Target: e.Target, Outcome: e.Outcome, Error: e.Error, Severity: e.Severity, Request: e.Request,
		Diff: e.Diff, PrevHash: e.PrevHash}
	if len(c.Diff) == 0 {
		c.Diff = json.RawMessage("null")
	}
	b, err := json.Marshal(c)
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

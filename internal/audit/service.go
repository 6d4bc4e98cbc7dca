package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Store is the storage the audit log lives in (*store.Store). The store
// writes entity events itself, inside the transactions that change
// entities; the rest of the log's life goes through this interface.
type Store interface {
	AppendAudit(ctx context.Context, events ...Event) error
	AuditEvents(ctx context.Context, q Query) ([]Event, error)
	EntityVersions(ctx context.Context, ref string, at time.Time) ([]Event, error)
	// AuditBase returns where the entity's recorded history starts, if
	// anywhere but its creation (ok false).
	AuditBase(ctx context.Context, ref string) (b Base, ok bool, err error)
	ReadAuditHead(ctx context.Context) (Head, error)
	WalkAudit(ctx context.Context, after int64, fn func(Event) error) error
	ArchiveAudit(ctx context.Context, before time.Time, batch int, archive func([]Event) error) (int, error)
	LeaseAuditCursor(ctx context.Context, name, owner string, ttl time.Duration) (seq int64, ok bool, err error)
	SetAuditCursor(ctx context.Context, name, owner string, seq int64) error
}

// ErrNoVersion says an entity had no version at the time asked for: it did
// not exist yet, had been deleted, or predates the audit log.
var ErrNoVersion = errors.New("no version of the entity at that time")

// Base is the version of an entity where its recorded history starts:
// the entity as it was when the audit log began, or as the last event
// that retention archived left it.
type Base struct {
	Seq    int64
	Time   time.Time
	Entity json.RawMessage
}

// Baseline is the action of the first version of a history that starts
// at a Base instead of at the entity's creation.
const Baseline = "audit.baseline"

// Version is one version of an entity in its history.
type Version struct {
	Seq     int64     `json:"seq"`
	Time    time.Time `json:"time"`
	Actor   Actor     `json:"actor"`
	Action  string    `json:"action"`
	Request *Request  `json:"request,omitempty"`
	// Diff is the JSON Patch from the previous version to this one.
	Diff json.RawMessage `json:"diff"`
	// Entity is the entity as this event left it; null after a deletion,
	// or when it is unknown (see Gap).
	Entity json.RawMessage `json:"entity"`
	// Gap says the diff does not apply to the version before it: changes
	// were made while the audit log was off, so Entity is unknown until
	// the entity is next created.
	Gap bool `json:"gap,omitempty"`
}

// History returns the versions of the entity with ref key, newest first,
// rebuilt by applying each event's diff to the version before it.
func History(ctx context.Context, st Store, ref string) ([]Version, error) {
	versions, err := versions(ctx, st, ref, time.Time{})
	if err != nil {
		return nil, err
	}
	slices.Reverse(versions)
	return versions, nil
}

// versions replays the entity's history up to at (zero: all), oldest
// first, starting from its base if it has one.
func versions(ctx context.Context, st Store, ref string, at time.Time) ([]Version, error) {
	base, hasBase, err := st.AuditBase(ctx, ref)
	if err != nil {
		return nil, err
	}
	if hasBase && !at.IsZero() && base.Time.After(at) {
		return nil, nil // before the recorded history starts
	}
	events, err := st.EntityVersions(ctx, ref, at)
	if err != nil {
		return nil, err
	}
	var start *Version
	if hasBase {
		start = &Version{Seq: base.Seq, Time: base.Time, Actor: SystemAudit, Action: Baseline, Entity: base.Entity}
		events = slices.DeleteFunc(events, func(e Event) bool { return e.Seq <= base.Seq })
	}
	return replay(start, events), nil
}

// EntityAt returns the entity with ref key as it was at time at, or
// ErrNoVersion.
func EntityAt(ctx context.Context, st Store, ref string, at time.Time) (json.RawMessage, error) {
	vs, err := versions(ctx, st, ref, at)
	if err != nil {
		return nil, err
	}
	if len(vs) == 0 || vs[len(vs)-1].Entity == nil {
		return nil, ErrNoVersion
	}
	return vs[len(vs)-1].Entity, nil
}

// replay applies events' diffs in order, oldest first, to start (nil: no
// document). A creation's diff replaces the whole document, so history
// before a deletion and re-creation does not leak into the new entity,
// and it ends a gap.
func replay(start *Version, events []Event) []Version {
	out := make([]Version, 0, len(events)+1)
	var doc []byte
	known := true
	if start != nil {
		out = append(out, *start)
		doc = start.Entity
	}
	for _, e := range events {
		v := Version{Seq: e.Seq, Time: e.Time, Actor: e.Actor, Action: e.Action, Request: e.Request, Diff: e.Diff}
		if e.Action == EntityDeleted {
			doc, known = nil, true
			out = append(out, v)
			continue
		}
		next, err := Apply(doc, e.Diff)
		switch {
		case err == nil && (known || e.Action == EntityCreated):
			doc, known = next, true
			v.Entity = json.RawMessage(doc)
		default:
			// An update's diff begins by testing the previous etag, so it
			// fails on any other version: something happened in between
			// that the log does not have.
			doc, known = nil, false
			v.Gap = true
		}
		out = append(out, v)
	}
	return out
}

// Break is the first broken link of the chain Verify found.
type Break struct {
	// Seq is the event at which the chain breaks.
	Seq int64
	// Reason says how.
	Reason string
}

func (b *Break) Error() string {
	return fmt.Sprintf("audit chain broken at event %d: %s", b.Seq, b.Reason)
}

// Verified is what a successful Verify checked.
type Verified struct {
	// Events is how many events it checked, From..To their seqs.
	Events   int
	From, To int64
	// Head is the hash of the newest event.
	Head string
}

// Verify walks the chain from its oldest event and returns the first
// broken link as a *Break: an event whose stored hash is not the hash of
// its contents (edited), whose prev hash is not the previous event's hash
// or whose seq skips (deleted, inserted or reordered), or a head that does
// not match the newest event (the newest events deleted). Expect, if not
// empty, maps seqs to hashes already known from checkpoints, which must
// still match.
func Verify(ctx context.Context, st Store, expect map[int64]string) (Verified, error) {
	head, err := st.ReadAuditHead(ctx)
	if err != nil {
		return Verified{}, err
	}
	v := Verified{From: head.ArchivedSeq + 1, To: head.ArchivedSeq}
	prev, want := head.ArchivedHash, head.ArchivedSeq+1
	err = st.WalkAudit(ctx, 0, func(e Event) error {
		switch {
		case e.Seq != want:
			return &Break{Seq: want, Reason: fmt.Sprintf("event %d is missing (the next event stored is %d)", want, e.Seq)}
		case e.PrevHash != prev:
			return &Break{Seq: e.Seq, Reason: "its previous hash does not match the event before it"}
		}
		h, err := ComputeHash(&e)
		if err != nil {
			return err
		}
		if h != e.Hash {
			return &Break{Seq: e.Seq, Reason: "its contents do not match its hash (the event was changed)"}
		}
		if x, ok := expect[e.Seq]; ok && x != e.Hash {
			return &Break{Seq: e.Seq, Reason: "its hash differs from the checkpoint's (the chain was rewritten)"}
		}
		prev, want = e.Hash, e.Seq+1
		v.Events++
		v.To = e.Seq
		return nil
	})
	if err != nil {
		return v, err
	}
	if v.To != head.Seq || prev != head.Hash {
		return v, &Break{Seq: v.To + 1, Reason: fmt.Sprintf("the chain head is event %d but the log ends at event %d (events were deleted)", head.Seq, v.To)}
	}
	for seq := range expect {
		if seq > head.Seq || seq <= head.ArchivedSeq {
			return v, &Break{Seq: seq, Reason: "the checkpoint's event is not in the log"}
		}
	}
	v.Head = prev
	return v, nil
}

package audit

import "time"

// Query selects audit events. Empty fields do not filter; several
// values of one field match any of them.
type Query struct {
	Actors, Actions, Targets []string
	Outcomes                 []Outcome
	// From and To bound the event time: From <= time < To.
	From, To time.Time
	// Before pages backwards: only events with seq < Before (0: newest).
	Before int64
	// After pages forwards: only events with seq > After, oldest first.
	After int64
	// Limit is the page size.
	Limit int
}

// Head is the state of the chain.
type Head struct {
	// Seq and Hash are the newest event's.
	Seq  int64
	Hash string
	// ArchivedSeq and ArchivedHash are those of the newest event that
	// retention archived and deleted: the oldest event left chains to it.
	ArchivedSeq  int64
	ArchivedHash string
}

// Package audit owns Atrium's audit log: the event every mutation records
// (who, what, to which target, with what outcome and diff), the hash chain
// that makes the log tamper-evident, the actor and request a mutation
// carries in its context, and the queries, exports and checks over the
// log.
//
// The event model, hashing and JSON Patch here are pure; the store writes
// events inside the transactions that make the changes they describe, so a
// change and its event commit together or not at all.
package audit

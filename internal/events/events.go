// Package events owns Atrium's change notifications: small events that
// one part of Atrium publishes on a topic and any number of subscribers,
// in this process or in any other replica sharing the database, receive.
// Live UI updates, cache invalidation and task wake-ups build on it.
//
// Two Bus implementations share one behaviour: Local fans events out in
// process (one Atrium on SQLite), and PostgresBus carries them between
// replicas with PostgreSQL's LISTEN/NOTIFY.
//
// # Delivery
//
// Delivery is at most once: normally every subscriber receives every
// event on its topics exactly once, but none is stored or retried, so a
// failure can lose events. A subscriber that falls behind never slows a
// publisher or another subscriber: each Subscription buffers a bounded
// number of events, and when its buffer is full further events for it are
// dropped and counted (Subscription.Dropped). Whenever events may have been
// lost, the subscriber receives an Event with Lost set at the point of the
// gap: after a buffer overflow, and on PostgreSQL after the listening
// connection was lost and re-established. A subscriber that keeps derived
// state, such as a cache, must treat Lost as "anything may have changed"
// and rebuild that state from the database. Events are hints that
// something changed, never the only record of the change.
//
// All subscribers of one bus see events in the same order. On PostgreSQL
// that is the order in which the publishing transactions committed, the
// same on every replica.
package events

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// MaxEncodedSize is the largest encoded event, in bytes, that a bus
// accepts: PostgreSQL refuses a NOTIFY payload of 8000 bytes or more. The
// encoded event is a JSON object holding the topic, the origin and the
// payload, so the room left for the payload is MaxEncodedSize less about
// 40 bytes and the lengths of the topic and the origin. Local enforces the
// same limit so that code tested on SQLite also works on PostgreSQL.
const MaxEncodedSize = 7999

// The errors a bus returns. Test with errors.Is.
var (
	// ErrTooLarge is returned by Publish for an event whose encoding is
	// larger than MaxEncodedSize. Publish the key of what changed, and let
	// subscribers read the rest from the database.
	ErrTooLarge = errors.New("event too large")
	// ErrInvalid is returned by Publish for an event without a topic, with
	// a payload that is not JSON, or with Lost set.
	ErrInvalid = errors.New("invalid event")
	// ErrClosed is returned by Publish after the bus was closed.
	ErrClosed = errors.New("event bus closed")
)

// Topic names a kind of event, such as "catalog.entities". Publishers and
// subscribers agree on topics by declaring them as constants.
type Topic string

// Event is one change notification.
type Event struct {
	// Topic says what kind of change this is. Every published event has
	// one; an event with Lost set has none.
	Topic Topic
	// Payload is a JSON value describing the change, or empty. It arrives
	// compacted (whitespace between tokens removed). Subscribers share it
	// and must not modify it.
	Payload json.RawMessage
	// Origin is the id of the bus (the replica) that published the event.
	// Publish sets it; a value set by the caller is replaced. Compare it
	// with the bus's Origin to recognise one's own events.
	Origin string
	// Lost reports a gap: events may have been lost just before this one.
	// Such an event carries nothing else. A subscriber that keeps state
	// derived from events must rebuild it from the source. Publishers never
	// set it.
	Lost bool
}

// Bus publishes events and delivers them to subscribers. Local and
// PostgresBus implement it; both are safe for concurrent use.
type Bus interface {
	// Publish sends e to every current subscriber of e.Topic, on every
	// replica. It does not wait for subscribers and never blocks on a slow
	// one. It fails with ErrInvalid, ErrTooLarge or ErrClosed, or when the
	// event could not be handed to the database.
	Publish(ctx context.Context, e Event) error
	// Subscribe returns a subscription to events on the given topics, or
	// on every topic when none is given. Close it when done.
	Subscribe(topics ...Topic) *Subscription
	// Origin is this bus's id, which it sets on the events it publishes.
	Origin() string
	// Close stops the bus: later publishes fail with ErrClosed and every
	// subscription's channel is closed once its buffered events are read.
	Close() error
}

// DefaultBuffer is the number of events a subscription buffers unless
// WithBuffer says otherwise.
const DefaultBuffer = 256

// DefaultChannel is the PostgreSQL notification channel PostgresBus uses
// unless WithChannel says otherwise.
const DefaultChannel = "atrium_events"

// Option configures a bus.
type Option func(*options)

// options is what the Options set.
type options struct {
	buffer  int
	origin  string
	channel string
	tls     *tls.Config
	// pingEvery, pingTimeout and onPing tune and observe the PostgreSQL
	// listener's health check; only tests change them.
	pingEvery   time.Duration
	pingTimeout time.Duration
	onPing      func()
}

// WithBuffer sets how many events each subscription buffers before it
// drops events and signals a gap (DefaultBuffer; at least 1); a Lost
// marker waiting to be read takes one of the places. Size it for the
// bursts a subscriber must absorb while it is busy.
func WithBuffer(n int) Option {
	return func(o *options) { o.buffer = max(n, 1) }
}

// WithOrigin sets the id the bus stamps on the events it publishes,
// such as the replica's host name. By default it is random, and so
// different for every bus.
func WithOrigin(id string) Option {
	return func(o *options) {
		if id != "" {
			o.origin = id
		}
	}
}

// newOptions applies opts over the defaults.
func newOptions(opts []Option) options {
	o := options{
		buffer:      DefaultBuffer,
		channel:     DefaultChannel,
		pingEvery:   defaultPingEvery,
		pingTimeout: defaultPingTimeout,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.origin == "" {
		var b [6]byte
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
		o.origin = hex.EncodeToString(b[:])
	}
	return o
}

// envelope is an event as it travels through PostgreSQL, and as an
// operator sees it with LISTEN in psql.
type envelope struct {
	Topic   Topic           `json:"topic"`
	Origin  string          `json:"origin"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// encode checks e and returns its encoding with origin as the origin.
func encode(e Event, origin string) ([]byte, error) {
	if e.Topic == "" {
		return nil, fmt.Errorf("events: publish: %w: no topic", ErrInvalid)
	}
	if e.Lost {
		return nil, fmt.Errorf("events: publish %q: %w: Lost is set", e.Topic, ErrInvalid)
	}
	if len(e.Payload) > 0 && !json.Valid(e.Payload) {
		return nil, fmt.Errorf("events: publish %q: %w: payload is not JSON", e.Topic, ErrInvalid)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// Escaping <, > and & would only make the payload larger.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(envelope{Topic: e.Topic, Origin: origin, Payload: e.Payload}); err != nil {
		return nil, fmt.Errorf("events: publish %q: %w", e.Topic, err)
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if len(b) > MaxEncodedSize {
		return nil, fmt.Errorf("events: publish %q: %w: %d bytes encoded, at most %d allowed",
			e.Topic, ErrTooLarge, len(b), MaxEncodedSize)
	}
	return b, nil
}

// decode parses an encoded event.
func decode(b []byte) (Event, error) {
	var env envelope
	if err := json.Unmarshal(b, &env); err != nil {
		return Event{}, err
	}
	if env.Topic == "" {
		return Event{}, errors.New("no topic")
	}
	return Event{Topic: env.Topic, Payload: env.Payload, Origin: env.Origin}, nil
}

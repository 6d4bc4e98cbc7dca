package events

import (
	"context"
	"fmt"
)

// Local is a Bus within one process, for Atrium on SQLite where there is
// only one. Publish delivers to the subscribers' buffers before it
// returns. Events are checked and encoded as PostgresBus would, so an
// event Local accepts is also accepted on PostgreSQL.
type Local struct {
	hub    *hub
	origin string
}

var _ Bus = (*Local)(nil)

// NewLocal returns an in-process bus. It takes WithBuffer and WithOrigin;
// the PostgreSQL options are ignored.
func NewLocal(opts ...Option) *Local {
	o := newOptions(opts)
	return &Local{hub: newHub(o.buffer), origin: o.origin}
}

// Publish delivers e to the subscribers of e.Topic.
func (l *Local) Publish(ctx context.Context, e Event) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("events: publish %q: %w", e.Topic, err)
	}
	b, err := encode(e, l.origin)
	if err != nil {
		return err
	}
	// Deliver what PostgreSQL would: the payload compacted and copied, so
	// the caller may reuse its buffer.
	d, err := decode(b)
	if err != nil {
		return fmt.Errorf("events: publish %q: %w", e.Topic, err)
	}
	if !l.hub.deliver(d) {
		return fmt.Errorf("events: publish %q: %w", e.Topic, ErrClosed)
	}
	return nil
}

// Subscribe returns a subscription to topics, or to every topic if none.
func (l *Local) Subscribe(topics ...Topic) *Subscription { return l.hub.subscribe(topics) }

// Origin returns the id stamped on the events this bus publishes.
func (l *Local) Origin() string { return l.origin }

// Dropped returns how many events all subscriptions, past and present,
// dropped because their buffers were full. It suits a metric.
func (l *Local) Dropped() uint64 { return l.hub.totalDropped() }

// Close closes every subscription; later publishes fail with ErrClosed.
// It always returns nil.
func (l *Local) Close() error {
	l.hub.close()
	return nil
}

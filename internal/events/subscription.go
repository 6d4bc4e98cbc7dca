package events

import "sync"

// Subscription receives the events of some topics from a bus. Read them
// from Events. Its methods are safe for concurrent use.
type Subscription struct {
	hub    *hub
	ch     chan Event
	topics map[Topic]bool // nil: every topic
	size   int            // events buffered before dropping

	// Guarded by hub.mu.
	closed    bool
	gapAtTail bool // the last event sent on ch was a Lost marker
	dropped   uint64
}

// Events returns the channel that delivers the subscription's events in
// order, with an Event that has Lost set wherever events were lost. It is
// closed after Close, or after the bus is closed.
func (s *Subscription) Events() <-chan Event { return s.ch }

// Dropped returns how many events this subscription dropped because its
// buffer was full.
func (s *Subscription) Dropped() uint64 {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	return s.dropped
}

// Close ends the subscription: no more events are sent and the channel
// is closed; events already buffered can still be read. Close may be
// called more than once.
func (s *Subscription) Close() {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	delete(s.hub.subs, s)
	s.closeLocked()
}

// closeLocked closes ch once.
func (s *Subscription) closeLocked() {
	if !s.closed {
		s.closed = true
		close(s.ch)
	}
}

// offerLocked hands e to the subscriber without blocking, or drops it. ch
// has room for size events and one Lost marker; only holders of hub.mu
// send on it, so a length checked here can only shrink before the send.
func (s *Subscription) offerLocked(e Event) {
	if s.closed {
		return
	}
	if !e.Lost && s.topics != nil && !s.topics[e.Topic] {
		return
	}
	if !e.Lost && len(s.ch) < s.size {
		s.ch <- e
		s.gapAtTail = false
		return
	}
	if !e.Lost {
		s.dropped++
		s.hub.dropped++
	}
	// A marker still waiting at the tail of ch already covers this gap: no
	// event was sent after it. If it was read, ch is empty and there is
	// room for a new one; otherwise len(ch) <= size here, because the
	// buffer only fills past size with a marker.
	if s.gapAtTail && len(s.ch) > 0 {
		return
	}
	s.ch <- Event{Lost: true}
	s.gapAtTail = true
}

// hub is the fan-out both buses share: the set of subscriptions and the
// lock that orders deliveries, so that every subscriber sees events in the
// same order.
type hub struct {
	buffer int

	mu      sync.Mutex
	subs    map[*Subscription]struct{}
	closed  bool
	dropped uint64 // by all subscriptions, closed ones included
}

// newHub returns a hub whose subscriptions buffer buffer events.
func newHub(buffer int) *hub {
	return &hub{buffer: buffer, subs: map[*Subscription]struct{}{}}
}

// subscribe adds a subscription to topics, or to all topics if none.
func (h *hub) subscribe(topics []Topic) *Subscription {
	s := &Subscription{hub: h, ch: make(chan Event, h.buffer+1), size: h.buffer}
	if len(topics) > 0 {
		s.topics = make(map[Topic]bool, len(topics))
		for _, t := range topics {
			s.topics[t] = true
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		s.closeLocked()
		return s
	}
	h.subs[s] = struct{}{}
	return s
}

// deliver offers e to every subscription. It reports false, and does
// nothing, if the hub is closed.
func (h *hub) deliver(e Event) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	for s := range h.subs {
		s.offerLocked(e)
	}
	return true
}

// gap tells every subscription that events may have been lost.
func (h *hub) gap() { h.deliver(Event{Lost: true}) }

// totalDropped returns how many events all subscriptions dropped.
func (h *hub) totalDropped() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.dropped
}

// close closes every subscription and refuses new ones.
func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for s := range h.subs {
		s.closeLocked()
	}
	clear(h.subs)
}

// isClosed reports whether close was called.
func (h *hub) isClosed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closed
}

package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// ev returns an event on topic with payload, as delivered from origin.
func ev(topic Topic, payload, origin string) Event {
	e := Event{Topic: topic, Origin: origin}
	if payload != "" {
		e.Payload = json.RawMessage(payload)
	}
	return e
}

// lost is the gap marker.
var lost = Event{Lost: true}

// buffered returns the events buffered in sub without waiting, which for
// Local is everything published so far.
func buffered(sub *Subscription) []Event {
	var got []Event
	for {
		select {
		case e, ok := <-sub.Events():
			if !ok {
				return got
			}
			got = append(got, e)
		default:
			return got
		}
	}
}

// mustPublish publishes e on bus or fails the test.
func mustPublish(t *testing.T, bus Bus, e Event) {
	t.Helper()
	if err := bus.Publish(t.Context(), e); err != nil {
		t.Fatalf("Publish(%+v): %v", e, err)
	}
}

func TestLocalFanOut(t *testing.T) {
	t.Parallel()
	bus := NewLocal(WithOrigin("one"))
	defer bus.Close()
	subs := map[string]*Subscription{
		"x":   bus.Subscribe("x"),
		"x2":  bus.Subscribe("x"),
		"y":   bus.Subscribe("y"),
		"x,y": bus.Subscribe("x", "y"),
		"all": bus.Subscribe(),
		"nil": bus.Subscribe([]Topic{}...),
	}
	mustPublish(t, bus, Event{Topic: "x", Payload: json.RawMessage(`{"n": 1}`)})
	mustPublish(t, bus, Event{Topic: "y", Payload: json.RawMessage(`2`), Origin: "ignored"})
	mustPublish(t, bus, Event{Topic: "z"})

	x, y, z := ev("x", `{"n":1}`, "one"), ev("y", `2`, "one"), ev("z", "", "one")
	tests := []struct {
		sub  string
		want []Event
	}{
		{"x", []Event{x}},
		{"x2", []Event{x}},
		{"y", []Event{y}},
		{"x,y", []Event{x, y}},
		{"all", []Event{x, y, z}},
		{"nil", []Event{x, y, z}},
	}
	for _, tt := range tests {
		t.Run(tt.sub, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, buffered(subs[tt.sub])); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLocalUnsubscribe(t *testing.T) {
	t.Parallel()
	bus := NewLocal(WithOrigin("one"))
	defer bus.Close()
	a, b := bus.Subscribe("x"), bus.Subscribe("x")
	mustPublish(t, bus, Event{Topic: "x", Payload: json.RawMessage(`1`)})
	a.Close()
	a.Close() // twice is fine
	mustPublish(t, bus, Event{Topic: "x", Payload: json.RawMessage(`2`)})

	// a keeps what it had buffered, then its channel is closed.
	if diff := cmp.Diff([]Event{ev("x", "1", "one")}, buffered(a)); diff != "" {
		t.Errorf("closed subscription (-want +got):\n%s", diff)
	}
	if _, ok := <-a.Events(); ok {
		t.Error("channel of a closed subscription is still open")
	}
	if diff := cmp.Diff([]Event{ev("x", "1", "one"), ev("x", "2", "one")}, buffered(b)); diff != "" {
		t.Errorf("other subscription (-want +got):\n%s", diff)
	}
}

func TestLocalOverflow(t *testing.T) {
	t.Parallel()
	// Steps: "p" publishes the next event (1, 2, ...), "r" reads one event.
	tests := []struct {
		name        string
		buffer      int
		steps       string
		wantRead    []int // event numbers read by the "r" steps, 0 for Lost
		wantPending []int // events still buffered at the end
		wantDropped uint64
	}{
		{
			name:        "fits",
			buffer:      3,
			steps:       "ppp",
			wantPending: []int{1, 2, 3},
		},
		{
			name:        "overflow drops the newest and marks the gap once",
			buffer:      2,
			steps:       "ppppp",
			wantPending: []int{1, 2, 0},
			wantDropped: 3,
		},
		{
			name:        "room again after reading",
			buffer:      2,
			steps:       "ppppprrrp",
			wantRead:    []int{1, 2, 0},
			wantPending: []int{6},
			wantDropped: 3,
		},
		{
			name:        "an unread marker covers later drops",
			buffer:      2,
			steps:       "ppprprrp",
			wantRead:    []int{1, 2, 0},
			wantPending: []int{5},
			wantDropped: 2,
		},
		{
			name:        "a read marker is followed by a new one at the next gap",
			buffer:      1,
			steps:       "pprrpp",
			wantRead:    []int{1, 0},
			wantPending: []int{3, 0},
			wantDropped: 2,
		},
		{
			name:        "one marker per gap",
			buffer:      2,
			steps:       "ppprrpp",
			wantRead:    []int{1, 2},
			wantPending: []int{0, 4, 0},
			wantDropped: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bus := NewLocal(WithBuffer(tt.buffer), WithOrigin("one"))
			defer bus.Close()
			sub := bus.Subscribe("x")
			num := func(e Event) int {
				if e.Lost {
					if diff := cmp.Diff(lost, e); diff != "" {
						t.Errorf("marker (-want +got):\n%s", diff)
					}
					return 0
				}
				var n int
				if err := json.Unmarshal(e.Payload, &n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			var read []int
			next := 1
			for _, step := range tt.steps {
				switch step {
				case 'p':
					mustPublish(t, bus, Event{Topic: "x", Payload: json.RawMessage(fmt.Sprint(next))})
					next++
				case 'r':
					select {
					case e := <-sub.Events():
						read = append(read, num(e))
					default:
						t.Fatalf("nothing to read at step %d", len(read))
					}
				}
			}
			var pending []int
			for _, e := range buffered(sub) {
				pending = append(pending, num(e))
			}
			if diff := cmp.Diff(tt.wantRead, read); diff != "" {
				t.Errorf("read (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantPending, pending); diff != "" {
				t.Errorf("pending (-want +got):\n%s", diff)
			}
			if got := sub.Dropped(); got != tt.wantDropped {
				t.Errorf("Dropped() = %d, want %d", got, tt.wantDropped)
			}
			if got := bus.Dropped(); got != tt.wantDropped {
				t.Errorf("bus Dropped() = %d, want %d", got, tt.wantDropped)
			}
		})
	}
}

// A subscriber that never reads costs the others nothing.
func TestLocalSlowSubscriber(t *testing.T) {
	t.Parallel()
	const n = 1000
	bus := NewLocal(WithBuffer(n))
	defer bus.Close()
	slow := bus.Subscribe()
	fast := bus.Subscribe()
	// Fill slow's buffer; from now on it drops everything.
	for range n {
		mustPublish(t, bus, Event{Topic: "fill"})
	}
	buffered(fast)
	for i := range n {
		mustPublish(t, bus, Event{Topic: "x", Payload: json.RawMessage(fmt.Sprint(i))})
	}
	if got := len(buffered(fast)); got != n {
		t.Errorf("fast subscriber got %d events, want %d", got, n)
	}
	if got, want := slow.Dropped(), uint64(n); got != want {
		t.Errorf("slow subscriber dropped %d, want %d", got, want)
	}
}

func TestLocalConcurrent(t *testing.T) {
	t.Parallel()
	const publishers, each = 8, 300
	// Buffers small enough that readers racing the publishers drop some.
	bus := NewLocal(WithBuffer(16))

	type payload struct{ P, N int }
	type tally struct {
		received, lost int
		dropped        uint64
	}
	// read consumes sub until the bus closes it, checking that each
	// publisher's events arrive in order.
	read := func(sub *Subscription, out *tally, done chan<- struct{}) {
		defer close(done)
		last := make([]int, publishers)
		for i := range last {
			last[i] = -1
		}
		for e := range sub.Events() {
			if e.Lost {
				out.lost++
				continue
			}
			var p payload
			if err := json.Unmarshal(e.Payload, &p); err != nil {
				t.Errorf("event %+v: %v", e, err)
				return
			}
			if p.N <= last[p.P] {
				t.Errorf("publisher %d: event %d after %d", p.P, p.N, last[p.P])
			}
			last[p.P] = p.N
			out.received++
		}
		out.dropped = sub.Dropped()
	}
	tallies := make([]tally, 3)
	var readers []chan struct{}
	for i := range tallies {
		done := make(chan struct{})
		readers = append(readers, done)
		go read(bus.Subscribe("x"), &tallies[i], done)
	}

	var transientDropped atomic.Uint64
	var wg sync.WaitGroup
	for p := range publishers {
		wg.Go(func() {
			for n := range each {
				b, _ := json.Marshal(payload{p, n})
				if err := bus.Publish(context.Background(), Event{Topic: "x", Payload: b}); err != nil {
					t.Error(err)
					return
				}
				// Subscriptions come and go while events flow.
				if n%50 == 0 {
					s := bus.Subscribe("x")
					buffered(s)
					s.Close()
					transientDropped.Add(s.Dropped())
				}
			}
		})
	}
	wg.Wait()
	bus.Close()
	for _, done := range readers {
		<-done
	}
	dropped := transientDropped.Load()
	for i, got := range tallies {
		if n := uint64(got.received) + got.dropped; n != publishers*each {
			t.Errorf("reader %d: received %d + dropped %d = %d, want %d", i, got.received, got.dropped, n, publishers*each)
		}
		if (got.dropped > 0) != (got.lost > 0) {
			t.Errorf("reader %d: dropped %d events and saw %d Lost markers", i, got.dropped, got.lost)
		}
		dropped += got.dropped
	}
	if got := bus.Dropped(); got != dropped {
		t.Errorf("bus Dropped() = %d, want the sum over subscriptions %d", got, dropped)
	}
}

func TestLocalClose(t *testing.T) {
	t.Parallel()
	bus := NewLocal()
	before := bus.Subscribe("x")
	mustPublish(t, bus, Event{Topic: "x"})
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
	if err := bus.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := bus.Publish(t.Context(), Event{Topic: "x"}); !errors.Is(err, ErrClosed) {
		t.Errorf("Publish after Close: got %v, want ErrClosed", err)
	}
	if got := len(buffered(before)); got != 1 {
		t.Errorf("subscription open before Close: %d events buffered, want 1", got)
	}
	if _, ok := <-before.Events(); ok {
		t.Error("subscription open before Close: channel not closed")
	}
	after := bus.Subscribe("x")
	if _, ok := <-after.Events(); ok {
		t.Error("subscription made after Close: channel not closed")
	}
	after.Close()
}

func TestLocalPayloadIsCopied(t *testing.T) {
	t.Parallel()
	bus := NewLocal(WithOrigin("one"))
	defer bus.Close()
	sub := bus.Subscribe()
	p := []byte(`{"a": "<b&c>"}`)
	mustPublish(t, bus, Event{Topic: "x", Payload: p})
	copy(p, `{"a": "zzzzz"}`)
	// Compacted, not HTML-escaped, and not the publisher's buffer.
	if diff := cmp.Diff([]Event{ev("x", `{"a":"<b&c>"}`, "one")}, buffered(sub)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// payloadOfSize returns a payload (a JSON string) that makes the encoding
// of an event on topic from origin exactly size bytes long.
func payloadOfSize(t *testing.T, topic Topic, origin string, size int) json.RawMessage {
	t.Helper()
	b, err := encode(Event{Topic: topic, Payload: json.RawMessage(`""`)}, origin)
	if err != nil {
		t.Fatal(err)
	}
	return json.RawMessage(`"` + strings.Repeat("a", size-len(b)) + `"`)
}

func TestPublishErrors(t *testing.T) {
	t.Parallel()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name    string
		ctx     context.Context
		e       Event
		wantErr error
	}{
		{"largest", context.Background(), Event{Topic: "x", Payload: payloadOfSize(t, "x", "one", MaxEncodedSize)}, nil},
		{"too large", context.Background(), Event{Topic: "x", Payload: payloadOfSize(t, "x", "one", MaxEncodedSize+1)}, ErrTooLarge},
		{"no topic", context.Background(), Event{Payload: json.RawMessage(`1`)}, ErrInvalid},
		{"Lost set", context.Background(), Event{Topic: "x", Lost: true}, ErrInvalid},
		{"payload not JSON", context.Background(), Event{Topic: "x", Payload: json.RawMessage(`{`)}, ErrInvalid},
		{"cancelled", cancelled, Event{Topic: "x"}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bus := NewLocal(WithOrigin("one"))
			defer bus.Close()
			sub := bus.Subscribe()
			err := bus.Publish(tt.ctx, tt.e)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("Publish: got %v, want %v", err, tt.wantErr)
			}
			wantN := 0
			if tt.wantErr == nil {
				wantN = 1
			}
			if got := len(buffered(sub)); got != wantN {
				t.Errorf("%d events delivered, want %d", got, wantN)
			}
		})
	}
}

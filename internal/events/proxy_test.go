package events

import (
	"errors"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// proxy is a TCP proxy in front of the test server that can break the
// network the ways real networks break: refuse connections (the server
// is down) or silently stop carrying bytes (a half-open connection).
type proxy struct {
	t        *testing.T
	ln       net.Listener
	upstream string
	// refused receives the time of every refused connection, if there is
	// room.
	refused chan time.Time

	mu    sync.Mutex
	down  bool
	pairs []*pair
}

// pair is one proxied connection.
type pair struct {
	client, server net.Conn
	frozen         atomic.Bool // drop bytes instead of forwarding them
}

// newProxy starts a proxy to the test server and returns it with a URL
// that connects through it.
func newProxy(t *testing.T) (*proxy, string) {
	t.Helper()
	u, err := url.Parse(postgresURL(t))
	if err != nil || u.Host == "" {
		t.Skipf("the proxy needs a postgres:// URL: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{t: t, ln: ln, upstream: u.Host, refused: make(chan time.Time, 64)}
	done := make(chan struct{})
	go p.serve(done)
	t.Cleanup(func() {
		ln.Close()
		<-done
		p.cut()
	})
	u.Host = ln.Addr().String()
	return p, u.String()
}

// serve accepts connections until the listener is closed.
func (p *proxy) serve(done chan<- struct{}) {
	defer close(done)
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down := p.down
		p.mu.Unlock()
		if down {
			c.Close()
			select {
			case p.refused <- time.Now():
			default:
			}
			continue
		}
		s, err := net.Dial("tcp", p.upstream)
		if err != nil {
			p.t.Errorf("proxy: %v", err)
			c.Close()
			continue
		}
		pr := &pair{client: c, server: s}
		p.mu.Lock()
		p.pairs = append(p.pairs, pr)
		p.mu.Unlock()
		go pr.copy(s, c)
		go pr.copy(c, s)
	}
}

// copy forwards from src to dst until either is closed.
func (pr *pair) copy(dst, src net.Conn) {
	defer pr.client.Close()
	defer pr.server.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !pr.frozen.Load() {
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// setDown makes the proxy refuse new connections, or accept them again.
func (p *proxy) setDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
}

// cut closes every connection made so far.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pr := range p.pairs {
		pr.client.Close()
		pr.server.Close()
	}
	p.pairs = nil
}

// freeze stops carrying bytes on every connection made so far, without
// closing any: neither end notices anything but silence.
func (p *proxy) freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pr := range p.pairs {
		pr.frozen.Store(true)
	}
}

// While the server is unreachable the listener retries with backoff, and
// once it is back, subscribers get a gap and then new events.
func TestPostgresServerDown(t *testing.T) {
	t.Parallel()
	p, viaProxy := newProxy(t)
	ch := testChannel(t)
	a := newPostgres(t, ch, "a")
	b := newPostgresAt(t, viaProxy, ch, "b")
	sub := b.Subscribe()

	p.setDown(true)
	p.cut()
	// The first attempt is immediate; wait for one after a backoff.
	var first time.Time
	for backedOff := false; !backedOff; {
		select {
		case at := <-p.refused:
			if first.IsZero() {
				first = at
			}
			backedOff = at.Sub(first) >= minBackoff/2
		case <-time.After(waitLimit):
			t.Fatal("no reconnection attempt after a backoff")
		}
	}
	// Published while b cannot hear it: lost, and the gap says so.
	mustPublish(t, a, Event{Topic: "missed"})
	if err := b.Publish(t.Context(), Event{Topic: "x"}); err == nil || errors.Is(err, ErrClosed) {
		t.Errorf("Publish while the server is unreachable: got %v, want a connection error", err)
	}
	p.setDown(false)

	if diff := cmp.Diff(lost, next(t, sub)); diff != "" {
		t.Fatalf("after the outage (-want +got):\n%s", diff)
	}
	mustPublish(t, a, Event{Topic: "after"})
	mustPublish(t, b, Event{Topic: "after"})
	end := ev("after", "", "b")
	if diff := cmp.Diff([]Event{ev("after", "", "a"), end}, until(t, sub, end)); diff != "" {
		t.Errorf("after the outage (-want +got):\n%s", diff)
	}
}

// A connection that goes silent without closing is found out by the
// health check and replaced.
func TestPostgresHalfOpen(t *testing.T) {
	t.Parallel()
	p, viaProxy := newProxy(t)
	ch := testChannel(t)
	a := newPostgres(t, ch, "a")
	b := newPostgresAt(t, viaProxy, ch, "b", func(o *options) {
		o.pingEvery = 20 * time.Millisecond
		o.pingTimeout = 500 * time.Millisecond
	})
	sub := b.Subscribe()

	p.freeze()
	if diff := cmp.Diff(lost, next(t, sub)); diff != "" {
		t.Fatalf("after the connection went silent (-want +got):\n%s", diff)
	}
	mustPublish(t, a, Event{Topic: "after"})
	end := ev("after", "", "a")
	got := until(t, sub, end)
	// A slow machine may miss a ping deadline once more; that is only
	// another gap.
	for len(got) > 1 && got[0].Lost {
		got = got[1:]
	}
	if diff := cmp.Diff([]Event{end}, got); diff != "" {
		t.Errorf("after reconnecting (-want +got):\n%s", diff)
	}
}

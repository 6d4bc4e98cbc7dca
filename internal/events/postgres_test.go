package events

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/atrium-dev/atrium/internal/store/storetest"
)

// waitLimit bounds every wait for an event; reaching it fails the test.
const waitLimit = 15 * time.Second

// postgresURL returns the test server's URL, or skips the test.
func postgresURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv(storetest.PostgresEnv)
	if u == "" {
		t.Skipf("%s is not set", storetest.PostgresEnv)
	}
	return u
}

// testChannel returns a notification channel no other test uses.
func testChannel(t *testing.T) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "atrium_test_" + hex.EncodeToString(b[:])
}

// newPostgres returns a bus on the test server, closed when the test ends.
func newPostgres(t *testing.T, channel, origin string, opts ...Option) *PostgresBus {
	t.Helper()
	return newPostgresAt(t, postgresURL(t), channel, origin, opts...)
}

// newPostgresAt returns a bus on the server at url, closed when the test
// ends.
func newPostgresAt(t *testing.T, url, channel, origin string, opts ...Option) *PostgresBus {
	t.Helper()
	opts = append([]Option{WithChannel(channel), WithOrigin(origin)}, opts...)
	log := slog.New(slog.NewTextHandler(t.Output(), nil))
	bus, err := NewPostgres(t.Context(), url, log, opts...)
	if err != nil {
		t.Fatalf("NewPostgres: %v", err)
	}
	t.Cleanup(func() { bus.Close() })
	return bus
}

// next waits for sub's next event.
func next(t *testing.T, sub *Subscription) Event {
	t.Helper()
	select {
	case e, ok := <-sub.Events():
		if !ok {
			t.Fatal("subscription closed")
		}
		return e
	case <-time.After(waitLimit):
		t.Fatalf("no event within %v", waitLimit)
		return Event{}
	}
}

// until collects sub's events up to and including the first one that is
// want.
func until(t *testing.T, sub *Subscription, want Event) []Event {
	t.Helper()
	var got []Event
	for {
		e := next(t, sub)
		got = append(got, e)
		if cmp.Equal(e, want) {
			return got
		}
	}
}

func TestPostgresReplicas(t *testing.T) {
	t.Parallel()
	ch := testChannel(t)
	a, b := newPostgres(t, ch, "a"), newPostgres(t, ch, "b")
	subA, subB := a.Subscribe(), b.Subscribe()
	onlyY := b.Subscribe("y")

	mustPublish(t, a, Event{Topic: "x", Payload: json.RawMessage(`{"from": "a"}`)})
	mustPublish(t, b, Event{Topic: "y", Payload: json.RawMessage(`{"from":"b"}`)})
	mustPublish(t, a, Event{Topic: "x", Payload: json.RawMessage(`[1, 2]`)})
	// Events of one channel arrive in commit order, so once the last event
	// is in, any duplicate of an earlier one would have been too.
	end := ev("end", "", "b")
	mustPublish(t, b, Event{Topic: "end"})

	want := []Event{
		ev("x", `{"from":"a"}`, "a"),
		ev("y", `{"from":"b"}`, "b"),
		ev("x", `[1,2]`, "a"),
		end,
	}
	for name, sub := range map[string]*Subscription{"a": subA, "b": subB} {
		if diff := cmp.Diff(want, until(t, sub, end)); diff != "" {
			t.Errorf("replica %s (-want +got):\n%s", name, diff)
		}
	}
	// onlyY gets nothing after the one y event, so end cannot mark the
	// end; publish a y on a to do it.
	mustPublish(t, a, Event{Topic: "y"})
	endY := ev("y", "", "a")
	if diff := cmp.Diff([]Event{ev("y", `{"from":"b"}`, "b"), endY}, until(t, onlyY, endY)); diff != "" {
		t.Errorf("subscriber of y (-want +got):\n%s", diff)
	}
}

func TestPostgresSizeLimit(t *testing.T) {
	t.Parallel()
	ch := testChannel(t)
	a, b := newPostgres(t, ch, "a"), newPostgres(t, ch, "b")
	sub := b.Subscribe()

	largest := Event{Topic: "x", Payload: payloadOfSize(t, "x", "a", MaxEncodedSize)}
	if err := a.Publish(t.Context(), largest); err != nil {
		t.Fatalf("Publish of the largest event: %v", err)
	}
	tooLarge := Event{Topic: "x", Payload: payloadOfSize(t, "x", "a", MaxEncodedSize+1)}
	if err := a.Publish(t.Context(), tooLarge); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Publish of a too large event: got %v, want ErrTooLarge", err)
	}
	mustPublish(t, a, Event{Topic: "end"})
	end := ev("end", "", "a")
	largest.Origin = "a"
	if diff := cmp.Diff([]Event{largest, end}, until(t, sub, end)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// The server's own limit agrees with MaxEncodedSize, and it refuses more
// with the error code Publish maps to ErrTooLarge.
func TestPostgresServerLimit(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, postgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	ch := testChannel(t)
	if _, err := conn.Exec(ctx, `SELECT pg_notify($1, $2)`, ch, strings.Repeat("a", MaxEncodedSize)); err != nil {
		t.Errorf("server refused %d bytes: %v", MaxEncodedSize, err)
	}
	_, err = conn.Exec(ctx, `SELECT pg_notify($1, $2)`, ch, strings.Repeat("a", MaxEncodedSize+1))
	if pgErr := (*pgconn.PgError)(nil); !errors.As(err, &pgErr) || pgErr.Code != payloadTooLong {
		t.Errorf("server on %d bytes: got %v, want error code %s", MaxEncodedSize+1, err, payloadTooLong)
	}
}

func TestPostgresReconnect(t *testing.T) {
	t.Parallel()
	ch := testChannel(t)
	a, b := newPostgres(t, ch, "a"), newPostgres(t, ch, "b")
	sub := a.Subscribe()

	mustPublish(t, b, Event{Topic: "before"})
	if diff := cmp.Diff(ev("before", "", "b"), next(t, sub)); diff != "" {
		t.Fatalf("before the cut (-want +got):\n%s", diff)
	}

	pid := a.listenerPID()
	admin, err := pgx.Connect(t.Context(), postgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	var killed bool
	if err := admin.QueryRow(t.Context(), `SELECT pg_terminate_backend($1)`, int32(pid)).Scan(&killed); err != nil || !killed {
		t.Fatalf("pg_terminate_backend(%d) = %v, %v", pid, killed, err)
	}

	// The marker comes once a listens again, so events after it arrive.
	if diff := cmp.Diff(lost, next(t, sub)); diff != "" {
		t.Fatalf("after the cut (-want +got):\n%s", diff)
	}
	if got := a.listenerPID(); got == pid {
		t.Errorf("listener still on backend %d", pid)
	}
	mustPublish(t, b, Event{Topic: "after", Payload: json.RawMessage(`1`)})
	mustPublish(t, a, Event{Topic: "after", Payload: json.RawMessage(`2`)})
	end := ev("after", "2", "a")
	if diff := cmp.Diff([]Event{ev("after", "1", "b"), end}, until(t, sub, end)); diff != "" {
		t.Errorf("after reconnecting (-want +got):\n%s", diff)
	}
}

// The listener's health check while idle leaves the connection working.
func TestPostgresIdlePing(t *testing.T) {
	t.Parallel()
	pinged := make(chan struct{}, 1)
	tune := func(o *options) {
		o.pingEvery = time.Millisecond
		o.onPing = func() {
			select {
			case pinged <- struct{}{}:
			default:
			}
		}
	}
	ch := testChannel(t)
	a, b := newPostgres(t, ch, "a", tune), newPostgres(t, ch, "b")
	sub := a.Subscribe()
	for i := range 3 {
		select {
		case <-pinged:
		case <-time.After(waitLimit):
			t.Fatalf("ping %d did not happen", i+1)
		}
		mustPublish(t, b, Event{Topic: "x"})
		if diff := cmp.Diff(ev("x", "", "b"), next(t, sub)); diff != "" {
			t.Fatalf("after ping %d (-want +got):\n%s", i+1, diff)
		}
	}
}

func TestPostgresOverflow(t *testing.T) {
	t.Parallel()
	ch := testChannel(t)
	a := newPostgres(t, ch, "a", WithBuffer(1))
	b := newPostgres(t, ch, "b")
	slow := a.Subscribe()
	probe := a.Subscribe("probe") // buffers only the probe
	for _, p := range []string{"1", "2", "3"} {
		mustPublish(t, b, Event{Topic: "x", Payload: json.RawMessage(p)})
	}
	mustPublish(t, b, Event{Topic: "probe"})
	// Once a's listener delivered the probe, it has offered slow every
	// event; Dropped waits for a delivery in progress.
	next(t, probe)
	if got := slow.Dropped(); got != 3 {
		t.Errorf("Dropped() = %d, want 3 (2, 3 and the probe)", got)
	}
	if diff := cmp.Diff([]Event{ev("x", "1", "b"), lost}, buffered(slow)); diff != "" {
		t.Errorf("slow subscriber (-want +got):\n%s", diff)
	}
}

func TestPostgresClose(t *testing.T) {
	t.Parallel()
	ch := testChannel(t)
	a := newPostgres(t, ch, "a")
	sub := a.Subscribe()

	// Publishers racing Close get nil or ErrClosed, nothing else.
	var wg sync.WaitGroup
	started := make(chan struct{}, 4)
	for range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				err := a.Publish(context.Background(), Event{Topic: "x"})
				if i == 0 {
					started <- struct{}{}
				}
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("Publish during Close: %v", err)
					return
				}
			}
		})
	}
	for range 4 {
		<-started
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if err := a.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	// The channel closes after whatever was buffered.
	deadline := time.After(waitLimit)
	for open := true; open; {
		select {
		case _, open = <-sub.Events():
		case <-deadline:
			t.Fatal("subscription not closed")
		}
	}
	if err := a.Publish(t.Context(), Event{Topic: "x"}); !errors.Is(err, ErrClosed) {
		t.Errorf("Publish after Close: got %v, want ErrClosed", err)
	}
}

func TestNewPostgresErrors(t *testing.T) {
	t.Parallel()
	url := postgresURL(t)
	tests := []struct {
		name    string
		url     string
		opts    []Option
		wantErr string
	}{
		{"empty channel", url, []Option{WithChannel("")}, "want 1 to 63 bytes"},
		{"long channel", url, []Option{WithChannel(strings.Repeat("c", 64))}, "want 1 to 63 bytes"},
		{"bad URL", "postgres://%zz", nil, "PostgreSQL connection"},
		{"no server", "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=5", nil, "connect to PostgreSQL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bus, err := NewPostgres(t.Context(), tt.url, nil, tt.opts...)
			if err == nil {
				bus.Close()
				t.Fatal("NewPostgres succeeded")
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("NewPostgres: got %q, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

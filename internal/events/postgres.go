package events

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Timings and limits of PostgresBus.
const (
	// defaultPingEvery is how long the listener waits for a notification
	// before it checks that its connection is still alive: a connection
	// cut by the network delivers nothing and reports no error, so without
	// the check it would wait forever.
	defaultPingEvery = 30 * time.Second
	// defaultPingTimeout bounds that check.
	defaultPingTimeout = 10 * time.Second
	// connectTimeout bounds one attempt to connect and LISTEN.
	connectTimeout = 15 * time.Second
	// minBackoff and maxBackoff bound the wait between failed attempts
	// to reconnect; it doubles after each failure.
	minBackoff = 250 * time.Millisecond
	maxBackoff = 15 * time.Second
	// publishConns is the most connections PostgresBus opens to publish.
	publishConns = 4
	// maxChannelLen is PostgreSQL's limit on identifiers (NAMEDATALEN-1).
	maxChannelLen = 63
	// payloadTooLong is the SQLSTATE of pg_notify's "payload string too
	// long" (invalid_parameter_value); our own check should come first.
	payloadTooLong = "22023"
)

// WithChannel sets the PostgreSQL notification channel (DefaultChannel).
// Buses see each other's events only on the same channel, so every
// replica of one Atrium must use the same one; tests use a fresh channel
// each. Local ignores it.
func WithChannel(name string) Option {
	return func(o *options) { o.channel = name }
}

// WithTLS sets the TLS configuration of PostgresBus's connections, for
// settings a connection URL cannot express (see config.Database's
// PostgresTLS). Local ignores it.
func WithTLS(c *tls.Config) Option {
	return func(o *options) { o.tls = c }
}

// PostgresBus is a Bus shared by every replica connected to one
// PostgreSQL database, through LISTEN/NOTIFY on one channel.
//
// Publish sends the event with pg_notify from a small pool of
// connections; it is committed at once, outside any transaction of the
// caller. A background listener holds one more connection, on which it
// LISTENs, and delivers every notification on the channel to this bus's
// subscribers, its own events included: a replica's own events make the
// round trip through PostgreSQL like everyone else's, so all subscribers
// on all replicas see the same events in the same order, each once. An
// event therefore reaches local subscribers shortly after Publish
// returns, not before.
//
// When the listening connection fails, the listener reconnects with
// backoff, and once it listens again every subscriber receives a Lost
// event: whatever was published in between, on any replica, is gone.
// NewPostgres starts the listener; Close stops it.
type PostgresBus struct {
	hub         *hub
	origin      string
	channel     string
	log         *slog.Logger
	pool        *pgxpool.Pool
	listenCfg   *pgx.ConnConfig
	pingEvery   time.Duration
	pingTimeout time.Duration
	onPing      func()

	stop      context.CancelFunc
	done      chan struct{} // closed when the listener has returned
	closeOnce sync.Once

	mu  sync.Mutex
	pid uint32 // backend process id of the listening connection
}

var _ Bus = (*PostgresBus)(nil)

// NewPostgres connects to the PostgreSQL database at connString (a
// postgres:// URL or a libpq key=value string), starts listening, and
// returns a bus that delivers events published by any replica on the
// same database and channel. ctx bounds the first connection only; the
// listener runs until Close. log receives the listener's reconnections
// (nil discards them). It takes every Option.
//
// Each bus holds one connection open for LISTEN and opens up to 4 more,
// closed when idle, to publish. LISTEN needs a session of its own, so
// connString must not point at a pooler in transaction mode.
func NewPostgres(ctx context.Context, connString string, log *slog.Logger, opts ...Option) (*PostgresBus, error) {
	o := newOptions(opts)
	if o.channel == "" || len(o.channel) > maxChannelLen {
		return nil, fmt.Errorf("events: channel %q: want 1 to %d bytes", o.channel, maxChannelLen)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	listenCfg, err := pgx.ParseConfig(connString)
	if err != nil {
		return nil, fmt.Errorf("events: PostgreSQL connection: %w", err)
	}
	setTLS(&listenCfg.Config, o.tls)
	if _, ok := listenCfg.RuntimeParams["application_name"]; !ok {
		// Names the connection in pg_stat_activity.
		listenCfg.RuntimeParams["application_name"] = "atrium events listener"
	}
	poolCfg, err := pgxpool.ParseConfig(connString)
	if err != nil {
		return nil, fmt.Errorf("events: PostgreSQL connection: %w", err)
	}
	setTLS(&poolCfg.ConnConfig.Config, o.tls)
	poolCfg.MaxConns = publishConns
	poolCfg.MinConns = 0
	poolCfg.MaxConnIdleTime = time.Minute

	b := &PostgresBus{
		hub:         newHub(o.buffer),
		origin:      o.origin,
		channel:     o.channel,
		log:         log,
		listenCfg:   listenCfg,
		pingEvery:   o.pingEvery,
		pingTimeout: o.pingTimeout,
		onPing:      o.onPing,
		done:        make(chan struct{}),
	}
	conn, err := b.listen(ctx)
	if err != nil {
		return nil, err
	}
	b.pool, err = pgxpool.NewWithConfig(ctx, poolCfg)
	if err != nil {
		closeConn(conn)
		return nil, fmt.Errorf("events: connect to PostgreSQL: %w", err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	b.stop = stop
	go b.run(runCtx, conn)
	return b, nil
}

// setTLS makes c use t, if set, the way the store does.
func setTLS(c *pgconn.Config, t *tls.Config) {
	if t == nil {
		return
	}
	t = t.Clone()
	if t.ServerName == "" {
		t.ServerName = c.Host
	}
	c.TLSConfig = t
	c.Fallbacks = nil
}

// Publish sends e to the subscribers of e.Topic on every replica,
// including this one. It returns once PostgreSQL has committed the
// notification.
func (b *PostgresBus) Publish(ctx context.Context, e Event) error {
	payload, err := encode(e, b.origin)
	if err != nil {
		return err
	}
	if b.hub.isClosed() {
		return fmt.Errorf("events: publish %q: %w", e.Topic, ErrClosed)
	}
	if _, err := b.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, b.channel, string(payload)); err != nil {
		if b.hub.isClosed() {
			return fmt.Errorf("events: publish %q: %w", e.Topic, ErrClosed)
		}
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == payloadTooLong {
			return fmt.Errorf("events: publish %q: %w: %w", e.Topic, ErrTooLarge, err)
		}
		return fmt.Errorf("events: publish %q: %w", e.Topic, err)
	}
	return nil
}

// Subscribe returns a subscription to topics, or to every topic if none.
func (b *PostgresBus) Subscribe(topics ...Topic) *Subscription { return b.hub.subscribe(topics) }

// Origin returns the id stamped on the events this bus publishes.
func (b *PostgresBus) Origin() string { return b.origin }

// Dropped returns how many events all subscriptions, past and present,
// dropped because their buffers were full. It suits a metric.
func (b *PostgresBus) Dropped() uint64 { return b.hub.totalDropped() }

// Close stops the listener and waits for it, closes every subscription,
// waits for publishes in flight and closes the connections. Later
// publishes fail with ErrClosed. Close may be called more than once; it
// always returns nil.
func (b *PostgresBus) Close() error {
	b.closeOnce.Do(func() {
		b.stop()
		<-b.done
		b.hub.close()
		b.pool.Close()
	})
	return nil
}

// listen opens a connection and LISTENs on the channel.
func (b *PostgresBus) listen(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, b.listenCfg.Copy())
	if err != nil {
		return nil, fmt.Errorf("events: connect to PostgreSQL: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{b.channel}.Sanitize()); err != nil {
		closeConn(conn)
		return nil, fmt.Errorf("events: LISTEN %s: %w", b.channel, err)
	}
	b.mu.Lock()
	b.pid = conn.PgConn().PID()
	b.mu.Unlock()
	return conn, nil
}

// listenerPID returns the backend process id of the listening
// connection, for tests that cut it.
func (b *PostgresBus) listenerPID() uint32 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.pid
}

// run is the listener: it delivers notifications from conn until ctx is
// cancelled, replacing conn whenever it fails.
func (b *PostgresBus) run(ctx context.Context, conn *pgx.Conn) {
	defer close(b.done)
	for {
		err := b.receive(ctx, conn)
		closeConn(conn)
		if ctx.Err() != nil {
			return
		}
		b.log.Warn("events: lost the PostgreSQL listening connection; reconnecting", "channel", b.channel, "err", err)
		conn = b.reconnect(ctx)
		if conn == nil {
			return
		}
		// Only now, listening again, is the gap closed: a subscriber that
		// reloads its state on this event misses nothing after it.
		b.hub.gap()
		b.log.Info("events: listening again; subscribers were told that events may be lost", "channel", b.channel)
	}
}

// receive delivers notifications from conn until conn fails or ctx is
// cancelled, and returns why it stopped.
func (b *PostgresBus) receive(ctx context.Context, conn *pgx.Conn) error {
	for {
		waitCtx, cancel := context.WithTimeout(ctx, b.pingEvery)
		n, err := conn.WaitForNotification(waitCtx)
		cancel()
		if n != nil {
			b.dispatch(n)
		}
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return ctx.Err()
		case pgconn.Timeout(err) || errors.Is(err, context.DeadlineExceeded):
			// Idle for a while. A deadline interrupts the wait without
			// closing the connection; now check that the server still
			// answers. Notifications arriving meanwhile are buffered by
			// pgx and returned by the next wait.
			pingCtx, cancel := context.WithTimeout(ctx, b.pingTimeout)
			err := conn.Ping(pingCtx)
			cancel()
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return fmt.Errorf("ping: %w", err)
			}
			if b.onPing != nil {
				b.onPing()
			}
		default:
			return err
		}
	}
}

// dispatch delivers one notification to the subscribers.
func (b *PostgresBus) dispatch(n *pgconn.Notification) {
	e, err := decode([]byte(n.Payload))
	if err != nil {
		// Someone else NOTIFYing on our channel; not one of our events.
		b.log.Warn("events: ignoring a notification that is not an event", "channel", n.Channel, "err", err)
		return
	}
	b.hub.deliver(e)
}

// reconnect connects and LISTENs again, retrying with backoff. It returns
// nil when ctx is cancelled first.
func (b *PostgresBus) reconnect(ctx context.Context) *pgx.Conn {
	var backoff time.Duration
	for attempt := 1; ; attempt++ {
		attemptCtx, cancel := context.WithTimeout(ctx, connectTimeout)
		conn, err := b.listen(attemptCtx)
		cancel()
		if err == nil {
			return conn
		}
		if ctx.Err() != nil {
			return nil
		}
		backoff = min(max(2*backoff, minBackoff), maxBackoff)
		// Jitter keeps replicas that lost the server together from
		// reconnecting in step.
		wait := backoff/2 + rand.N(backoff/2)
		b.log.Warn("events: reconnecting failed", "channel", b.channel, "attempt", attempt, "retry_in", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// closeConn closes conn, which may already be broken; there is nothing
// to do about an error.
func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = conn.Close(ctx)
}

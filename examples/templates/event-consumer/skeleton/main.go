// Command ${{ values.name }}: ${{ values.description }}
//
// The event bus delivers each event of the topics it consumes
// (${{ values.topics | join(', ') }}) as an HTTP POST of a CloudEvent
// (https://cloudevents.io) to /events/{topic}, in binary mode (ce-*
// headers, as Knative's KafkaSource sends them) or structured mode
// (application/cloudevents+json). A 2xx answer acknowledges the event;
// any other answer has it delivered again later.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// maxEventBytes bounds the body of one delivery.
const maxEventBytes = 1 << 20

// event is the part of a CloudEvent the handlers need.
type event struct {
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            string          `json:"type"`
	Time            string          `json:"time,omitempty"`
	DataContentType string          `json:"datacontenttype,omitempty"`
	Data            json.RawMessage `json:"data"`
}

// handlerFunc handles one event. An error leaves the event unacknowledged
// (see onFailure), so return nil only once the work is done.
type handlerFunc func(ctx context.Context, ev event) error

// handlers maps each topic to its handler. Each handle_*.go file adds its
// own in init.
var handlers = map[string]handlerFunc{}

// processed remembers the events already handled, so that one delivered
// twice (the bus delivers at least once) is acknowledged without being
// handled again.
type processed interface {
	Has(ctx context.Context, source, id string) (bool, error)
	Add(ctx context.Context, source, id string) error
}

func main() {
	addr := os.Getenv("ADDR")
	if addr == "" {
		addr = ":8080"
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	seen, closeSeen, err := newProcessed(ctx)
	if err != nil {
		slog.Error("opening the processed-events store", "err", err)
		os.Exit(1)
	}
	defer closeSeen()

	srv := &http.Server{Addr: addr, Handler: routes(seen), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()

	slog.Info("${{ values.name }} listening", "addr", addr)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		slog.Error("serve", "err", err)
		os.Exit(1)
	}
}

// routes is the consumer's HTTP surface.
func routes(seen processed) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("POST /events/{topic}", func(w http.ResponseWriter, r *http.Request) {
		topic := r.PathValue("topic")
		handle, ok := handlers[topic]
		if !ok {
			http.Error(w, "this consumer does not handle topic "+topic, http.StatusNotFound)
			return
		}
		ev, err := readEvent(w, r)
		if err != nil {
			// Redelivering a malformed event cannot help: say why, once.
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		log := slog.With("topic", topic, "type", ev.Type, "id", ev.ID)
		if done, err := seen.Has(r.Context(), ev.Source, ev.ID); err != nil {
			log.Error("checking for a duplicate", "err", err)
			http.Error(w, "cannot check for duplicates now", http.StatusServiceUnavailable)
			return
		} else if done {
			log.Info("duplicate event acknowledged")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if err := handle(r.Context(), ev); err != nil {
			onFailure(w, r, topic, ev, err)
			return
		}
		if err := seen.Add(r.Context(), ev.Source, ev.ID); err != nil {
			// Handled, but it may be handled again if redelivered.
			log.Warn("recording the event as processed", "err", err)
		}
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

// readEvent reads the CloudEvent in r, in structured or binary mode.
func readEvent(w http.ResponseWriter, r *http.Request) (event, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEventBytes))
	if err != nil {
		return event{}, fmt.Errorf("reading the event: %w", err)
	}
	var ev event
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "application/cloudevents+json" {
		if err := json.Unmarshal(body, &ev); err != nil {
			return event{}, fmt.Errorf("decoding the event: %w", err)
		}
	} else {
		ev = event{
			ID:     r.Header.Get("Ce-Id"),
			Source: r.Header.Get("Ce-Source"),
			Type:   r.Header.Get("Ce-Type"),
			Time:   r.Header.Get("Ce-Time"),
			Data:   body,

			DataContentType: r.Header.Get("Content-Type"),
		}
	}
	if ev.ID == "" || ev.Source == "" || ev.Type == "" {
		return event{}, errors.New("not a CloudEvent: id, source and type are required")
	}
	return ev, nil
}

package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// testTopic is handled by a handler the tests control.
const testTopic = "test-topic"

// memorySeen is a processed store for tests.
type memorySeen map[string]bool

func (m memorySeen) Has(_ context.Context, source, id string) (bool, error) {
	return m[source+"\x00"+id], nil
}

func (m memorySeen) Add(_ context.Context, source, id string) error {
	m[source+"\x00"+id] = true
	return nil
}

// deliver posts a binary-mode CloudEvent with the given id to topic.
func deliver(t *testing.T, h http.Handler, topic, id string) int {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/events/"+topic, strings.NewReader(`{"trackingNumber":"AL0012345678"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Ce-Specversion", "1.0")
	req.Header.Set("Ce-Id", id)
	req.Header.Set("Ce-Source", "/tests")
	req.Header.Set("Ce-Type", "com.example.test")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

func TestEvents(t *testing.T) {
	var calls int
	var fail error
	handlers[testTopic] = func(context.Context, event) error {
		calls++
		return fail
	}
	t.Cleanup(func() { delete(handlers, testTopic) })
	t.Setenv("DEAD_LETTER_URL", "") // a dead-letter policy then asks for redelivery
	h := routes(memorySeen{})

	if got := deliver(t, h, testTopic, "1"); got != http.StatusNoContent || calls != 1 {
		t.Fatalf("first delivery: status %d after %d calls, want 204 after 1", got, calls)
	}
	if got := deliver(t, h, testTopic, "1"); got != http.StatusNoContent || calls != 1 {
		t.Errorf("duplicate delivery: status %d after %d calls, want 204 without a call", got, calls)
	}
	if got := deliver(t, h, "no-such-topic", "2"); got != http.StatusNotFound {
		t.Errorf("unknown topic: status %d, want 404", got)
	}

	fail = errors.New("downstream unavailable")
	if got := deliver(t, h, testTopic, "3"); got < 500 {
		t.Errorf("failed event: status %d, want a 5xx so it is delivered again", got)
	}
	fail = nil
	if got := deliver(t, h, testTopic, "3"); got != http.StatusNoContent || calls != 3 {
		t.Errorf("redelivered event: status %d after %d calls, want 204 after 3", got, calls)
	}
}

func TestNotACloudEvent(t *testing.T) {
	handlers[testTopic] = func(context.Context, event) error { return nil }
	t.Cleanup(func() { delete(handlers, testTopic) })
	req := httptest.NewRequest(http.MethodPost, "/events/"+testTopic, strings.NewReader(`{}`))
	rec := httptest.NewRecorder()
	routes(memorySeen{}).ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest {
		t.Errorf("status %d, want 400", rec.Code)
	}
}

// topics are the topics the consumer was created for.
var topics = strings.Split("${{ values.topics | join(',') }}", ",")

func TestEveryTopicHasAHandler(t *testing.T) {
	for _, topic := range topics {
		if handlers[topic] == nil {
			t.Errorf("no handler for topic %s", topic)
		}
	}
}

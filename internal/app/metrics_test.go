package app_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/atrium-dev/atrium/internal/metrics"
)

// TestMetrics scrapes the example app after a few requests and checks
// that the catalog, HTTP and runtime series are there, with routes named
// by pattern.
func TestMetrics(t *testing.T) {
	_, srv := exampleApp(t)

	for _, path := range []string{"/healthz", "/api/catalog/entities?filter=kind=domain"} {
		resp, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	resp, err := srv.Client().Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics = %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != metrics.ContentType {
		t.Errorf("Content-Type = %q, want %q", ct, metrics.ContentType)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	body := string(b)

	// The example catalog is ingested to completion, so both queues are empty.
	wantLines := []string{
		`atrium_catalog_queue_depth{queue="processing"} 0`,
		`atrium_catalog_queue_depth{queue="stitching"} 0`,
		`atrium_catalog_claim_duration_seconds_count{queue="processing"} 4`, // one claim per processing round of the examples
		`atrium_catalog_entities{state="processed"} 62`,
		`atrium_catalog_entities{state="failed"} 0`,
		`atrium_http_request_duration_seconds_count{method="GET",route="GET /healthz",code="200"} 1`,
		`atrium_http_request_duration_seconds_count{method="GET",route="GET /api/catalog/entities",code="200"} 1`,
	}
	if !strings.Contains(body, "\n"+`atrium_catalog_claim_duration_seconds_count{queue="stitching"} `) {
		t.Error("no stitching claim latency series")
	}
	var got []string
	for _, want := range wantLines {
		if strings.Contains(body, "\n"+want+"\n") {
			got = append(got, want)
		}
	}
	if diff := cmp.Diff(wantLines, got); diff != "" {
		t.Errorf("series missing from /metrics (-want +got):\n%s\n\n%s", diff, body)
	}
	for _, prefix := range []string{"# TYPE go_goroutines gauge\n", "\ngo_memstats_heap_alloc_bytes ", "\nprocess_start_time_seconds "} {
		if !strings.Contains(body, prefix) {
			t.Errorf("/metrics lacks %q", prefix)
		}
	}
}

package metrics_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/atrium-dev/atrium/internal/metrics"
)

// testMux is a ServeMux like the app's: patterns with methods and
// wildcards, a subtree, and a sub-router that routes a copy of the
// request and names its route with SetRoute.
func testMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/catalog/entities/by-name/{kind}/{namespace}/{name}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, r.PathValue("name"))
	})
	mux.HandleFunc("POST /api/catalog/locations", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("/docs/", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no such page", http.StatusNotFound)
	})
	mux.HandleFunc("GET /early-hints", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusEarlyHints)
		w.WriteHeader(http.StatusAccepted)
	})
	mux.HandleFunc("GET /stream", func(w http.ResponseWriter, r *http.Request) {
		w.(http.Flusher).Flush()
		fmt.Fprintln(w, "data")
	})
	mux.HandleFunc("GET /panic", func(w http.ResponseWriter, r *http.Request) { panic("boom") })

	sub := http.NewServeMux()
	sub.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		metrics.SetRoute(r.Context(), "GET /api/sub/items/{id}")
	})
	mux.Handle("/api/sub/", http.StripPrefix("/api/sub", sub))
	return mux
}

func TestInstrumentHTTP(t *testing.T) {
	reg := metrics.NewRegistry()
	h := metrics.InstrumentHTTP(reg, testMux())
	const byName = "GET /api/catalog/entities/by-name/{kind}/{namespace}/{name}"
	tests := []struct {
		method, target string
		wantCode       int
		wantSeries     string // method, route and code labels
	}{
		{"GET", "/api/catalog/entities/by-name/component/default/a", 200, `method="GET",route="` + byName + `",code="200"`},
		{"GET", "/api/catalog/entities/by-name/api/other/b", 200, `method="GET",route="` + byName + `",code="200"`},
		{"HEAD", "/api/catalog/entities/by-name/component/default/a", 200, `method="HEAD",route="` + byName + `",code="200"`},
		{"POST", "/api/catalog/locations", 201, `method="POST",route="POST /api/catalog/locations",code="201"`},
		{"GET", "/healthz", 200, `method="GET",route="GET /healthz",code="200"`},
		// Unknown paths and methods are one series each, whatever the path.
		{"GET", "/nope/1", 404, `method="GET",route="unmatched",code="404"`},
		{"GET", "/nope/2?x=1", 404, `method="GET",route="unmatched",code="404"`},
		{"DELETE", "/healthz", 405, `method="DELETE",route="unmatched",code="405"`},
		{"BREW", "/healthz", 405, `method="other",route="unmatched",code="405"`},
		{"PURGE", "/api/catalog/locations", 405, `method="other",route="unmatched",code="405"`},
		// A matched route that answers 404 keeps its route.
		{"GET", "/docs/missing", 404, `method="GET",route="/docs/",code="404"`},
		// The mux's own redirects are labelled with the pattern they lead to.
		{"GET", "/docs", 307, `method="GET",route="/docs/",code="307"`},
		{"GET", "/api/../healthz", 307, `method="GET",route="GET /healthz",code="307"`},
		{"GET", "/api/sub/items/42", 200, `method="GET",route="GET /api/sub/items/{id}",code="200"`},
		// httptest.ResponseRecorder keeps the first status, the 103; the
		// client gets the 202, and so does the histogram.
		{"GET", "/early-hints", 103, `method="GET",route="GET /early-hints",code="202"`},
		{"GET", "/stream", 200, `method="GET",route="GET /stream",code="200"`},
		{"GET", "/panic", 0, `method="GET",route="GET /panic",code="500"`},
	}
	want := map[string]int{}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			want[tt.wantSeries]++
			rec := httptest.NewRecorder()
			func() {
				defer func() {
					if p := recover(); p != nil && tt.wantCode != 0 {
						t.Errorf("panic: %v", p)
					}
				}()
				h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.target, nil))
			}()
			if tt.wantCode != 0 && rec.Code != tt.wantCode {
				t.Errorf("status = %d, want %d", rec.Code, tt.wantCode)
			}
		})
	}

	b := body(t, reg)
	got := map[string]int{}
	for _, l := range lines(b, "atrium_http_request_duration_seconds_count{") {
		var n int
		labels, count, _ := strings.Cut(strings.TrimPrefix(l, "atrium_http_request_duration_seconds_count{"), "} ")
		if _, err := fmt.Sscan(count, &n); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		got[labels] = n
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("request counts by series (-want +got):\n%s", diff)
	}
	if strings.Contains(b, "nope") {
		t.Errorf("a raw path became a label:\n%s", b)
	}
}

func TestInstrumentHTTPKeepsFlusher(t *testing.T) {
	reg := metrics.NewRegistry()
	rec := httptest.NewRecorder()
	metrics.InstrumentHTTP(reg, testMux()).ServeHTTP(rec, httptest.NewRequest("GET", "/stream", nil))
	if !rec.Flushed {
		t.Error("the handler's Flush did not reach the real writer")
	}
	rec = httptest.NewRecorder()
	metrics.InstrumentHTTP(metrics.NewRegistry(), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("ResponseController.Flush: %v", err)
		}
	})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if !rec.Flushed {
		t.Error("ResponseController did not reach the real writer")
	}
}

func TestInstrumentHTTPBuckets(t *testing.T) {
	reg := metrics.NewRegistry()
	metrics.InstrumentHTTP(reg, testMux()).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/healthz", nil))
	var les []string
	for _, l := range lines(body(t, reg), "atrium_http_request_duration_seconds_bucket{") {
		_, le, _ := strings.Cut(l, `le="`)
		le, _, _ = strings.Cut(le, `"`)
		les = append(les, le)
	}
	want := []string{"0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"}
	if diff := cmp.Diff(want, les); diff != "" {
		t.Errorf("buckets (-want +got):\n%s", diff)
	}
	if !slices.Contains(lines(body(t, reg), "# TYPE"), "# TYPE atrium_http_request_duration_seconds histogram") {
		t.Error("no TYPE line for the histogram")
	}
}

func TestSetRouteWithoutMiddleware(t *testing.T) {
	// Must not panic when nothing instruments the request.
	metrics.SetRoute(httptest.NewRequest("GET", "/", nil).Context(), "GET /")
}

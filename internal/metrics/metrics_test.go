package metrics_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/atrium-dev/atrium/internal/metrics"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// scrape serves reg's /metrics and returns the status line, content type
// and body, and what was logged.
func scrape(t *testing.T, reg *metrics.Registry) (resp, logged string) {
	t.Helper()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	rec := httptest.NewRecorder()
	reg.Handler(log).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	return fmt.Sprintf("status: %d\ncontent-type: %s\n\n%s", rec.Code, rec.Header().Get("Content-Type"), rec.Body), logs.String()
}

// body is the scraped exposition text alone.
func body(t *testing.T, reg *metrics.Registry) string {
	t.Helper()
	resp, logged := scrape(t, reg)
	if logged != "" {
		t.Errorf("scrape logged:\n%s", logged)
	}
	_, b, _ := strings.Cut(resp, "\n\n")
	return b
}

// lines returns the lines of text that start with prefix.
func lines(text, prefix string) []string {
	var out []string
	for l := range strings.Lines(text) {
		if strings.HasPrefix(l, prefix) {
			out = append(out, strings.TrimSuffix(l, "\n"))
		}
	}
	return out
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

// TestGolden records a whole scrape with every kind of metric, registered
// out of order, so that the format, the sorting and the skipping of a
// failed collect are all visible in one file.
func TestGolden(t *testing.T) {
	reg := metrics.NewRegistry()
	req := reg.NewCounterVec("test_requests_total", "Requests served.\nSecond line with a \\ backslash.", "method", "code")
	req.With("POST", "201").Add(2)
	req.With("GET", "200").Inc()
	req.With("GET", "200").Add(1.5)
	req.With("GET", "404").Inc()

	reg.NewGaugeVec("test_temperature_celsius", "A gauge without labels.").With().Set(-3.25)

	lat := reg.NewHistogramVec("test_latency_seconds", "A histogram.", []float64{0.01, 0.1, 1}, "route")
	for _, v := range []float64{0.005, 0.01, 0.05, 0.5, 3} {
		lat.With("/b").Observe(v)
	}
	lat.With("/a").Observe(0.2)

	reg.NewGaugeFunc("test_queue_depth", "Read at scrape time.", func(ctx context.Context) ([]metrics.Sample, error) {
		return []metrics.Sample{
			{LabelValues: []string{"stitching"}, Value: 7},
			{LabelValues: []string{"processing"}, Value: 1e6},
		}, nil
	}, "queue")
	reg.NewGaugeFunc("test_broken", "Fails to collect.", func(ctx context.Context) ([]metrics.Sample, error) {
		return nil, errors.New("database is down")
	})
	reg.NewGaugeVec("test_escaping", "Label values with special characters.", "value").
		With("a \"quoted\" C:\\path\nand a newline").Set(1)
	reg.NewCounterVec("test_unused_total", "Registered, never incremented: HELP and TYPE only.", "x")

	resp, logged := scrape(t, reg)
	checkGolden(t, "exposition", resp+"\n--- log ---\n"+logged)
}

func TestLabelEscaping(t *testing.T) {
	tests := []struct {
		name, value, want string
	}{
		{"plain", "GET", `test_escape{v="GET"} 1`},
		{"backslash", `C:\dir`, `test_escape{v="C:\\dir"} 1`},
		{"double quote", `say "hi"`, `test_escape{v="say \"hi\""} 1`},
		{"newline", "a\nb", `test_escape{v="a\nb"} 1`},
		{"escaped escape", `\n`, `test_escape{v="\\n"} 1`},
		{"single quote and tab", "it's\t", "test_escape{v=\"it's\t\"} 1"},
		{"unicode", "zürich ✓", `test_escape{v="zürich ✓"} 1`},
		{"invalid utf-8", "a\xffb", `test_escape{v="a` + "\uFFFD" + `b"} 1`},
		{"empty", "", `test_escape{v=""} 1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := metrics.NewRegistry()
			reg.NewGaugeVec("test_escape", "h", "v").With(tt.value).Set(1)
			got := lines(body(t, reg), "test_escape{")
			if diff := cmp.Diff([]string{tt.want}, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestHelpEscaping(t *testing.T) {
	reg := metrics.NewRegistry()
	reg.NewGaugeVec("test_help", "back\\slash, \"quotes\" and\nnewline")
	got := lines(body(t, reg), "# HELP")
	want := []string{`# HELP test_help back\\slash, "quotes" and\nnewline`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestHistogramBuckets(t *testing.T) {
	tests := []struct {
		name    string
		buckets []float64
		observe []float64
		want    []string
	}{
		{
			name:    "bounds are inclusive and counts cumulative",
			buckets: []float64{1, 2, 5},
			observe: []float64{0.5, 1, 1.5, 5, 7, -1},
			want: []string{
				`h_bucket{le="1"} 3`,
				`h_bucket{le="2"} 4`,
				`h_bucket{le="5"} 5`,
				`h_bucket{le="+Inf"} 6`,
				`h_sum 14`,
				`h_count 6`,
			},
		},
		{
			name:    "nothing observed",
			buckets: []float64{0.25},
			want:    []string{`h_bucket{le="0.25"} 0`, `h_bucket{le="+Inf"} 0`, `h_sum 0`, `h_count 0`},
		},
		{
			name:    "explicit +Inf bound is not doubled",
			buckets: []float64{0.001, 1e6, math.Inf(1)},
			observe: []float64{2e6},
			want:    []string{`h_bucket{le="0.001"} 0`, `h_bucket{le="1e+06"} 0`, `h_bucket{le="+Inf"} 1`, `h_sum 2e+06`, `h_count 1`},
		},
		{
			name:    "no bounds",
			buckets: nil,
			observe: []float64{3, 4},
			want:    []string{`h_bucket{le="+Inf"} 2`, `h_sum 7`, `h_count 2`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := metrics.NewRegistry()
			h := reg.NewHistogramVec("h", "help", tt.buckets).With()
			for _, v := range tt.observe {
				h.Observe(v)
			}
			got := lines(body(t, reg), "h_")
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestHistogramLabelsBeforeLe(t *testing.T) {
	reg := metrics.NewRegistry()
	reg.NewHistogramVec("h", "help", []float64{1}, "route", "code").With("/x", "200").Observe(1)
	want := []string{
		`h_bucket{route="/x",code="200",le="1"} 1`,
		`h_bucket{route="/x",code="200",le="+Inf"} 1`,
		`h_sum{route="/x",code="200"} 1`,
		`h_count{route="/x",code="200"} 1`,
	}
	if diff := cmp.Diff(want, lines(body(t, reg), "h_")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestRegistrationPanics checks the programmer errors that must fail at
// registration or first use rather than produce an unscrapable endpoint.
func TestRegistrationPanics(t *testing.T) {
	noop := func(context.Context) ([]metrics.Sample, error) { return nil, nil }
	tests := []struct {
		name string
		fn   func(reg *metrics.Registry)
	}{
		{"name with dash", func(reg *metrics.Registry) { reg.NewCounterVec("bad-name_total", "h") }},
		{"name starting with digit", func(reg *metrics.Registry) { reg.NewGaugeVec("1st", "h") }},
		{"empty name", func(reg *metrics.Registry) { reg.NewGaugeFunc("", "h", noop) }},
		{"label with colon", func(reg *metrics.Registry) { reg.NewGaugeVec("g", "h", "a:b") }},
		{"reserved label", func(reg *metrics.Registry) { reg.NewGaugeVec("g", "h", "__name") }},
		{"label twice", func(reg *metrics.Registry) { reg.NewCounterVec("c", "h", "a", "a") }},
		{"le on a histogram", func(reg *metrics.Registry) { reg.NewHistogramVec("h", "h", nil, "le") }},
		{"buckets not increasing", func(reg *metrics.Registry) { reg.NewHistogramVec("h", "h", []float64{1, 1}) }},
		{"duplicate name", func(reg *metrics.Registry) {
			reg.NewGaugeVec("x", "h")
			reg.NewCounterVec("x", "h")
		}},
		{"histogram series clash with gauge", func(reg *metrics.Registry) {
			reg.NewGaugeVec("x_count", "h")
			reg.NewHistogramVec("x", "h", nil)
		}},
		{"gauge clash with histogram series", func(reg *metrics.Registry) {
			reg.NewHistogramVec("x", "h", nil)
			reg.NewGaugeFunc("x_sum", "h", noop)
		}},
		{"runtime twice", func(reg *metrics.Registry) {
			reg.RegisterRuntime(time.Now())
			reg.RegisterRuntime(time.Now())
		}},
		{"too few label values", func(reg *metrics.Registry) { reg.NewCounterVec("c", "h", "a", "b").With("x") }},
		{"too many label values", func(reg *metrics.Registry) { reg.NewGaugeVec("g", "h").With("x") }},
		{"counter decreased", func(reg *metrics.Registry) { reg.NewCounterVec("c", "h").With().Add(-1) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("did not panic")
				}
			}()
			tt.fn(metrics.NewRegistry())
		})
	}
}

func TestValidNamesDoNotPanic(t *testing.T) {
	reg := metrics.NewRegistry()
	reg.NewCounterVec("a:b_c_total", "h", "_x", "Y9")
	reg.NewHistogramVec("x", "h", nil)
	reg.NewGaugeVec("x_total", "h") // not one of a histogram's series
	reg.RegisterRuntime(time.Now())
}

// TestBadGaugeFuncs checks that a gauge func that fails, or returns what
// cannot be written, is left out and logged while the rest is served.
func TestBadGaugeFuncs(t *testing.T) {
	tests := []struct {
		name    string
		samples []metrics.Sample
		err     error
		wantLog string
	}{
		{"error", nil, errors.New("no database"), "err=\"no database\""},
		{"too few label values", []metrics.Sample{{Value: 1}}, nil, "sample has 0 label values"},
		{"duplicate series", []metrics.Sample{
			{LabelValues: []string{"a"}, Value: 1},
			{LabelValues: []string{"a"}, Value: 2},
		}, nil, "two samples with label values"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := metrics.NewRegistry()
			reg.NewGaugeFunc("bad", "h", func(context.Context) ([]metrics.Sample, error) { return tt.samples, tt.err }, "l")
			reg.NewGaugeVec("good", "h").With().Set(1)
			resp, logged := scrape(t, reg)
			if !strings.HasPrefix(resp, "status: 200\n") {
				t.Errorf("scrape failed:\n%s", resp)
			}
			if got := lines(resp, "good "); len(got) != 1 {
				t.Errorf("good metric missing:\n%s", resp)
			}
			if strings.Contains(resp, "bad") {
				t.Errorf("bad metric written:\n%s", resp)
			}
			if !strings.Contains(logged, "metric=bad") || !strings.Contains(logged, tt.wantLog) {
				t.Errorf("log = %q, want metric=bad and %q", logged, tt.wantLog)
			}
		})
	}
}

func TestGaugeFuncGetsRequestContext(t *testing.T) {
	type key struct{}
	reg := metrics.NewRegistry()
	var got any
	reg.NewGaugeFunc("g", "h", func(ctx context.Context) ([]metrics.Sample, error) {
		got = ctx.Value(key{})
		return nil, nil
	})
	req := httptest.NewRequestWithContext(context.WithValue(context.Background(), key{}, "scrape"), http.MethodGet, "/metrics", nil)
	reg.Handler(slog.New(slog.DiscardHandler)).ServeHTTP(httptest.NewRecorder(), req)
	if got != "scrape" {
		t.Errorf("context value = %v, want the request's", got)
	}
}

func TestRuntime(t *testing.T) {
	reg := metrics.NewRegistry()
	reg.RegisterRuntime(time.UnixMilli(1_700_000_000_500))
	b := body(t, reg)
	for _, name := range []string{
		"go_gc_cycles_total ", "go_goroutines ", "go_info{version=\"go",
		"go_memstats_heap_alloc_bytes ", "go_memstats_sys_bytes ",
	} {
		if len(lines(b, name)) != 1 {
			t.Errorf("no %q line in\n%s", name, b)
		}
	}
	if diff := cmp.Diff([]string{"process_start_time_seconds 1.7000000005e+09"}, lines(b, "process_")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"# TYPE go_gc_cycles_total counter"}, lines(b, "# TYPE go_gc")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestConcurrentUse updates every kind of metric from many goroutines
// while scraping, for the race detector, and checks no update was lost.
func TestConcurrentUse(t *testing.T) {
	const workers, n = 8, 1000
	reg := metrics.NewRegistry()
	c := reg.NewCounterVec("c_total", "h", "w")
	g := reg.NewGaugeVec("g", "h")
	h := reg.NewHistogramVec("h", "h", []float64{0.5}, "w")
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			label := fmt.Sprint(w % 2)
			for i := range n {
				c.With(label).Inc()
				g.With().Add(1)
				h.With(label).Observe(float64(i % 2))
			}
		})
	}
	stop := make(chan struct{})
	scraped := make(chan struct{})
	go func() {
		defer close(scraped)
		for {
			select {
			case <-stop:
				return
			default:
				reg.Handler(slog.New(slog.DiscardHandler)).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/metrics", nil))
			}
		}
	}()
	// Registering while scraping is safe too.
	reg.NewGaugeVec("late", "h").With().Set(1)
	wg.Wait()
	close(stop)
	<-scraped

	b := body(t, reg)
	half := workers / 2 * n
	want := []string{
		fmt.Sprintf(`c_total{w="0"} %d`, half),
		fmt.Sprintf(`c_total{w="1"} %d`, half),
		fmt.Sprintf(`g %d`, workers*n),
		fmt.Sprintf(`h_count{w="0"} %d`, half),
		fmt.Sprintf(`h_count{w="1"} %d`, half),
		fmt.Sprintf(`h_sum{w="0"} %d`, half/2),
		fmt.Sprintf(`h_sum{w="1"} %d`, half/2),
	}
	var got []string
	for _, p := range []string{"c_total{", "g ", "h_count", "h_sum"} {
		got = append(got, lines(b, p)...)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

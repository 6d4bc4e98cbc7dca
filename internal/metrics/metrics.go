// Package metrics owns Atrium's Prometheus metrics: a Registry of
// counters, gauges, histograms and values read at scrape time, the
// /metrics handler that writes them in the Prometheus text exposition
// format, and the HTTP middleware that times every request by route.
//
// It is a small replacement for prometheus/client_golang, which would
// bring many dependencies for the little Atrium needs. Registering a
// metric with an invalid or already used name is a programmer error and
// panics, so such mistakes fail the first test that builds the app.
package metrics

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sync"
)

// Registry holds the metrics one /metrics endpoint serves. It is safe for
// concurrent use; there is no default registry, each app makes its own.
type Registry struct {
	mu       sync.Mutex
	families []family
	// taken holds every sample name in use, including a histogram's
	// _bucket, _sum and _count, so no two families can write the same series.
	taken map[string]bool
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{taken: map[string]bool{}}
}

// family is one registered metric: its description and a way to read its
// series at scrape time.
type family interface {
	describe() *desc
	// collect returns the family's series in any order.
	collect(ctx context.Context) ([]series, error)
}

// desc is what every kind of metric has: a name, help text, a type and
// the fixed label names its series are told apart by.
type desc struct {
	name   string
	help   string
	typ    string // "counter", "gauge" or "histogram"
	labels []string
}

func (d *desc) describe() *desc { return d }

// series is one labelled value of a family at scrape time. hist is set
// for histograms, value otherwise.
type series struct {
	labelValues []string
	value       float64
	hist        *histogramSnapshot
}

// Sample is one value read at scrape time by a function registered with
// NewGaugeFunc.
type Sample struct {
	// LabelValues holds one value for each of the metric's label names,
	// in the same order.
	LabelValues []string
	Value       float64
}

var (
	metricName = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelName  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

// register adds f, panicking if its name or labels are invalid or its
// sample names are already in use.
func (r *Registry) register(f family, sampleNames ...string) {
	d := f.describe()
	if !metricName.MatchString(d.name) {
		panic(fmt.Sprintf("metrics: invalid metric name %q", d.name))
	}
	for i, l := range d.labels {
		if !labelName.MatchString(l) || len(l) >= 2 && l[:2] == "__" {
			panic(fmt.Sprintf("metrics: %s: invalid label name %q", d.name, l))
		}
		if slices.Contains(d.labels[:i], l) {
			panic(fmt.Sprintf("metrics: %s: label %q given twice", d.name, l))
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range sampleNames {
		if r.taken[n] {
			panic(fmt.Sprintf("metrics: %s: %s is already registered", d.name, n))
		}
	}
	for _, n := range sampleNames {
		r.taken[n] = true
	}
	r.families = append(r.families, f)
}

// NewCounterVec registers a counter: a value that only goes up, such as a
// number of requests. By convention its name ends in _total.
func (r *Registry) NewCounterVec(name, help string, labels ...string) *CounterVec {
	c := &CounterVec{newVec(desc{name, help, "counter", labels}, func() *Counter { return &Counter{} })}
	r.register(c, name)
	return c
}

// NewGaugeVec registers a gauge: a value that goes up and down, such as a
// number of entities.
func (r *Registry) NewGaugeVec(name, help string, labels ...string) *GaugeVec {
	g := &GaugeVec{newVec(desc{name, help, "gauge", labels}, func() *Gauge { return &Gauge{} })}
	r.register(g, name)
	return g
}

// NewHistogramVec registers a histogram of observations, such as durations
// in seconds, counted in buckets with the given upper bounds. The bounds
// must increase; the +Inf bucket is always added. "le" is not a valid
// label name because the buckets use it.
func (r *Registry) NewHistogramVec(name, help string, buckets []float64, labels ...string) *HistogramVec {
	bounds := slices.Clone(buckets)
	if n := len(bounds); n > 0 && math.IsInf(bounds[n-1], 1) {
		bounds = bounds[:n-1]
	}
	for i, b := range bounds {
		if math.IsNaN(b) || math.IsInf(b, 0) || i > 0 && b <= bounds[i-1] {
			panic(fmt.Sprintf("metrics: %s: buckets must be finite and increasing: %v", name, buckets))
		}
	}
	if slices.Contains(labels, "le") {
		panic(fmt.Sprintf("metrics: %s: \"le\" is reserved for histogram buckets", name))
	}
	h := &HistogramVec{newVec(desc{name, help, "histogram", labels}, func() *Histogram { return newHistogram(bounds) })}
	r.register(h, name, name+"_bucket", name+"_sum", name+"_count")
	return h
}

// DefaultBuckets returns histogram bounds for durations in seconds from
// one millisecond to ten seconds, suited to HTTP requests and database
// queries.
func DefaultBuckets() []float64 {
	return []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
}

// NewGaugeFunc registers a gauge whose values fn reads at every scrape,
// for values that live elsewhere, such as queue depths in the database.
// Each sample holds one value for each label name. If fn fails, the
// scrape leaves the gauge out and logs the error instead of failing.
func (r *Registry) NewGaugeFunc(name, help string, fn func(context.Context) ([]Sample, error), labels ...string) {
	r.register(&gaugeFunc{desc{name, help, "gauge", labels}, fn}, name)
}

// gaugeFunc is a gauge read by a function at scrape time.
type gaugeFunc struct {
	desc
	fn func(context.Context) ([]Sample, error)
}

func (g *gaugeFunc) collect(ctx context.Context) ([]series, error) {
	samples, err := g.fn(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]series, 0, len(samples))
	for _, s := range samples {
		if len(s.LabelValues) != len(g.labels) {
			return nil, fmt.Errorf("sample has %d label values for labels %q", len(s.LabelValues), g.labels)
		}
		out = append(out, series{labelValues: s.LabelValues, value: s.Value})
	}
	return out, nil
}

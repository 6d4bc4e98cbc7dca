package metrics

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// vec holds the series of one family, one per combination of label
// values, creating each on first use.
type vec[M any] struct {
	desc
	newM func() M

	mu     sync.RWMutex
	series map[string]*entry[M]
}

type entry[M any] struct {
	labelValues []string
	m           M
}

func newVec[M any](d desc, newM func() M) vec[M] {
	return vec[M]{desc: d, newM: newM, series: map[string]*entry[M]{}}
}

// with returns the series for values, which must hold one value per label.
func (v *vec[M]) with(values []string) M {
	if len(values) != len(v.labels) {
		panic(fmt.Sprintf("metrics: %s: got %d label values for labels %q", v.name, len(values), v.labels))
	}
	key := seriesKey(values)
	v.mu.RLock()
	e, ok := v.series[key]
	v.mu.RUnlock()
	if ok {
		return e.m
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if e, ok := v.series[key]; ok {
		return e.m
	}
	e = &entry[M]{labelValues: append([]string(nil), values...), m: v.newM()}
	v.series[key] = e
	return e.m
}

// seriesKey joins label values unambiguously, whatever bytes they hold.
func seriesKey(values []string) string {
	var b strings.Builder
	for _, s := range values {
		b.WriteString(strconv.Itoa(len(s)))
		b.WriteByte(':')
		b.WriteString(s)
	}
	return b.String()
}

// entries returns the current series.
func (v *vec[M]) entries() []*entry[M] {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := make([]*entry[M], 0, len(v.series))
	for _, e := range v.series {
		out = append(out, e)
	}
	return out
}

// CounterVec is a counter with labels; see Registry.NewCounterVec.
type CounterVec struct{ vec[*Counter] }

// With returns the counter for the given label values, one per label name
// in registration order. Keep the returned counter to skip the lookup on
// hot paths.
func (c *CounterVec) With(labelValues ...string) *Counter { return c.with(labelValues) }

func (c *CounterVec) collect(context.Context) ([]series, error) {
	var out []series
	for _, e := range c.entries() {
		out = append(out, series{labelValues: e.labelValues, value: e.m.v.load()})
	}
	return out, nil
}

// Counter is one series of a CounterVec.
type Counter struct{ v atomicFloat }

// Inc adds one.
func (c *Counter) Inc() { c.v.add(1) }

// Add adds v, which must not be negative: counters only go up.
func (c *Counter) Add(v float64) {
	if v < 0 {
		panic(fmt.Sprintf("metrics: counter decreased by %v", -v))
	}
	c.v.add(v)
}

// GaugeVec is a gauge with labels; see Registry.NewGaugeVec.
type GaugeVec struct{ vec[*Gauge] }

// With returns the gauge for the given label values, one per label name
// in registration order.
func (g *GaugeVec) With(labelValues ...string) *Gauge { return g.with(labelValues) }

func (g *GaugeVec) collect(context.Context) ([]series, error) {
	var out []series
	for _, e := range g.entries() {
		out = append(out, series{labelValues: e.labelValues, value: e.m.v.load()})
	}
	return out, nil
}

// Gauge is one series of a GaugeVec.
type Gauge struct{ v atomicFloat }

// Set sets the gauge to v.
func (g *Gauge) Set(v float64) { g.v.bits.Store(math.Float64bits(v)) }

// Add adds v, which may be negative.
func (g *Gauge) Add(v float64) { g.v.add(v) }

// HistogramVec is a histogram with labels; see Registry.NewHistogramVec.
type HistogramVec struct{ vec[*Histogram] }

// With returns the histogram for the given label values, one per label
// name in registration order.
func (h *HistogramVec) With(labelValues ...string) *Histogram { return h.with(labelValues) }

func (h *HistogramVec) collect(context.Context) ([]series, error) {
	var out []series
	for _, e := range h.entries() {
		out = append(out, series{labelValues: e.labelValues, hist: e.m.snapshot()})
	}
	return out, nil
}

// Histogram is one series of a HistogramVec.
type Histogram struct {
	bounds []float64 // shared by the family; read only

	// A mutex rather than atomics keeps a scrape's buckets, sum and count
	// consistent with each other.
	mu     sync.Mutex
	counts []uint64 // per bucket, not cumulative; the last is +Inf
	sum    float64
}

func newHistogram(bounds []float64) *Histogram {
	return &Histogram{bounds: bounds, counts: make([]uint64, len(bounds)+1)}
}

// Observe records one observation, such as a duration in seconds.
func (h *Histogram) Observe(v float64) {
	i := len(h.bounds)
	for j, b := range h.bounds {
		if v <= b {
			i = j
			break
		}
	}
	h.mu.Lock()
	h.counts[i]++
	h.sum += v
	h.mu.Unlock()
}

// histogramSnapshot is a histogram at one moment, with cumulative counts.
type histogramSnapshot struct {
	bounds     []float64
	cumulative []uint64 // one per bound, then +Inf, which is the count
	sum        float64
}

func (h *Histogram) snapshot() *histogramSnapshot {
	s := &histogramSnapshot{bounds: h.bounds, cumulative: make([]uint64, len(h.counts))}
	h.mu.Lock()
	defer h.mu.Unlock()
	var n uint64
	for i, c := range h.counts {
		n += c
		s.cumulative[i] = n
	}
	s.sum = h.sum
	return s
}

// atomicFloat is a float64 updated without locks.
type atomicFloat struct{ bits atomic.Uint64 }

func (f *atomicFloat) load() float64 { return math.Float64frombits(f.bits.Load()) }

func (f *atomicFloat) add(v float64) {
	for {
		old := f.bits.Load()
		if f.bits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			return
		}
	}
}

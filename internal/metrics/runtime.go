package metrics

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"time"
)

// RegisterRuntime registers the Go runtime and process metrics every
// Prometheus target is expected to have, under the names
// prometheus/client_golang uses so existing dashboards work:
// go_goroutines, go_memstats_heap_alloc_bytes, go_memstats_sys_bytes,
// go_gc_cycles_total, go_info and process_start_time_seconds, which is
// start, the time the process started as near as the caller knows it.
func (r *Registry) RegisterRuntime(start time.Time) {
	read := func(name string) func(context.Context) ([]Sample, error) {
		return func(context.Context) ([]Sample, error) {
			s := []metrics.Sample{{Name: name}}
			metrics.Read(s)
			switch s[0].Value.Kind() {
			case metrics.KindUint64:
				return []Sample{{Value: float64(s[0].Value.Uint64())}}, nil
			case metrics.KindFloat64:
				return []Sample{{Value: s[0].Value.Float64()}}, nil
			}
			return nil, fmt.Errorf("runtime metric %s is not supported by this Go version", name)
		}
	}
	r.NewGaugeFunc("go_goroutines", "Number of goroutines that currently exist.",
		read("/sched/goroutines:goroutines"))
	r.NewGaugeFunc("go_memstats_heap_alloc_bytes", "Number of heap bytes allocated and still in use.",
		read("/memory/classes/heap/objects:bytes"))
	r.NewGaugeFunc("go_memstats_sys_bytes", "Number of bytes obtained from the system.",
		read("/memory/classes/total:bytes"))
	r.register(&counterFunc{desc{"go_gc_cycles_total", "Number of completed GC cycles.", "counter", nil},
		read("/gc/cycles/total:gc-cycles")}, "go_gc_cycles_total")
	r.NewGaugeFunc("go_info", "Information about the Go environment.", func(context.Context) ([]Sample, error) {
		return []Sample{{LabelValues: []string{runtime.Version()}, Value: 1}}, nil
	}, "version")
	startSeconds := float64(start.UnixMilli()) / 1000
	r.NewGaugeFunc("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
		func(context.Context) ([]Sample, error) { return []Sample{{Value: startSeconds}}, nil })
}

// counterFunc is a counter read by a function at scrape time: a value the
// runtime counts, such as GC cycles.
type counterFunc gaugeFunc

func (c *counterFunc) collect(ctx context.Context) ([]series, error) {
	return (*gaugeFunc)(c).collect(ctx)
}

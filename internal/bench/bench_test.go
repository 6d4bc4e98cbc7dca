package bench

import (
	"context"
	"testing"
)

// BenchmarkIngest measures ingesting a 1,000-component organisation (about
// 1,800 entities) into a fresh database until it is queryable. The larger
// sizes the issue targets are `atrium bench ingest --components N`.
func BenchmarkIngest(b *testing.B) {
	for b.Loop() {
		rep, err := Ingest(context.Background(), IngestOptions{Components: 1000, Seed: 1, Dir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(rep.Entities)/rep.QueryableSeconds, "entities/s")
	}
}

// TestIngestAndQuery runs both benchmarks at a small size, so that the
// commands stay working: Ingest checks every entity arrived, Query that
// every request answers 200.
func TestIngestAndQuery(t *testing.T) {
	dir := t.TempDir()
	rep, err := Ingest(context.Background(), IngestOptions{Components: 50, Seed: 3, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Entities < 50 {
		t.Fatalf("ingested %d entities", rep.Entities)
	}
	res, err := Query(context.Background(), QueryOptions{Dir: dir, Iterations: 20, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 5 {
		t.Fatalf("got %d query results, want 5", len(res))
	}
	for _, r := range res {
		if r.P50 <= 0 || r.P99 < r.P50 {
			t.Errorf("%s: p50 %v, p99 %v", r.Name, r.P50, r.P99)
		}
	}
}

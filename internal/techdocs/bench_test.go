package techdocs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atrium-dev/atrium/internal/techdocs/build"
)

// benchPage is a realistic page: headings, prose, a table, code, an
// admonition, tabs, a task list and links; about 3 KB.
func benchPage(i int) string {
	return fmt.Sprintf(`---
title: Page %[1]d
description: Benchmark page %[1]d.
---
# Page %[1]d

The shipment service keeps **parcels** moving. See [the next page](../s%[2]d/p%[3]d.md) and
[the home page](../index.md#overview). Every term here is indexed for search.

## Configuration

| Key | Default | Meaning |
|---|---|---|
| `+"`relay.batch`"+` | 500 | Rows the relay publishes at once |
| `+"`relay.interval`"+` | 1s | How often it polls |
| `+"`http.port`"+` | 8080 | Where the API listens |

!!! warning "Before you change it"
    Changing the batch size changes the lag under load; measure first.

## Code

`+"```go"+`
func (r *Relay) Run(ctx context.Context) error {
	for {
		rows, err := r.store.Outbox(ctx, r.batch)
		if err != nil {
			return fmt.Errorf("read the outbox: %%w", err)
		}
		for _, row := range rows {
			r.publish(ctx, row)
		}
	}
}
`+"```"+`

=== "curl"

    `+"```bash"+`
    curl -s https://shipments.example/api/v1/shipments/%[1]d
    `+"```"+`

=== "CLI"

    `+"```bash"+`
    shipctl get %[1]d
    `+"```"+`

## Checklist

- [x] The relay runs
- [ ] Kafka accepts writes
- [ ] No row poisons the batch

Some more prose so the page has the length of a real one: the outbox is
drained in order, one batch after another, and a failed batch is retried
with backoff. Operators watch the lag metric and page when it grows.
`, i, (i+1)%50, (i+1)%20)
}

// BenchmarkBuild1000Pages builds a 1,000-page site (50 sections of 20
// pages) with the real renderer, as the local builder and atrium docs
// build do.
func BenchmarkBuild1000Pages(b *testing.B) {
	src := b.TempDir()
	files := map[string]string{"mkdocs.yml": "site_name: Bench\n", "docs/index.md": "# Home\n\n## Overview\n\nThe home page.\n"}
	for i := range 1000 {
		files[fmt.Sprintf("docs/s%d/p%d.md", i/20, i%20)] = benchPage(i)
	}
	for name, content := range files {
		p := filepath.Join(src, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	out := filepath.Join(b.TempDir(), "site")
	b.ResetTimer()
	for b.Loop() {
		res, err := build.Build(context.Background(), src, out, build.Options{Renderer: Renderer})
		if err != nil {
			b.Fatal(err)
		}
		if res.Pages != 1001 {
			b.Fatalf("%d pages", res.Pages)
		}
	}
}

// TestBenchPageRenders keeps the benchmark's page honest: it renders
// without warnings and with every feature.
func TestBenchPageRenders(t *testing.T) {
	p, err := Renderer([]byte(benchPage(7)), func(target string, image bool) string { return target })
	if err != nil {
		t.Fatal(err)
	}
	html := string(p.HTML)
	for _, want := range []string{"<table", "admonition warning", "tabbed-set", `type="checkbox"`, "chroma"} {
		if !strings.Contains(html, want) {
			t.Errorf("the bench page lacks %q", want)
		}
	}
	if len(p.Warnings) > 0 {
		t.Errorf("warnings: %v", p.Warnings)
	}
}

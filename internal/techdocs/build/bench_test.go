package build

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkBuild1000Pages builds a site of 1,000 pages of about 3 KB
// each, in 10×10 nested directories with an explicit nav, with the fake
// renderer: the builder's own cost (reading, link resolution, nav, HTML
// shells, JSON, writing), not Markdown rendering.
func BenchmarkBuild1000Pages(b *testing.B) {
	src := b.TempDir()
	writeBenchSite(b, src)
	out := filepath.Join(b.TempDir(), "site")
	opts := Options{Renderer: newFakeRenderer().Render, Etag: "bench"}
	b.ReportAllocs()
	for b.Loop() {
		res, err := Build(context.Background(), src, out, opts)
		if err != nil {
			b.Fatal(err)
		}
		if res.Pages != 1001 {
			b.Fatalf("pages = %d, want 1001", res.Pages)
		}
	}
}

func writeBenchSite(b *testing.B, src string) {
	var nav strings.Builder
	nav.WriteString("site_name: Bench\nnav:\n  - Home: index.md\n")
	write(b, src, "docs/index.md", "# Home\n\nWelcome. See [the first page](d0/s0/p0.md).\n")
	write(b, src, "docs/img/diagram.png", strings.Repeat("png", 1000))
	for d := range 10 {
		fmt.Fprintf(&nav, "  - Area %d:\n", d)
		for s := range 10 {
			fmt.Fprintf(&nav, "      - Topic %d.%d:\n", d, s)
			for p := range 10 {
				rel := fmt.Sprintf("d%d/s%d/p%d.md", d, s, p)
				fmt.Fprintf(&nav, "          - %s\n", rel)
				write(b, src, "docs/"+rel, benchPage(d, s, p))
			}
		}
	}
	write(b, src, "mkdocs.yml", nav.String())
}

// benchPage is a page of about 3 KB: a title, three sections, links to
// its neighbours, an image and a missing link.
func benchPage(d, s, p int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Page %d.%d.%d\n\n", d, s, p)
	para := strings.Repeat("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor. ", 4)
	for sec := range 3 {
		fmt.Fprintf(&b, "## Section %d\n\n", sec)
		fmt.Fprintf(&b, "%s See [next](p%d.md#section-1), [up](../../../index.md) and ![diagram](../../../img/diagram.png).\n\n", para, (p+1)%10)
		fmt.Fprintf(&b, "%s Also [the other area](../../d%d/s%d/p%d.md) and [nothing](gone.md).\n\n", para, (d+1)%10, s, p)
		b.WriteString(para + "\n\n")
	}
	return b.String()
}

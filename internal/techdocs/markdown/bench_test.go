package markdown

import (
	"os"
	"testing"
)

// BenchmarkRender renders testdata/all.md, a realistic ~5 KB page that uses
// every feature.
func BenchmarkRender(b *testing.B) {
	src, err := os.ReadFile("testdata/all.md")
	if err != nil {
		b.Fatal(err)
	}
	opts := Options{ResolveLink: testResolver}
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Render(src, opts); err != nil {
			b.Fatal(err)
		}
	}
}

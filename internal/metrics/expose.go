package metrics

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// ContentType is the media type of the Prometheus text exposition format
// that Handler writes.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// Handler returns the /metrics handler: every family in the text
// exposition format 0.0.4, families sorted by name and series by label
// values, so two scrapes of an idle process are identical. A function
// registered with NewGaugeFunc that fails is logged to log and left out
// of that scrape; the rest is still served.
func (r *Registry) Handler(log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var buf bytes.Buffer
		r.write(req.Context(), &buf, log)
		w.Header().Set("Content-Type", ContentType)
		w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
		_, _ = w.Write(buf.Bytes()) // the scraper went away; nothing to do
	})
}

// write writes every family to b.
func (r *Registry) write(ctx context.Context, b *bytes.Buffer, log *slog.Logger) {
	r.mu.Lock()
	families := slices.Clone(r.families)
	r.mu.Unlock()
	slices.SortFunc(families, func(a, b family) int { return cmp.Compare(a.describe().name, b.describe().name) })

	for _, f := range families {
		d := f.describe()
		ss, err := f.collect(ctx)
		if err == nil {
			err = checkDistinct(ss)
		}
		if err != nil {
			log.Error("metrics: collect failed; metric left out of this scrape", "metric", d.name, "err", err)
			continue
		}
		slices.SortFunc(ss, func(a, b series) int { return slices.Compare(a.labelValues, b.labelValues) })
		writeFamily(b, d, ss)
	}
}

// checkDistinct reports two series with the same label values, which
// Prometheus would reject the whole scrape for.
func checkDistinct(ss []series) error {
	seen := make(map[string]bool, len(ss))
	for _, s := range ss {
		k := seriesKey(s.labelValues)
		if seen[k] {
			return fmt.Errorf("two samples with label values %q", s.labelValues)
		}
		seen[k] = true
	}
	return nil
}

// writeFamily writes the HELP and TYPE lines of d and then its series.
func writeFamily(b *bytes.Buffer, d *desc, ss []series) {
	fmt.Fprintf(b, "# HELP %s %s\n", d.name, helpEscaper.Replace(d.help))
	fmt.Fprintf(b, "# TYPE %s %s\n", d.name, d.typ)
	for _, s := range ss {
		if s.hist == nil {
			writeSample(b, d.name, d.labels, s.labelValues, "", "", s.value)
			continue
		}
		h := s.hist
		for i, c := range h.cumulative {
			le := "+Inf"
			if i < len(h.bounds) {
				le = formatFloat(h.bounds[i])
			}
			writeSample(b, d.name+"_bucket", d.labels, s.labelValues, "le", le, float64(c))
		}
		writeSample(b, d.name+"_sum", d.labels, s.labelValues, "", "", h.sum)
		writeSample(b, d.name+"_count", d.labels, s.labelValues, "", "", float64(h.cumulative[len(h.cumulative)-1]))
	}
}

// writeSample writes one line: name, labels (and extra="extraValue" if
// extra is set) and value.
func writeSample(b *bytes.Buffer, name string, labels, values []string, extra, extraValue string, v float64) {
	b.WriteString(name)
	if len(labels) > 0 || extra != "" {
		b.WriteByte('{')
		for i, l := range labels {
			if i > 0 {
				b.WriteByte(',')
			}
			writeLabel(b, l, values[i])
		}
		if extra != "" {
			if len(labels) > 0 {
				b.WriteByte(',')
			}
			writeLabel(b, extra, extraValue)
		}
		b.WriteByte('}')
	}
	b.WriteByte(' ')
	b.WriteString(formatFloat(v))
	b.WriteByte('\n')
}

func writeLabel(b *bytes.Buffer, name, value string) {
	b.WriteString(name)
	b.WriteString(`="`)
	// The format is UTF-8; an invalid byte would make the scrape unparseable.
	b.WriteString(labelEscaper.Replace(strings.ToValidUTF8(value, "\uFFFD")))
	b.WriteByte('"')
}

var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

// formatFloat writes v as the exposition format spells numbers.
func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

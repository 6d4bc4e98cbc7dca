package config

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ProcessingInterval is catalog.processingInterval: how long an entity
// waits between two processing runs. Each wait is random in [Min, 1.5×Min]
// so that entities loaded together spread out, as in Backstage.
//
// It may be written in any form Backstage accepts:
//
//	processingInterval: { minutes: 3 }     # HumanDuration map
//	processingInterval: PT3M               # ISO 8601 duration
//	processingInterval: 3m                 # short form: ms, s, m, h, d, w, y
//	processingInterval: false              # never reprocess
//
// HumanDuration keys are years, months, weeks, days, hours, minutes,
// seconds and milliseconds; a month counts as 30 days and a year as 365.
type ProcessingInterval struct {
	// Disabled is true when the key is false: entities are processed once
	// when their location is added, then only on refresh.
	Disabled bool
	// Min is the shortest wait; the longest is 1.5×Min.
	Min time.Duration
}

// Range returns the bounds of the random wait, [Min, 1.5×Min].
func (p ProcessingInterval) Range() (lo, hi time.Duration) {
	return p.Min, p.Min + p.Min/2
}

// Next returns a wait in [Min, 1.5×Min] given r, a random number in
// [0, 1) (rand.Float64).
func (p ProcessingInterval) Next(r float64) time.Duration {
	lo, hi := p.Range()
	return lo + time.Duration(r*float64(hi-lo))
}

// String formats the interval as it could be written in the config.
func (p ProcessingInterval) String() string {
	if p.Disabled {
		return "false"
	}
	return p.Min.String()
}

// humanDurationUnits are HumanDuration's keys.
var humanDurationUnits = map[string]time.Duration{
	"years":        365 * 24 * time.Hour,
	"months":       30 * 24 * time.Hour,
	"weeks":        7 * 24 * time.Hour,
	"days":         24 * time.Hour,
	"hours":        time.Hour,
	"minutes":      time.Minute,
	"seconds":      time.Second,
	"milliseconds": time.Millisecond,
}

func (p *ProcessingInterval) decodeNode(d *decoder, n *node, path string) {
	switch {
	case n.kind == scalarNode && n.tag == "!!bool":
		if b, _ := d.boolean(n, path); b {
			d.fail(n, path, "expected a duration or false, found true")
			return
		}
		*p = ProcessingInterval{Disabled: true}
	case n.kind == scalarNode && strings.TrimSpace(n.value) == "false":
		*p = ProcessingInterval{Disabled: true}
	default:
		if dur, ok := decodeDuration(d, n, path, "a duration ({minutes: 3}, \"PT3M\" or \"3m\") or false"); ok {
			*p = ProcessingInterval{Min: dur}
		}
	}
}

// Duration is a length of time written in any form Backstage accepts: a
// HumanDuration map ({days: 30}), ISO 8601 ("P30D") or the short form
// ("30d", "12h").
type Duration time.Duration

func (p *Duration) decodeNode(d *decoder, n *node, path string) {
	if dur, ok := decodeDuration(d, n, path, "a duration ({days: 30}, \"P30D\" or \"30d\")"); ok {
		*p = Duration(dur)
	}
}

// decodeDuration decodes a duration in any of Duration's forms, reporting
// whether it succeeded; want describes the accepted forms in errors.
func decodeDuration(d *decoder, n *node, path, want string) (time.Duration, bool) {
	switch {
	case n.kind == mapNode:
		var total float64
		for _, k := range n.keys {
			unit, ok := humanDurationUnits[k]
			if !ok {
				d.fail(n.fields[k], joinPath(path, k), "unknown duration unit; use years, months, weeks, days, hours, minutes, seconds or milliseconds")
				return 0, false
			}
			f, ok := d.float(n.fields[k], joinPath(path, k))
			if !ok {
				return 0, false
			}
			total += f * float64(unit)
		}
		if len(n.keys) == 0 {
			d.fail(n, path, "expected a duration such as {minutes: 3}, found an empty map")
			return 0, false
		}
		if total > math.MaxInt64 {
			d.fail(n, path, "duration is too long")
			return 0, false
		}
		return time.Duration(total), true
	case n.kind == scalarNode && n.tag == "!!str":
		dur, err := ParseDuration(strings.TrimSpace(n.value))
		if err != nil {
			d.fail(n, path, "%v", err)
			return 0, false
		}
		return dur, true
	default:
		d.typeError(n, path, want)
		return 0, false
	}
}

var (
	isoDuration   = regexp.MustCompile(`^P(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)
	shortDuration = regexp.MustCompile(`^(\d+(?:\.\d+)?|\.\d+)\s*([a-zA-Z]*)$`)
)

// shortUnits are the units of the short form, as the "ms" library that
// Backstage uses spells them.
var shortUnits = map[string]time.Duration{
	"": time.Millisecond, "ms": time.Millisecond, "msec": time.Millisecond, "msecs": time.Millisecond,
	"millisecond": time.Millisecond, "milliseconds": time.Millisecond,
	"s": time.Second, "sec": time.Second, "secs": time.Second, "second": time.Second, "seconds": time.Second,
	"m": time.Minute, "min": time.Minute, "mins": time.Minute, "minute": time.Minute, "minutes": time.Minute,
	"h": time.Hour, "hr": time.Hour, "hrs": time.Hour, "hour": time.Hour, "hours": time.Hour,
	"d": 24 * time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour,
	"w": 7 * 24 * time.Hour, "week": 7 * 24 * time.Hour, "weeks": 7 * 24 * time.Hour,
	"y": 365 * 24 * time.Hour, "yr": 365 * 24 * time.Hour, "yrs": 365 * 24 * time.Hour,
	"year": 365 * 24 * time.Hour, "years": 365 * 24 * time.Hour,
}

// ParseDuration parses a duration written as ISO 8601 ("PT3M", "P1DT2H"),
// as one number and unit ("3m", "90 seconds", "1.5h"), or in Go's form
// ("1h30m").
func ParseDuration(s string) (time.Duration, error) {
	if m := isoDuration.FindStringSubmatch(s); m != nil && s != "P" && !strings.HasSuffix(s, "T") {
		units := []time.Duration{365 * 24 * time.Hour, 30 * 24 * time.Hour, 7 * 24 * time.Hour, 24 * time.Hour, time.Hour, time.Minute, time.Second}
		var total float64
		for i, u := range units {
			if m[i+1] == "" {
				continue
			}
			f, _ := strconv.ParseFloat(m[i+1], 64)
			total += f * float64(u)
		}
		if total > math.MaxInt64 {
			return 0, fmt.Errorf("duration %q is too long", s)
		}
		return time.Duration(total), nil
	}
	if m := shortDuration.FindStringSubmatch(s); m != nil {
		if u, ok := shortUnits[strings.ToLower(m[2])]; ok {
			f, _ := strconv.ParseFloat(m[1], 64)
			if f*float64(u) > math.MaxInt64 {
				return 0, fmt.Errorf("duration %q is too long", s)
			}
			return time.Duration(f * float64(u)), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return d, nil
	}
	return 0, fmt.Errorf("expected a duration such as \"PT3M\", \"3m\" or {minutes: 3}, found %q", s)
}

package audit

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// memStore is the part of Store that History and EntityAt read.
type memStore struct {
	Store
	events []Event
	base   *Base
}

func (m *memStore) EntityVersions(_ context.Context, ref string, at time.Time) ([]Event, error) {
	var out []Event
	for _, e := range m.events {
		if e.Target == ref && (at.IsZero() || !e.Time.After(at)) {
			out = append(out, e)
		}
	}
	return out, nil
}

func (m *memStore) AuditBase(context.Context, string) (Base, bool, error) {
	if m.base == nil {
		return Base{}, false, nil
	}
	return *m.base, true, nil
}

func TestReplay(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	ev := func(seq int64, action, diff string) Event {
		return Event{Seq: seq, Time: t0.Add(time.Duration(seq) * time.Hour), Action: action, Target: "component:default/a",
			Diff: json.RawMessage(diff), Actor: SystemProcessing}
	}
	v1 := `{"metadata":{"etag":"e1","name":"a"},"spec":{"owner":"x"}}`
	update := `[{"op":"test","path":"/metadata/etag","value":"e1"},{"op":"replace","path":"/metadata/etag","value":"e2"},{"op":"replace","path":"/spec/owner","value":"y"}]`
	tests := []struct {
		name string
		base *Base
		evs  []Event
		at   time.Duration // EntityAt t0+at
		want string        // "" = ErrNoVersion
		gaps []bool        // Gap of each version, oldest first; nil: not checked
	}{
		{name: "created then updated", evs: []Event{ev(1, EntityCreated, `[{"op":"add","path":"","value":`+v1+`}]`), ev(2, EntityUpdated, update)},
			at: 3 * time.Hour, want: `{"metadata":{"etag":"e2","name":"a"},"spec":{"owner":"y"}}`, gaps: []bool{false, false}},
		{name: "before it existed", evs: []Event{ev(1, EntityCreated, `[{"op":"add","path":"","value":`+v1+`}]`)},
			at: 0, want: "", gaps: []bool{false}},
		{name: "deleted", evs: []Event{ev(1, EntityCreated, `[{"op":"add","path":"","value":`+v1+`}]`), ev(2, EntityDeleted, `[{"op":"remove","path":""}]`)},
			at: 3 * time.Hour, want: "", gaps: []bool{false, false}},
		{name: "from a base", base: &Base{Seq: 1, Time: t0.Add(time.Hour), Entity: json.RawMessage(v1)}, evs: []Event{ev(2, EntityUpdated, update)},
			at: 2 * time.Hour, want: `{"metadata":{"etag":"e2","name":"a"},"spec":{"owner":"y"}}`, gaps: []bool{false, false}},
		{name: "before the base", base: &Base{Seq: 1, Time: t0.Add(time.Hour), Entity: json.RawMessage(v1)},
			at: 30 * time.Minute, want: "", gaps: nil},
		{name: "an unrecorded change is a gap until the next creation",
			evs: []Event{
				ev(1, EntityCreated, `[{"op":"add","path":"","value":`+v1+`}]`),
				ev(2, EntityUpdated, `[{"op":"test","path":"/metadata/etag","value":"e9"},{"op":"replace","path":"/spec/owner","value":"z"}]`),
				ev(3, EntityDeleted, `[{"op":"remove","path":""}]`),
				ev(4, EntityCreated, `[{"op":"add","path":"","value":`+v1+`}]`),
			},
			at: 2 * time.Hour, want: "", gaps: []bool{false, true, false, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &memStore{events: tt.evs, base: tt.base}
			ctx := context.Background()
			got, err := EntityAt(ctx, st, "component:default/a", t0.Add(tt.at))
			switch {
			case tt.want == "" && !errors.Is(err, ErrNoVersion):
				t.Errorf("EntityAt = %s, %v; want ErrNoVersion", got, err)
			case tt.want != "" && (err != nil || string(got) != tt.want):
				t.Errorf("EntityAt = %s, %v; want %s", got, err, tt.want)
			}
			hist, err := History(ctx, st, "component:default/a")
			if err != nil {
				t.Fatal(err)
			}
			var gaps []bool
			for i := len(hist) - 1; i >= 0; i-- {
				gaps = append(gaps, hist[i].Gap)
			}
			if tt.gaps != nil && !cmp.Equal(gaps, tt.gaps) {
				t.Errorf("gaps oldest first = %v, want %v", gaps, tt.gaps)
			}
			if tt.base != nil && (len(hist) == 0 || hist[len(hist)-1].Action != Baseline) {
				t.Errorf("history from a base does not start with a %s version: %+v", Baseline, hist)
			}
		})
	}
}

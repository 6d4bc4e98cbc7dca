package audit

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// marshalledCanonical is the form events were hashed over before
// canonicalForm wrote it piece by piece: the whole event as one struct
// through encoding/json. Hashes in existing logs were computed over it, so
// the two must agree byte for byte.
func marshalledCanonical(e *Event) ([]byte, error) {
	type canonical struct {
		Seq      int64           `json:"seq"`
		Time     int64           `json:"timeUs"`
		Actor    string          `json:"actor"`
		Action   string          `json:"action"`
		Target   string          `json:"target"`
		Outcome  Outcome         `json:"outcome"`
		Error    string          `json:"error"`
		Severity Severity        `json:"severity"`
		Request  *Request        `json:"request"`
		Diff     json.RawMessage `json:"diff"`
		PrevHash string          `json:"prevHash"`
	}
	c := canonical{Seq: e.Seq, Time: e.Time.UnixMicro(), Actor: e.Actor.String(), Action: e.Action,
		Target: e.Target, Outcome: e.Outcome, Error: e.Error, Severity: e.Severity, Request: e.Request,
		Diff: e.Diff, PrevHash: e.PrevHash}
	if len(c.Diff) == 0 {
		c.Diff = json.RawMessage("null")
	}
	return json.Marshal(c)
}

func canonicalTestEvent(diff string) Event {
	return Event{Seq: 42, Time: time.Date(2026, 11, 27, 1, 2, 3, 456789000, time.UTC), Actor: System("catalog-processing"),
		Action: EntityUpdated, Target: "component:default/<b>&co", Outcome: Succeeded, Error: "line\u2028two",
		Severity: Low, Request: &Request{ID: "r1", Method: "POST", Route: "/entities", IP: "10.0.0.1", UserAgent: "curl <x>"},
		Diff: json.RawMessage(diff), PrevHash: strings.Repeat("ab", 32)}
}

func TestCanonicalFormMatchesMarshalledStruct(t *testing.T) {
	for _, diff := range []string{
		``,
		`null`,
		`[]`,
		`[{"op":"add","path":"","value":{"kind":"Component","metadata":{"name":"a"}}}]`,
		"[ {\"op\" : \"replace\",\n\t\"path\":\"/spec/x\", \"value\": \"<script>&\u2028\"} ]",
		`[{"op":"add","path":"/a","value":"\u003c already escaped \u0026"}]`,
		`{"not":"a patch, but JSON"}`,
	} {
		e := canonicalTestEvent(diff)
		want, wantErr := marshalledCanonical(&e)
		got, err := canonicalForm(&e)
		if (err != nil) != (wantErr != nil) || !bytes.Equal(got, want) {
			t.Errorf("diff %q:\n got %s (err %v)\nwant %s (err %v)", diff, got, err, want, wantErr)
		}
		// Without a request, and with a diff set through Canonicalize.
		e.Request = nil
		if diff != "" {
			c, err := Canonicalize(e.Diff)
			if err != nil {
				t.Fatal(err)
			}
			e.SetDiff(c)
		}
		want, _ = marshalledCanonical(&e)
		if got, _ := canonicalForm(&e); !bytes.Equal(got, want) {
			t.Errorf("diff %q set canonical:\n got %s\nwant %s", diff, got, want)
		}
	}
}

func TestCanonicalFormRejectsInvalidDiffs(t *testing.T) {
	for _, diff := range []string{`[`, `{"a":}`, `[1] [2]`, "\xff"} {
		e := canonicalTestEvent(diff)
		if _, err := ComputeHash(&e); err == nil {
			t.Errorf("diff %q: hashed, want an error", diff)
		}
		if _, err := Canonicalize(json.RawMessage(diff)); err == nil {
			t.Errorf("diff %q: canonicalized, want an error", diff)
		}
	}
}

// TestReplacedDiffIsCheckedAgain: a diff assigned after SetDiff is not
// taken as canonical.
func TestReplacedDiffIsCheckedAgain(t *testing.T) {
	e := canonicalTestEvent("")
	c, err := Canonicalize(json.RawMessage(`[]`))
	if err != nil {
		t.Fatal(err)
	}
	e.SetDiff(c)
	e.Diff = json.RawMessage(`[ ]`)
	want, _ := marshalledCanonical(&e)
	if got, _ := canonicalForm(&e); !bytes.Equal(got, want) {
		t.Errorf("got %s, want %s", got, want)
	}
	e.Diff = json.RawMessage(`[`)
	if _, err := ComputeHash(&e); err == nil {
		t.Error("an invalid diff assigned after SetDiff was hashed")
	}
}

func FuzzCanonicalForm(f *testing.F) {
	f.Add(`[{"op":"add","path":"","value":{"a":"<&>"}}]`, "component:default/x", "err", "ab")
	f.Add("[ 1 ,\n2 ]", "", "\u2029", "")
	f.Add(`{"a"`, "x", "", "")
	f.Fuzz(func(t *testing.T, diff, target, errText, prev string) {
		e := canonicalTestEvent(diff)
		e.Target, e.Error, e.PrevHash = target, errText, prev
		want, wantErr := marshalledCanonical(&e)
		got, err := canonicalForm(&e)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("error %v, marshalling the struct: %v", err, wantErr)
		}
		if err == nil && !bytes.Equal(got, want) {
			t.Fatalf("got %s\nwant %s", got, want)
		}
		if c, err := Canonicalize(e.Diff); err == nil && diff != "" {
			e.SetDiff(c)
			if got, _ := canonicalForm(&e); !bytes.Equal(got, want) {
				t.Fatalf("canonicalized: got %s\nwant %s", got, want)
			}
		}
	})
}

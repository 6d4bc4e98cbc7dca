package filter

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// scanCases are documents the byte scanner must flatten exactly as
// decoding does, or leave to decoding.
var scanCases = []string{
	`{"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"name":"Svc","namespace":"Ops","uid":"u","etag":"e","tags":["Go","go","java"],"annotations":{"a/b":"C"}},"spec":{"type":"service","n":[1,2.5,-0,1e3,null,true,false,"x"],"deep":[[["a"]],{"k":["v"]}]},"relations":[{"type":"ownedBy","targetRef":"group:default/a"},{"type":"","targetRef":"x"},{"targetRef":"y"},"s",[1],{"type":"t","targetRef":"z","extra":{"q":1}}],"status":{"items":[]}}`,
	`{"metadata":{"name":"e\u00e9\ud83d\ude00\n\"q\"","description":"tab\tand \\ slash \/"},"kind":"Component"}`,
	`{"metadata":{"name":"dup","name":"second"}}`,
	`{"kind":"A","kind":"B"}`,
	`{"":{"relations":[{"type":"x","targetRef":"y"}],"metadata":{"name":"inner"},"k":"v"},"":1}`,
	`{"":{"relations":[{"type":"x","targetRef":"y"}],"metadata":{"name":"inner"},"k":"v"}}`,
	`{"metadata":"not an object","relations":"nope"}`,
	`{"metadata":{"namespace":null,"name":7,"uid":["u"]}}`,
	`{"metadata":null}`,
	`{"spec":{"big":1e400}}`,
	`{"spec":{"n":01}}`,
	`{"spec":{"n":-}}`,
	`{"spec":{"n":1.}}`,
	`{"spec":{"n":.5}}`,
	`{"spec":{"s":"bad \x01 control"}}`,
	"{\"spec\":{\"s\":\"invalid \xff utf8\"}}",
	`{"spec":{"s":"bad escape \q"}}`,
	`{"spec":{"s":"lone surrogate \ud800"}}`,
	`{"a":1,}`,
	`{"a":[1,]}`,
	`{"a":1} trailing`,
	` { "a" : [ 1 , { "b" : "c" } ] } `,
	`null`,
	`[]`,
	`"x"`,
	`{"Relations":[{"type":"x","targetRef":"y"}],"Metadata":{"Name":"n"},"metadata.name":"flat"}`,
	`{"spec":{"` + strings.Repeat("k", 300) + `":"long key","v":"` + strings.Repeat("v", 300) + `"}}`,
	strings.Repeat(`{"a":`, 70) + `"deep"` + strings.Repeat(`}`, 70),
	`{"a":` + strings.Repeat(`[`, 70) + `"deep"` + strings.Repeat(`]`, 70) + `}`,
	strings.Repeat(`{"a":`, 1200) + `1` + strings.Repeat(`}`, 1200),
	`{"spec":{"members":["A","a","B"],"x":{"y":{"z":true}}}}`,
	``,
	`{`,
	`{"a":"unterminated`,
	`{"a":tru}`,
}

func TestScanRowsAgreesWithDecoding(t *testing.T) {
	fellBack := 0
	for _, body := range scanCases {
		if !checkScan(t, []byte(body)) {
			fellBack++
		}
	}
	if fellBack == len(scanCases) {
		t.Fatal("the scanner fell back on every case")
	}
	if fellBack < 10 {
		t.Errorf("the scanner fell back on %d cases; the invalid ones alone are more", fellBack)
	}
}

// checkScan compares the scanner with decoding on body and reports whether
// the scanner answered itself.
func checkScan(t *testing.T, body []byte) bool {
	t.Helper()
	want, wantErr := decodeRows(body)
	got, err := scanRows(body)
	if err == errFallBack {
		rows, err := SearchRows(body)
		if (err != nil) != (wantErr != nil) || !cmp.Equal(rows, want) {
			t.Errorf("SearchRows(%.80q) = %v, %v after falling back; decoding gives %v, %v", body, rows, err, want, wantErr)
		}
		return false
	}
	if err != nil {
		t.Errorf("scanRows(%.80q) failed with %v, not errFallBack", body, err)
		return true
	}
	if wantErr != nil {
		t.Errorf("scanRows(%.80q) answered %v where decoding fails: %v", body, got, wantErr)
		return true
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("scanRows(%.80q) (-decoded +scanned):\n%s", body, diff)
	}
	return true
}

func FuzzScanRows(f *testing.F) {
	for _, c := range scanCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > 1<<16 {
			return
		}
		checkScan(t, body)
	})
}

// BenchmarkSearchRows flattens a typical final entity, by the scanner and
// by decoding.
func BenchmarkSearchRows(b *testing.B) {
	body := []byte(scanCases[0])
	b.Run("scan", func(b *testing.B) {
		for b.Loop() {
			if _, err := SearchRows(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		for b.Loop() {
			if _, err := decodeRows(body); err != nil {
				b.Fatal(err)
			}
		}
	})
}

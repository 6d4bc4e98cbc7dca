package derrors

import "testing"

func TestEveryErrorKindHasABackstageName(t *testing.T) {
	for _, k := range Kinds() {
		if BackstageName(k) == "Error" {
			t.Errorf("no Backstage error name for %v", k)
		}
	}
	if BackstageName(nil) != "Error" {
		t.Errorf("BackstageName(nil) = %q, want Error", BackstageName(nil))
	}
}

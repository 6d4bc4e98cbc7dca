package api

import (
	"testing"

	"github.com/atrium-dev/atrium/internal/derrors"
)

func TestEveryErrorKindHasAName(t *testing.T) {
	for _, k := range derrors.Kinds() {
		if errorNames[k] == "" {
			t.Errorf("no Backstage error name for %v", k)
		}
	}
}

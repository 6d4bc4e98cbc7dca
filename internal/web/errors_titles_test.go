package web

import (
	"testing"

	"github.com/atrium-dev/atrium/internal/derrors"
)

func TestEveryErrorKindHasATitle(t *testing.T) {
	for _, k := range derrors.Kinds() {
		if errorTitles[k] == "" {
			t.Errorf("no page heading for %v", k)
		}
	}
}

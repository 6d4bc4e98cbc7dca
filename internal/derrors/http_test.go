package derrors

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantKind   error
		wantStatus int
		wantMsg    string
	}{
		{"public message", NotFound("No entity named x"), ErrNotFound, http.StatusNotFound, "No entity named x"},
		{"wrapped", fmt.Errorf("load: %w", Invalid("bad filter")), ErrInvalid, http.StatusBadRequest, "bad filter"},
		{"bare kind", fmt.Errorf("lookup: %w", ErrConflict), ErrConflict, http.StatusConflict, "conflict"},
		{"unknown", errors.New("disk on fire"), nil, http.StatusInternalServerError, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Classify(tt.err)
			if c.Kind != tt.wantKind || c.Status != tt.wantStatus || c.Message != tt.wantMsg {
				t.Errorf("Classify = %v, %d, %q; want %v, %d, %q", c.Kind, c.Status, c.Message, tt.wantKind, tt.wantStatus, tt.wantMsg)
			}
		})
	}
	for _, k := range Kinds() {
		if got := Classify(k).Kind; got != k {
			t.Errorf("Classify(%v) = kind %v", k, got)
		}
	}
}

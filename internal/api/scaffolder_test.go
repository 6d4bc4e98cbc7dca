package api

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestScaffolderActions(t *testing.T) {
	h := NewScaffolderHandler(nil, nil, slog.New(slog.DiscardHandler))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, ScaffolderPrefix+"/actions", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	var got []actionInfo
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	byID := map[string]actionInfo{}
	for _, a := range got {
		byID[a.ID] = a
	}
	for _, id := range []string{"fetch:plain", "fetch:template", "fs:delete", "fs:rename", "debug:log"} {
		a, ok := byID[id]
		if !ok {
			t.Errorf("GET /actions lacks %s", id)
			continue
		}
		if len(a.Schema.Input) == 0 || len(a.Examples) == 0 {
			t.Errorf("%s has no input schema or no example", id)
		}
	}
	for i := 1; i < len(got); i++ {
		if got[i-1].ID >= got[i].ID {
			t.Errorf("actions not sorted: %s before %s", got[i-1].ID, got[i].ID)
		}
	}
}

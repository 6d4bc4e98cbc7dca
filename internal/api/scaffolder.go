package api

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/atrium-dev/atrium/internal/scaffolder/action"
)

// ScaffolderPrefix is where the app mounts the scaffolder API, at
// Backstage's version 2 paths.
const ScaffolderPrefix = "/api/scaffolder/v2"

// scaffolderHandler serves /api/scaffolder/v2.
type scaffolderHandler struct{}

// NewScaffolderHandler returns the handler for Backstage's scaffolder API.
// So far it lists the registered actions.
func NewScaffolderHandler(logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.Default()
	}
	h := &scaffolderHandler{}
	return newPrefixRouter(ScaffolderPrefix, &errorAdapter{logger: logger}, h.routeTable())
}

// routeTable is the scaffolder API's route table.
func (h *scaffolderHandler) routeTable() []route {
	return []route{
		{"GET /actions", h.getActions},
	}
}

// actionInfo is one action as Backstage's GET /v2/actions lists it.
type actionInfo struct {
	ID          string `json:"id"`
	Description string `json:"description,omitempty"`
	Schema      struct {
		Input  json.RawMessage `json:"input,omitempty"`
		Output json.RawMessage `json:"output,omitempty"`
	} `json:"schema"`
	Examples []actionExample `json:"examples,omitempty"`
}

type actionExample struct {
	Description string `json:"description"`
	Example     string `json:"example"`
}

// getActions serves GET /actions: every registered action with its input
// and output schemas and examples, sorted by id.
func (h *scaffolderHandler) getActions(w http.ResponseWriter, r *http.Request) error {
	if _, err := queryParams(r); err != nil {
		return err
	}
	actions := action.List()
	out := make([]actionInfo, 0, len(actions))
	for _, a := range actions {
		info := actionInfo{ID: a.ID, Description: a.Description}
		info.Schema.Input, info.Schema.Output = a.Input, a.Output
		for _, e := range a.Examples {
			info.Examples = append(info.Examples, actionExample{Description: e.Description, Example: e.Example})
		}
		out = append(out, info)
	}
	return writeJSON(w, http.StatusOK, out)
}

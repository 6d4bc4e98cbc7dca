package action

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/atrium-dev/atrium/internal/derrors"
	"github.com/atrium-dev/atrium/internal/scaffolder/workspace"
)

// fakeCatalog holds entities by lowercase ref and records registrations.
type fakeCatalog struct {
	entities   map[string]string
	registered []string
	err        error
}

func (f *fakeCatalog) EntityByRef(_ context.Context, ref string) (json.RawMessage, error) {
	if b, ok := f.entities[ref]; ok {
		return json.RawMessage(b), nil
	}
	return nil, derrors.NotFound("no %s", ref)
}

func (f *fakeCatalog) RegisterLocation(_ context.Context, target string) ([]string, error) {
	if f.err != nil {
		return nil, f.err
	}
	f.registered = append(f.registered, target)
	return []string{"location:default/generated-1", "component:default/new-service"}, nil
}

func TestCatalogWrite(t *testing.T) {
	e := newEnv(t, nil, workspace.Limits{})
	err := e.run(t, "catalog:write", map[string]any{"filePath": "service/catalog-info.yaml", "entity": map[string]any{
		"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
		"metadata": map[string]any{"name": "new-service"},
		"spec":     map[string]any{"type": "service", "owner": "group:default/team-a"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	got := e.tree(t)["service/catalog-info.yaml"]
	for _, w := range []string{"kind: Component", "name: new-service", "owner: group:default/team-a"} {
		if !strings.Contains(got, w) {
			t.Errorf("catalog-info.yaml lacks %q:\n%s", w, got)
		}
	}
	if err := e.run(t, "catalog:write", map[string]any{"filePath": "../x.yaml", "entity": map[string]any{}}); err == nil {
		t.Error("catalog:write escaped the workspace")
	}
}

func TestCatalogRegister(t *testing.T) {
	e := newEnv(t, nil, workspace.Limits{})
	cat := &fakeCatalog{}
	e.rc.Catalog = cat
	if err := e.run(t, "catalog:register", map[string]any{"repoContentsUrl": "https://git.example/o/r/tree/main/"}); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"catalogInfoUrl": "https://git.example/o/r/tree/main/catalog-info.yaml", "entityRef": "component:default/new-service"}
	if diff := cmp.Diff(want, e.outputs); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"https://git.example/o/r/tree/main/catalog-info.yaml"}, cat.registered); diff != "" {
		t.Errorf("registered (-want +got):\n%s", diff)
	}
	cat.err = derrors.Conflict("Location already exists")
	if err := e.run(t, "catalog:register", map[string]any{"catalogInfoUrl": "https://x/y.yaml"}); !errors.Is(err, derrors.ErrConflict) {
		t.Errorf("a failing registration: %v", err)
	}
	if err := e.run(t, "catalog:register", map[string]any{"catalogInfoUrl": "https://x/y.yaml", "optional": true}); err != nil {
		t.Errorf("an optional failing registration: %v", err)
	}
	if err := e.run(t, "catalog:register", map[string]any{}); !errors.Is(err, derrors.ErrInvalid) {
		t.Errorf("no url: %v", err)
	}
	e.rc.Catalog = nil
	if err := e.run(t, "catalog:register", map[string]any{"catalogInfoUrl": "https://x/y.yaml"}); !errors.Is(err, derrors.ErrUnavailable) {
		t.Errorf("without a catalog: %v", err)
	}
}

func TestCatalogFetch(t *testing.T) {
	e := newEnv(t, nil, workspace.Limits{})
	e.rc.Catalog = &fakeCatalog{entities: map[string]string{"group:default/team-a": `{"kind":"Group","metadata":{"name":"team-a"}}`}}
	if err := e.run(t, "catalog:fetch", map[string]any{"entityRef": "team-a", "defaultKind": "group"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.outputs["entity"].(map[string]any); got["kind"] != "Group" {
		t.Errorf("entity output = %v", e.outputs["entity"])
	}
	if err := e.run(t, "catalog:fetch", map[string]any{"entityRefs": []any{"group:team-a", "group:missing"}, "optional": true}); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.outputs["entities"].([]any); len(got) != 2 || got[1] != nil {
		t.Errorf("entities output = %v, want the group and a null", e.outputs["entities"])
	}
	if err := e.run(t, "catalog:fetch", map[string]any{"entityRef": "group:missing"}); !errors.Is(err, derrors.ErrNotFound) {
		t.Errorf("a missing entity: %v", err)
	}
}

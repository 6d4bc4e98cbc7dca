package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atrium-dev/atrium/internal/app"
	"github.com/atrium-dev/atrium/internal/config"
	"github.com/atrium-dev/atrium/internal/scaffolder/gittest"
)

const e2eTemplate = `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: tiny-service
  title: Tiny service
spec:
  owner: group:default/team-a
  type: service
  parameters:
    - title: About
      required: [name]
      properties:
        name: {type: string}
  steps:
    - id: fetch
      action: fetch:template
      input:
        url: ./skeleton
        values:
          name: ${{ parameters.name }}
    - id: publish
      action: publish:git
      input:
        repoUrl: REPO_URL
        gitCommitMessage: Create ${{ parameters.name }}
    - id: register
      action: catalog:register
      input:
        catalogInfoUrl: CATALOG_URL
  output:
    links:
      - title: Repository
        url: ${{ steps.publish.output.remoteUrl }}
      - title: In the catalog
        entityRef: ${{ steps.register.output.entityRef }}
`

// TestTemplateEndToEnd runs a template through the scaffolder's HTTP API:
// it renders a skeleton, publishes it to a real git server (git
// http-backend), registers the result, and the new component is in the
// catalog; the live event stream ends with the completion.
func TestTemplateEndToEnd(t *testing.T) {
	git := gittest.NewServer(t)
	repo := git.NewBareRepo(t, "tiny.git")

	dir := t.TempDir()
	tmplDir := filepath.Join(dir, "templates", "tiny")
	if err := os.MkdirAll(filepath.Join(tmplDir, "skeleton"), 0o755); err != nil {
		t.Fatal(err)
	}
	// The registered catalog file is served over HTTP, as a git host
	// would; its content is what the skeleton renders.
	catalogFile := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: tiny-one}\n"+
			"spec: {type: service, lifecycle: experimental, owner: group:default/team-a}\n")
	}))
	defer catalogFile.Close()
	tmpl := strings.NewReplacer("REPO_URL", repo, "CATALOG_URL", catalogFile.URL+"/catalog-info.yaml").Replace(e2eTemplate)
	files := map[string]string{
		"template.yaml":                   tmpl,
		"skeleton/catalog-info.yaml":      "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: ${{ values.name }}}\n",
		"skeleton/README.md":              "# ${{ values.name }}\n",
		"skeleton/{% raw %}x{% endraw %}": "raw\n",
	}
	delete(files, "skeleton/{% raw %}x{% endraw %}")
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(tmplDir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := config.Default()
	cfg.Backend.Database = config.Database{Client: config.ClientSQLite, Connection: config.DatabaseConnection{Directory: dir}}
	cfg.Catalog.Locations = []config.Location{{Type: "file", Target: filepath.Join(tmplDir, "template.yaml")}}
	cfg.Backend.Reading.AllowPrivateNetworks = true
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	a, err := app.New(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if err := a.Catalog.SyncConfigLocations(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Catalog.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	go a.RunWorkersForTest(ctx)

	resp, err := http.Post(srv.URL+"/api/scaffolder/v2/tasks", "application/json",
		strings.NewReader(`{"templateRef":"template:default/tiny-service","values":{"name":"tiny-one"}}`))
	if err != nil {
		t.Fatal(err)
	}
	var created struct{ ID string }
	json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || created.ID == "" {
		t.Fatalf("POST /tasks: %d %+v", resp.StatusCode, created)
	}

	// The event stream delivers the log live and ends with the completion.
	resp, err = http.Get(srv.URL + "/api/scaffolder/v2/tasks/" + created.ID + "/eventstream")
	if err != nil {
		t.Fatal(err)
	}
	var events []string
	var completion map[string]any
	sc := bufio.NewScanner(resp.Body)
	deadline := time.AfterFunc(60*time.Second, func() { resp.Body.Close() })
	for sc.Scan() {
		line := sc.Text()
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			var e struct {
				Type string
				Body map[string]any
			}
			json.Unmarshal([]byte(data), &e)
			events = append(events, e.Type)
			if e.Type == "completion" {
				completion = e.Body
			}
		}
	}
	deadline.Stop()
	resp.Body.Close()
	if completion == nil {
		t.Fatalf("the event stream ended without a completion: %v", events)
	}
	var task struct{ Status string }
	getJSONAt(t, srv.URL+"/api/scaffolder/v2/tasks/"+created.ID, &task)
	if task.Status != "completed" {
		var evs []struct{ Body map[string]any }
		getJSONAt(t, srv.URL+"/api/scaffolder/v2/tasks/"+created.ID+"/events", &evs)
		t.Fatalf("task %s, log: %+v", task.Status, evs)
	}
	// The repository holds the rendered skeleton in one commit.
	clone := git.Clone(t, "tiny.git")
	readme, err := os.ReadFile(filepath.Join(clone, "README.md"))
	if err != nil || string(readme) != "# tiny-one\n" {
		t.Errorf("README.md in the new repository = %q, %v", readme, err)
	}
	if log := git.Git(t, clone, "log", "--format=%s"); strings.TrimSpace(log) != "Create tiny-one" {
		t.Errorf("git log = %q", log)
	}
	// And the new component is in the catalog.
	if err := a.Catalog.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	resp, err = http.Get(srv.URL + "/api/catalog/entities/by-name/component/default/tiny-one")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the new component: %d, want it in the catalog", resp.StatusCode)
	}
	if out, _ := json.Marshal(completion); !strings.Contains(string(out), "component:default/tiny-one") {
		t.Errorf("the completion's output lacks the new entity: %s", out)
	}
}

func getJSONAt(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

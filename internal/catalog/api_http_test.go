package catalog_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/atrium-dev/atrium/internal/api"
	"github.com/atrium-dev/atrium/internal/catalog"
	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/store/storetest"
)

// serve puts the real catalog handler over the env's service.
func (e *env) serve() *httptest.Server {
	e.t.Helper()
	srv := httptest.NewServer(api.NewCatalogHandler(e.svc, slog.New(slog.DiscardHandler), api.Options{}))
	e.t.Cleanup(srv.Close)
	return srv
}

func call(t *testing.T, srv *httptest.Server, method, path, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL+"/api/catalog"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// remoteCatalog serves catalog files over HTTP; files can be changed.
type remoteCatalog struct {
	srv   *httptest.Server
	files atomic.Pointer[map[string]string]
}

func newRemote(t *testing.T, files map[string]string) *remoteCatalog {
	rc := &remoteCatalog{}
	rc.files.Store(&files)
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := (*rc.files.Load())[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, body)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *remoteCatalog) url(path string) string { return rc.srv.URL + path }

type addLocationResponse struct {
	Location catalog.Location `json:"location"`
	Entities []entity.Entity  `json:"entities"`
	Exists   *bool            `json:"exists"`
}

func TestRegisterLocationsThroughAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		remote := newRemote(t, map[string]string{
			"/a/catalog-info.yaml": component("svc-a", "team-a", "") + "---\n" + component("svc-a2", "team-a", ""),
			"/b/catalog-info.yaml": component("svc-b", "team-b", ""),
			"/broken.yaml":         "kind: [",
		})
		e := newEnv(t, eng, catalog.Options{})
		srv := e.serve()
		targetA := remote.url("/a/catalog-info.yaml")
		body := func(target string) string { return fmt.Sprintf(`{"type":"url","target":%q}`, target) }

		// Dry run: entities, nothing written.
		code, out := call(t, srv, http.MethodPost, "/locations?dryRun=true", body(targetA))
		if code != http.StatusCreated {
			t.Fatalf("dry run = %d %s", code, out)
		}
		var dry addLocationResponse
		if err := json.Unmarshal([]byte(out), &dry); err != nil {
			t.Fatal(err)
		}
		var dryRefs []string
		for _, ent := range dry.Entities {
			dryRefs = append(dryRefs, ent.Ref().Key())
		}
		wantDry := []string{rootRef("url", targetA), "component:default/svc-a", "component:default/svc-a2"}
		if diff := cmp.Diff(wantDry, dryRefs); diff != "" {
			t.Errorf("dry-run entities (-want +got):\n%s", diff)
		}
		if dry.Exists == nil || *dry.Exists {
			t.Errorf("dry run exists = %v, want false", dry.Exists)
		}
		e.sync()
		if got := e.all(); len(got) != 0 {
			t.Errorf("dry run wrote %d entities", len(got))
		}
		if code, out := call(t, srv, http.MethodGet, "/locations", ""); code != http.StatusOK || out != "[]" {
			t.Errorf("GET /locations after a dry run = %d %s, want []", code, out)
		}

		// Register.
		code, out = call(t, srv, http.MethodPost, "/locations", body(targetA))
		if code != http.StatusCreated {
			t.Fatalf("POST /locations = %d %s", code, out)
		}
		var added addLocationResponse
		if err := json.Unmarshal([]byte(out), &added); err != nil {
			t.Fatal(err)
		}
		if added.Location.ID == "" || added.Location.Type != "url" || added.Location.Target != targetA {
			t.Errorf("registered location = %+v", added.Location)
		}
		code, out = call(t, srv, http.MethodGet, "/locations", "")
		wantList := fmt.Sprintf(`[{"data":{"id":%q,"type":"url","target":%q}}]`, added.Location.ID, targetA)
		if code != http.StatusOK || out != wantList {
			t.Errorf("GET /locations = %d %s, want %s", code, out, wantList)
		}
		e.sync()
		for _, ref := range []string{"component:default/svc-a", "component:default/svc-a2", rootRef("url", targetA)} {
			e.mustGet(ref)
		}
		if code, out := call(t, srv, http.MethodGet, "/locations/by-entity/component/default/svc-a", ""); code != http.StatusOK || !strings.Contains(out, added.Location.ID) {
			t.Errorf("by-entity = %d %s", code, out)
		}

		// Duplicate, and onConflict=refresh.
		if code, out := call(t, srv, http.MethodPost, "/locations", body(targetA)); code != http.StatusConflict || !strings.Contains(out, "ConflictError") {
			t.Errorf("duplicate = %d %s, want 409 ConflictError", code, out)
		}
		code, out = call(t, srv, http.MethodPost, "/locations?onConflict=refresh", body(targetA))
		if code != http.StatusCreated || !strings.Contains(out, added.Location.ID) {
			t.Errorf("onConflict=refresh = %d %s, want 201 with the existing location", code, out)
		}
		var dry2 addLocationResponse
		_, out = call(t, srv, http.MethodPost, "/locations?dryRun=true", body(targetA))
		if err := json.Unmarshal([]byte(out), &dry2); err != nil || dry2.Exists == nil || !*dry2.Exists {
			t.Errorf("dry run of a registered location: exists = %v (%v)", dry2.Exists, err)
		}

		// onConflict=refresh re-reads the location at once.
		remote.files.Store(&map[string]string{
			"/a/catalog-info.yaml": component("svc-a", "team-a", "refreshed"),
			"/b/catalog-info.yaml": component("svc-b", "team-b", ""),
		})
		if code, _ := call(t, srv, http.MethodPost, "/locations?onConflict=refresh", body(targetA)); code != http.StatusCreated {
			t.Errorf("onConflict=refresh = %d", code)
		}
		e.sync()
		if got := e.mustGet("component:default/svc-a").Metadata.Description; got != "refreshed" {
			t.Errorf("after onConflict=refresh svc-a has description %q", got)
		}
		if e.get("component:default/svc-a2") != nil {
			t.Errorf("svc-a2, gone from the file, is still served")
		}

		// A second location, then delete the first.
		code, out = call(t, srv, http.MethodPost, "/locations", body(remote.url("/b/catalog-info.yaml")))
		if code != http.StatusCreated {
			t.Fatalf("second location = %d %s", code, out)
		}
		e.sync()
		e.mustGet("component:default/svc-b")
		if code, out := call(t, srv, http.MethodDelete, "/locations/"+added.Location.ID, ""); code != http.StatusNoContent {
			t.Fatalf("DELETE = %d %s", code, out)
		}
		e.sync()
		for _, ref := range []string{"component:default/svc-a", rootRef("url", targetA)} {
			if e.get(ref) != nil {
				t.Errorf("%s still served after its location was deleted", ref)
			}
		}
		e.mustGet("component:default/svc-b")
		if code, _ := call(t, srv, http.MethodGet, "/locations/"+added.Location.ID, ""); code != http.StatusNotFound {
			t.Errorf("GET deleted location = %d, want 404", code)
		}
		if code, _ := call(t, srv, http.MethodDelete, "/locations/"+added.Location.ID, ""); code != http.StatusNotFound {
			t.Errorf("DELETE deleted location = %d, want 404", code)
		}

		tests := []struct {
			name     string
			path     string
			body     string
			wantCode int
			wantName string
		}{
			{"file type not allowed", "/locations", `{"type":"file","target":"/etc/passwd"}`, http.StatusBadRequest, "InputError"},
			{"file type not allowed in dry run", "/locations?dryRun=true", `{"type":"file","target":"/etc/passwd"}`, http.StatusBadRequest, "InputError"},
			{"unreadable target", "/locations", body(remote.url("/nope.yaml")), http.StatusBadRequest, "InputError"},
			{"broken target", "/locations", body(remote.url("/broken.yaml")), http.StatusBadRequest, "InputError"},
			{"missing target key", "/locations", `{"type":"url"}`, http.StatusBadRequest, "InputError"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				code, out := call(t, srv, http.MethodPost, tt.path, tt.body)
				if code != tt.wantCode || !strings.Contains(out, `"name":"`+tt.wantName+`"`) {
					t.Errorf("= %d %s, want %d %s", code, out, tt.wantCode, tt.wantName)
				}
			})
		}
		_, out = call(t, srv, http.MethodGet, "/locations", "")
		var list []struct{ Data catalog.Location }
		if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 1 {
			t.Errorf("refused registrations changed the location list: %s", out)
		}
	})
}

func TestReadonlyRefusesLocationChanges(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		remote := newRemote(t, map[string]string{"/c.yaml": component("c", "team-a", "")})
		e := newEnv(t, eng, catalog.Options{Readonly: true})
		srv := e.serve()
		body := fmt.Sprintf(`{"type":"url","target":%q}`, remote.url("/c.yaml"))
		tests := []struct {
			name     string
			method   string
			path     string
			body     string
			wantCode int
		}{
			{"register", http.MethodPost, "/locations", body, http.StatusForbidden},
			{"dry run is allowed", http.MethodPost, "/locations?dryRun=true", body, http.StatusCreated},
			{"update", http.MethodPut, "/locations/some-id", body, http.StatusForbidden},
			{"delete", http.MethodDelete, "/locations/some-id", "", http.StatusForbidden},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				code, out := call(t, srv, tt.method, tt.path, tt.body)
				if code != tt.wantCode {
					t.Errorf("= %d %s, want %d", code, out, tt.wantCode)
				}
				if tt.wantCode == http.StatusForbidden && !strings.Contains(out, "readonly mode") {
					t.Errorf("403 body %s does not mention readonly mode", out)
				}
			})
		}
		e.sync()
		if n := len(e.all()); n != 0 {
			t.Errorf("readonly catalog has %d entities", n)
		}
	})
}

func TestDeleteByUIDComesBack(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng, catalog.Options{})
		e.write("catalog.yaml", component("a", "team-a", "")+"---\n"+component("b", "team-a", "")+"  dependsOn: [component:default/a]\n")
		e.fileRoot("catalog.yaml")
		e.sync()
		srv := e.serve()
		a := e.mustGet("component:default/a")
		if b := e.mustGet("component:default/b"); !hasRelation(b, "dependsOn", "component:default/a") {
			t.Fatalf("b lacks dependsOn a: %v", b.Relations)
		}

		if code, out := call(t, srv, http.MethodDelete, "/entities/by-uid/"+a.Metadata.UID, ""); code != http.StatusNoContent {
			t.Fatalf("DELETE by-uid = %d %s", code, out)
		}
		if code, _ := call(t, srv, http.MethodGet, "/entities/by-name/component/default/a", ""); code != http.StatusNotFound {
			t.Errorf("deleted entity still served: %d", code)
		}
		if code, _ := call(t, srv, http.MethodGet, "/entities/by-uid/"+a.Metadata.UID, ""); code != http.StatusNotFound {
			t.Errorf("deleted entity still served by uid: %d", code)
		}
		if code, _ := call(t, srv, http.MethodDelete, "/entities/by-uid/"+a.Metadata.UID, ""); code != http.StatusNotFound {
			t.Errorf("second DELETE = %d, want 404", code)
		}

		// Its parent refreshes at once and emits it again, with a new uid.
		e.sync()
		back := e.mustGet("component:default/a")
		if back.Metadata.UID == a.Metadata.UID {
			t.Errorf("the re-created entity kept uid %s", back.Metadata.UID)
		}
		if !hasRelation(back, "dependencyOf", "component:default/b") {
			t.Errorf("a came back without dependencyOf b: %v", back.Relations)
		}
		if len(statusItems(back)) > 0 {
			t.Errorf("a came back with status %+v", statusItems(back))
		}
	})
}

func hasRelation(e *entity.Entity, typ, target string) bool {
	for _, r := range e.Relations {
		if string(r.Type) == typ && r.TargetRef == target {
			return true
		}
	}
	return false
}

func TestRefreshRereadsFile(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng, catalog.Options{})
		e.write("catalog.yaml", `apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: nested
spec:
  target: ./components.yaml
`)
		e.write("components.yaml", component("a", "team-a", "one"))
		e.fileRoot("catalog.yaml")
		e.sync()
		srv := e.serve()

		e.write("components.yaml", component("a", "team-a", "two"))
		e.sync() // nothing is due: the change is not seen yet
		if got := e.mustGet("component:default/a").Metadata.Description; got != "one" {
			t.Fatalf("description %q before the refresh; the control assumption is wrong", got)
		}
		if code, out := call(t, srv, http.MethodPost, "/refresh", `{"entityRef":"component:default/a"}`); code != http.StatusOK || out != "" {
			t.Fatalf("POST /refresh = %d %q", code, out)
		}
		e.sync()
		if got := e.mustGet("component:default/a").Metadata.Description; got != "two" {
			t.Errorf("description %q after refresh, want two", got)
		}
		if code, _ := call(t, srv, http.MethodPost, "/refresh", `{"entityRef":"component:default/nope"}`); code != http.StatusNotFound {
			t.Errorf("refresh of a missing entity = %d, want 404", code)
		}
	})
}

func TestValidateEntity(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng, catalog.Options{})
		srv := e.serve()
		valid := `{"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"name":"x"},
		"spec":{"type":"service","lifecycle":"production","owner":"team-a"}}`
		tests := []struct {
			name     string
			body     string
			wantCode int
			wantText []string
		}{
			{"valid", `{"location":"url:https://example.com/x.yaml","entity":` + valid + `}`, http.StatusOK, nil},
			{"missing owner", `{"location":"url:https://example.com/x.yaml","entity":{"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"name":"x"},"spec":{"type":"service","lifecycle":"production"}}}`,
				http.StatusBadRequest, []string{`"errors"`, "owner"}},
			{"bad name", `{"location":"url:https://example.com/x.yaml","entity":{"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"name":"Bad Name!"},"spec":{"type":"service","lifecycle":"production","owner":"a"}}}`,
				http.StatusBadRequest, []string{`"errors"`, "metadata.name"}},
			{"unknown kind", `{"location":"url:https://example.com/x.yaml","entity":{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"x"}}}`,
				http.StatusBadRequest, []string{`"errors"`}},
			{"file location", `{"location":"file:/x.yaml","entity":` + valid + `}`, http.StatusBadRequest, []string{`"errors"`}},
			{"no entity", `{"location":"url:https://example.com/x.yaml"}`, http.StatusBadRequest, []string{`"errors"`}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				code, out := call(t, srv, http.MethodPost, "/validate-entity", tt.body)
				if code != tt.wantCode {
					t.Errorf("= %d %s, want %d", code, out, tt.wantCode)
				}
				if tt.wantCode == http.StatusOK && out != "" {
					t.Errorf("200 with body %q, want none", out)
				}
				for _, s := range tt.wantText {
					if !strings.Contains(out, s) {
						t.Errorf("body %s lacks %q", out, s)
					}
				}
			})
		}
	})
}

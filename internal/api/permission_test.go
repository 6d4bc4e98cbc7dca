package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/atrium-dev/atrium/internal/auth"
	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/derrors"
	"github.com/atrium-dev/atrium/internal/permission"
)

const permTestPolicy = `rules:
  - name: admins
    principals: [group:default/admins]
    permissions: ["*"]
    decision: allow
  - name: owners-delete
    principals: ["user:*"]
    permissions: [catalog.entity.delete]
    decision: conditional
    conditions: {isEntityOwner: {}}
  - name: refresh-unless-experimental
    principals: ["user:*"]
    permissions: [catalog.entity.refresh]
    decision: conditional
    conditions: {expr: 'resource.spec.lifecycle != "experimental"'}
`

// permEntities is the catalog the permission tests load entities from.
// component:default/broken fails to load; tmp has no spec.lifecycle, so
// refresh-unless-experimental's expression fails on it.
var permEntities = map[string]string{
	"component:default/petstore": `{"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"name":"petstore"},"spec":{"type":"service","lifecycle":"production","owner":"team-a"},"relations":[{"type":"ownedBy","targetRef":"group:default/team-a"}]}`,
	"component:default/beta":     `{"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"name":"beta"},"spec":{"type":"service","lifecycle":"experimental","owner":"team-b"},"relations":[{"type":"ownedBy","targetRef":"group:default/team-b"}]}`,
	"component:default/tmp":      `{"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"name":"tmp"},"spec":{"type":"service","owner":"user:bob"},"relations":[{"type":"ownedBy","targetRef":"user:default/bob"}]}`,
}

type permLoader struct{ loads []string }

func (l *permLoader) EntityByRef(_ context.Context, ref entity.Ref) (json.RawMessage, error) {
	l.loads = append(l.loads, ref.Key())
	if ref.Key() == "component:default/broken" {
		return nil, errors.New("database is on fire")
	}
	raw, ok := permEntities[ref.Key()]
	if !ok {
		return nil, derrors.NotFound("no entity %s", ref.Key())
	}
	return json.RawMessage(raw), nil
}

// permItem builds one authorize item as Backstage's PermissionClient sends it.
func permItem(id, name, action, resourceType, resourceRef string) string {
	attrs := "{}"
	if action != "" {
		attrs = fmt.Sprintf(`{"action":%q}`, action)
	}
	if resourceType == "" {
		return fmt.Sprintf(`{"id":%q,"permission":{"type":"basic","name":%q,"attributes":%s}}`, id, name, attrs)
	}
	ref := ""
	if resourceRef != "" {
		ref = fmt.Sprintf(`,"resourceRef":%q`, resourceRef)
	}
	return fmt.Sprintf(`{"id":%q,"permission":{"type":"resource","name":%q,"attributes":%s,"resourceType":%q}%s}`, id, name, attrs, resourceType, ref)
}

func permBody(items ...string) string { return `{"items":[` + strings.Join(items, ",") + `]}` }

func newPermTestHandler(t *testing.T, logs *bytes.Buffer) (http.Handler, *permLoader) {
	t.Helper()
	pol, err := permission.Parse("policy.yaml", []byte(permTestPolicy))
	if err != nil {
		t.Fatal(err)
	}
	l := &permLoader{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelError}))
	return NewPermissionHandler(func() *permission.Policy { return pol }, l, logger), l
}

func permRequest(t *testing.T, h http.Handler, id *auth.Identity, method, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, PermissionPrefix+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if id != nil {
		req = req.WithContext(auth.WithIdentity(req.Context(), *id))
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func errBody(status int, name, message, method, url string) string {
	var b errorBody
	b.Error.Name, b.Error.Message = name, message
	b.Request.Method, b.Request.URL = method, url
	b.Response.StatusCode = status
	out, err := marshalJSON(b)
	if err != nil {
		panic(err)
	}
	return string(out)
}

func TestAuthorize(t *testing.T) {
	bob := auth.User("user:default/bob", []string{"group:default/team-a"})
	admin := auth.User("user:default/ada", []string{"group:default/admins"})
	ci := auth.Service("ci")
	const entityType = permission.ResourceCatalogEntity
	tests := []struct {
		name      string
		id        *auth.Identity
		body      string
		want      string
		wantLoads []string
	}{
		{
			name: "definitive decisions, in order",
			id:   &bob,
			body: permBody(
				permItem("1", "catalog.entity.read", "read", entityType, ""),
				permItem("2", "catalog.entity.create", "create", "", ""),
				permItem("3", "catalog.location.read", "read", "", ""),
				permItem("4", "catalog.location.delete", "delete", "", ""),
			),
			want: `{"items":[{"id":"1","result":"ALLOW"},{"id":"2","result":"DENY"},{"id":"3","result":"ALLOW"},{"id":"4","result":"DENY"}]}`,
		},
		{
			name: "allowed without loading the resource",
			id:   &admin,
			body: permBody(permItem("a", "catalog.entity.delete", "delete", entityType, "component:default/beta")),
			want: `{"items":[{"id":"a","result":"ALLOW"}]}`,
		},
		{
			name: "conditional without a resource",
			id:   &bob,
			body: permBody(permItem("1", "catalog.entity.delete", "delete", entityType, "")),
			want: `{"items":[{"id":"1","result":"CONDITIONAL","pluginId":"catalog","resourceType":"catalog-entity","conditions":{"rule":"IS_ENTITY_OWNER","resourceType":"catalog-entity","params":{"claims":["group:default/team-a","user:default/bob"]}}}]}`,
		},
		{
			name: "conditions applied to resources",
			id:   &bob,
			body: permBody(
				permItem("owned through group", "catalog.entity.delete", "delete", entityType, "component:default/petstore"),
				permItem("owned by another", "catalog.entity.delete", "delete", entityType, "component:default/beta"),
				permItem("owned, ref in another case", "catalog.entity.delete", "delete", entityType, "Component:default/TMP"),
				permItem("missing", "catalog.entity.delete", "delete", entityType, "component:default/nope"),
				permItem("expr holds", "catalog.entity.refresh", "update", entityType, "component:default/petstore"),
				permItem("expr fails", "catalog.entity.refresh", "update", entityType, "component:default/beta"),
				permItem("expr errors", "catalog.entity.refresh", "update", entityType, "component:default/tmp"),
			),
			want:      `{"items":[{"id":"owned through group","result":"ALLOW"},{"id":"owned by another","result":"DENY"},{"id":"owned, ref in another case","result":"ALLOW"},{"id":"missing","result":"DENY"},{"id":"expr holds","result":"ALLOW"},{"id":"expr fails","result":"DENY"},{"id":"expr errors","result":"DENY"}]}`,
			wantLoads: []string{"component:default/petstore", "component:default/beta", "component:default/tmp", "component:default/nope"},
		},
		{
			name: "a service owns nothing",
			id:   &ci,
			body: permBody(permItem("1", "catalog.entity.refresh", "update", entityType, "component:default/petstore")),
			want: `{"items":[{"id":"1","result":"DENY"}]}`,
		},
		{
			name: "another plugin's permission, judged as described",
			id:   &bob,
			body: permBody(
				permItem("1", "scaffolder.template.parameter.read", "read", "scaffolder-template", ""),
				permItem("2", "scaffolder.task.create", "create", "", ""),
				permItem("3", "kubernetes.proxy", "", "", ""),
			),
			want: `{"items":[{"id":"1","result":"ALLOW"},{"id":"2","result":"DENY"},{"id":"3","result":"DENY"}]}`,
		},
		{
			name: "without action, a known permission keeps its own",
			id:   &bob,
			body: permBody(permItem("1", "catalog.entity.create", "", "", "")),
			want: `{"items":[{"id":"1","result":"DENY"}]}`,
		},
		{
			name: "no items",
			id:   &bob,
			body: `{"items":[]}`,
			want: `{"items":[]}`,
		},
		{
			name: "unauthenticated",
			body: permBody(permItem("1", "catalog.entity.read", "read", entityType, "")),
			want: errBody(401, "AuthenticationError", "Missing credentials", "POST", "/authorize"),
		},
		{
			name:      "loader failure",
			id:        &bob,
			body:      permBody(permItem("1", "catalog.entity.delete", "delete", entityType, "component:default/broken")),
			want:      errBody(500, "Error", "Internal server error", "POST", "/authorize"),
			wantLoads: []string{"component:default/broken"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			h, loader := newPermTestHandler(t, &logs)
			rec := permRequest(t, h, tt.id, "POST", "/authorize", tt.body)
			if diff := cmp.Diff(tt.want, rec.Body.String()); diff != "" {
				t.Errorf("body mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantLoads, loader.loads); diff != "" {
				t.Errorf("entities loaded mismatch (-want +got):\n%s", diff)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
		})
	}
}

func TestAuthorizeStatusAndLogs(t *testing.T) {
	bob := auth.User("user:default/bob", nil)
	var logs bytes.Buffer
	h, _ := newPermTestHandler(t, &logs)

	rec := permRequest(t, h, nil, "POST", "/authorize", permBody())
	if rec.Code != http.StatusUnauthorized || rec.Header().Get("WWW-Authenticate") == "" {
		t.Errorf("unauthenticated: status %d, WWW-Authenticate %q; want 401 and a challenge", rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
	rec = permRequest(t, h, &bob, "POST", "/authorize",
		permBody(permItem("1", "catalog.entity.refresh", "update", permission.ResourceCatalogEntity, "component:default/tmp")))
	if rec.Code != http.StatusOK {
		t.Errorf("status %d, want 200", rec.Code)
	}
	// The failing expression is denied, and logged for the policy's maintainer.
	if got := logs.String(); !strings.Contains(got, "rule=refresh-unless-experimental") || !strings.Contains(got, "no such key: lifecycle") {
		t.Errorf("log does not name the rule and the error:\n%s", got)
	}
}

func TestAuthorizeInvalid(t *testing.T) {
	bob := auth.User("user:default/bob", nil)
	const entityType = permission.ResourceCatalogEntity
	many := make([]string, 101)
	for i := range many {
		many[i] = permItem(fmt.Sprint(i), "catalog.entity.read", "read", entityType, "")
	}
	tests := []struct {
		name string
		body string
		want string
	}{
		{"empty body", `{}`, "Empty request body"},
		{"not an object", `[]`, "Expected body to be a JSON object"},
		{"unknown key", `{"x":1}`, "Malformed request: unknown key 'x'"},
		{"items null", `{"items":null}`, "Invalid request: items is required"},
		{"items not a list", `{"items":{}}`, "Malformed request: 'items' must not be an object"},
		{"too many items", permBody(many...), "Invalid request: items must hold at most 100 items, got 101"},
		{"item null", `{"items":[null]}`, "Invalid request: items[0].id is required"},
		{"id missing", `{"items":[{"permission":{"type":"basic","name":"x","attributes":{}}}]}`, "Invalid request: items[0].id is required"},
		{"id empty", permBody(permItem("", "catalog.entity.read", "read", entityType, "")), "Invalid request: items[0].id is required"},
		{"id a number", `{"items":[{"id":1}]}`, "Malformed request: 'items.id' must not be a number"},
		{"id twice", permBody(permItem("1", "catalog.entity.read", "read", entityType, ""), permItem("1", "catalog.entity.read", "read", entityType, "")),
			`Invalid request: items[1].id "1" is used twice`},
		{"permission missing", `{"items":[{"id":"1"}]}`, "Invalid request: items[0].permission is required"},
		{"unknown type", `{"items":[{"id":"1","permission":{"type":"policy","name":"x","attributes":{}}}]}`, `Invalid request: items[0].permission.type must be "basic" or "resource"`},
		{"name missing", `{"items":[{"id":"1","permission":{"type":"basic","attributes":{}}}]}`, "Invalid request: items[0].permission.name is required"},
		{"attributes missing", `{"items":[{"id":"1","permission":{"type":"basic","name":"x"}}]}`, "Invalid request: items[0].permission.attributes is required"},
		{"unknown attribute", `{"items":[{"id":"1","permission":{"type":"basic","name":"x","attributes":{"verb":"read"}}}]}`, "Malformed request: unknown key 'verb'"},
		{"unknown action", permBody(permItem("1", "x", "write", "", "")), "Invalid request: items[0].permission.attributes.action must be one of create, read, update, delete"},
		{"resource without resourceType", `{"items":[{"id":"1","permission":{"type":"resource","name":"x","attributes":{}}}]}`,
			"Invalid request: items[0].permission.resourceType is required for a resource permission"},
		{"basic with resourceType", `{"items":[{"id":"1","permission":{"type":"basic","name":"x","attributes":{},"resourceType":"catalog-entity"}}]}`,
			"Invalid request: items[0].permission.resourceType is not allowed for a basic permission"},
		{"basic with resourceRef", `{"items":[{"id":"1","permission":{"type":"basic","name":"x","attributes":{}},"resourceRef":"component:x"}]}`,
			"Invalid request: items[0].resourceRef is only allowed for resource permissions"},
		{"bad resourceRef", permBody(permItem("1", "catalog.entity.delete", "delete", entityType, "petstore")),
			`Invalid request: items[0].resourceRef: entity reference "petstore" had missing or empty kind (e.g. did not start with "component:" or similar)`},
		{"known permission, other action", permBody(permItem("1", "catalog.entity.delete", "read", entityType, "")),
			"Invalid request: items[0].permission does not match catalog.entity.delete, which is a resource permission on catalog-entity with action delete"},
		{"known permission, other type", permBody(permItem("1", "catalog.location.read", "read", entityType, "")),
			"Invalid request: items[0].permission does not match catalog.location.read, which is a basic permission with action read"},
		{"trailing data", permBody() + `{}`, "Malformed request: unexpected data after the JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			h, _ := newPermTestHandler(t, &logs)
			rec := permRequest(t, h, &bob, "POST", "/authorize", tt.body)
			want := errBody(400, "InputError", tt.want, "POST", "/authorize")
			if diff := cmp.Diff(want, rec.Body.String()); diff != "" {
				t.Errorf("body mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPermissionRoutes(t *testing.T) {
	bob := auth.User("user:default/bob", nil)
	var logs bytes.Buffer
	h, _ := newPermTestHandler(t, &logs)
	tests := []struct {
		name, method, path string
		wantStatus         int
		wantBody           string
	}{
		{"wrong method", "GET", "/authorize", 405, errBody(405, "MethodNotAllowedError", "Method GET not allowed for /authorize", "GET", "/authorize")},
		{"unknown route", "POST", "/policy-decision", 404, errBody(404, "NotFoundError", "Not found: POST /policy-decision", "POST", "/policy-decision")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := permRequest(t, h, &bob, tt.method, tt.path, "")
			if rec.Code != tt.wantStatus {
				t.Errorf("status %d, want %d", rec.Code, tt.wantStatus)
			}
			if diff := cmp.Diff(tt.wantBody, rec.Body.String()); diff != "" {
				t.Errorf("body mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAuthorizeNilPolicy checks that without a policy the defaults decide.
func TestAuthorizeNilPolicy(t *testing.T) {
	bob := auth.User("user:default/bob", nil)
	h := NewPermissionHandler(func() *permission.Policy { return nil }, &permLoader{}, slog.New(slog.DiscardHandler))
	rec := permRequest(t, h, &bob, "POST", "/authorize", permBody(
		permItem("1", "catalog.entity.read", "read", permission.ResourceCatalogEntity, "component:default/petstore"),
		permItem("2", "catalog.entity.delete", "delete", permission.ResourceCatalogEntity, "component:default/petstore"),
	))
	want := `{"items":[{"id":"1","result":"ALLOW"},{"id":"2","result":"DENY"}]}`
	if diff := cmp.Diff(want, rec.Body.String()); diff != "" {
		t.Errorf("body mismatch (-want +got):\n%s", diff)
	}
}

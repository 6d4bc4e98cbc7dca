package action

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/atrium-dev/atrium/internal/scaffolder/workspace"
)

// fakeRender replaces ${{ values.name }} with the value, enough to test
// the actions without the real engine.
func fakeRender(src string, ctx map[string]any) (string, error) {
	values, _ := ctx["values"].(map[string]any)
	var err error
	out := renderRE.ReplaceAllStringFunc(src, func(m string) string {
		key := renderRE.FindStringSubmatch(m)[1]
		if key == "fail" {
			err = fmt.Errorf("render failed")
		}
		v, ok := values[key]
		if !ok {
			return ""
		}
		return fmt.Sprint(v)
	})
	return out, err
}

var renderRE = regexp.MustCompile(`\$\{\{\s*values\.(\w+)\s*\}\}`)

type testEnv struct {
	rc      *RunContext
	tmpl    string // template directory
	ws      *workspace.Workspace
	outputs map[string]any
	logs    *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newEnv makes a template directory holding files (a trailing "/" makes a
// directory; mode 0755 if the name ends in ".sh") and an empty workspace.
func newEnv(t *testing.T, files map[string]string, limits workspace.Limits) *testEnv {
	t.Helper()
	base := t.TempDir()
	tmpl := filepath.Join(base, "template")
	writeTree(t, tmpl, files)
	ws, err := workspace.New(filepath.Join(base, "ws"), limits)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	env := &testEnv{tmpl: tmpl, ws: ws, outputs: map[string]any{}, logs: &syncBuffer{}}
	env.rc = &RunContext{
		Workspace:   ws,
		Logger:      slog.New(slog.NewTextHandler(env.logs, nil)),
		Output:      func(name string, v any) { env.outputs[name] = v },
		TemplateDir: tmpl,
		Render:      fakeRender,
	}
	return env
}

func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, ".sh") {
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
}

// run validates input against the action's schema, as the runner does,
// then runs it.
func (e *testEnv) run(t *testing.T, id string, input map[string]any) error {
	t.Helper()
	a, ok := Lookup(id)
	if !ok {
		t.Fatalf("action %s not registered", id)
	}
	// Round-trip through JSON so inputs look like templated task input.
	b, err := json.Marshal(input)
	if err != nil {
		t.Fatal(err)
	}
	var in map[string]any
	if err := json.Unmarshal(b, &in); err != nil {
		t.Fatal(err)
	}
	if err := ValidateInput(a, in); err != nil {
		return err
	}
	e.rc.Input = in
	return a.Run(context.Background(), e.rc)
}

// tree returns every file in the workspace with its contents, and every
// directory with a trailing "/".
func (e *testEnv) tree(t *testing.T) map[string]string {
	t.Helper()
	got := map[string]string{}
	err := filepath.WalkDir(e.ws.Dir(), func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(e.ws.Dir(), p)
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			got[rel+"/"] = ""
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		got[rel] = string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func (e *testEnv) mode(t *testing.T, rel string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(filepath.Join(e.ws.Dir(), rel))
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestRegistry(t *testing.T) {
	var ids []string
	for _, a := range List() {
		ids = append(ids, a.ID)
	}
	want := []string{"catalog:fetch", "catalog:register", "catalog:write", "debug:log", "debug:wait", "fetch:plain", "fetch:plain:file", "fetch:template", "fetch:template:file", "fs:delete", "fs:readdir", "fs:rename", "publish:git"}
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Errorf("List ids (-want +got):\n%s", diff)
	}
	for _, a := range List() {
		if a.Description == "" || len(a.Examples) == 0 {
			t.Errorf("%s: missing description or example", a.ID)
		}
		for _, ex := range a.Examples {
			if !strings.Contains(ex.Example, "action: "+a.ID+"\n") {
				t.Errorf("%s: example does not use the action:\n%s", a.ID, ex.Example)
			}
		}
		if !json.Valid(a.Input) || (a.Output != nil && !json.Valid(a.Output)) {
			t.Errorf("%s: invalid schema JSON", a.ID)
		}
	}
	if _, ok := Lookup("nope:nope"); ok {
		t.Error("Lookup of an unknown id succeeded")
	}
}

func TestRegisterPanics(t *testing.T) {
	run := func(context.Context, *RunContext) error { return nil }
	tests := []struct {
		name string
		a    Action
		want string
	}{
		{"duplicate", Action{ID: "fetch:plain", Input: json.RawMessage(`{}`), Run: run}, "registered twice"},
		{"empty id", Action{Input: json.RawMessage(`{}`), Run: run}, "empty id"},
		{"nil run", Action{ID: "test:nil", Input: json.RawMessage(`{}`)}, "Run is nil"},
		{"bad json", Action{ID: "test:badjson", Input: json.RawMessage(`{`), Run: run}, "input schema"},
		{"missing input", Action{ID: "test:noinput", Run: run}, "input schema"},
		{"bad type", Action{ID: "test:badtype", Input: json.RawMessage(`{"type":"thing"}`), Run: run}, "unknown type"},
		{"bad output", Action{ID: "test:badout", Input: json.RawMessage(`{}`), Output: json.RawMessage(`[`), Run: run}, "output schema"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(fmt.Sprint(r), tt.want) {
					t.Errorf("panic = %v, want one containing %q", r, tt.want)
				}
			}()
			Register(tt.a)
		})
	}
}

func TestValidateInput(t *testing.T) {
	custom := Action{ID: "test:custom", Input: json.RawMessage(`{
  "type": "object",
  "required": ["name"],
  "additionalProperties": false,
  "properties": {
    "name": {"type": "string"},
    "count": {"type": "integer"},
    "ratio": {"type": "number"},
    "mode": {"type": "string", "enum": ["a", "b"]},
    "tags": {"type": "array", "items": {"type": "string"}},
    "nested": {"type": "object", "required": ["x"], "properties": {"x": {"type": "boolean"}}}
  }
}`)}
	tests := []struct {
		name   string
		action string // registered id, or "" for custom
		input  string
		want   []string // substrings of the error; nil means valid
	}{
		{"custom ok", "", `{"name":"n","count":3,"ratio":0.5,"mode":"a","tags":["x"],"nested":{"x":true}}`, nil},
		{"custom missing", "", `{}`, []string{"name: required"}},
		{"custom unknown field", "", `{"name":"n","extra":1}`, []string{"extra: unknown field"}},
		{"custom integer", "", `{"name":"n","count":1.5}`, []string{"count: must be integer, not number"}},
		{"custom enum", "", `{"name":"n","mode":"c"}`, []string{`mode: must be one of "a", "b"`}},
		{"custom items", "", `{"name":"n","tags":["x",2]}`, []string{"tags[1]: must be string, not number"}},
		{"custom nested", "", `{"name":"n","nested":{}}`, []string{"nested.x: required"}},
		{"custom several", "", `{"name":1,"count":"x"}`, []string{"name: must be string", "count: must be integer"}},
		{"fetch:plain no url", "fetch:plain", `{"targetPath":"x"}`, []string{"fetch:plain", "url: required"}},
		{"fetch:plain url number", "fetch:plain", `{"url":3}`, []string{"url: must be string, not number"}},
		{"fetch:template values", "fetch:template", `{"url":"./s","values":[1]}`, []string{"values: must be object, not array"}},
		{"fetch:template extension", "fetch:template", `{"url":"./s","templateFileExtension":1}`, []string{"templateFileExtension: must be string or boolean"}},
		{"fetch:template extension ok", "fetch:template", `{"url":"./s","templateFileExtension":".tmpl"}`, nil},
		{"fs:rename from", "fs:rename", `{"files":[{"to":"b"}]}`, []string{"files[0].from: required"}},
		{"fs:rename overwrite", "fs:rename", `{"files":[{"from":"a","to":"b","overwrite":"yes"}]}`, []string{"files[0].overwrite: must be boolean"}},
		{"fs:delete files", "fs:delete", `{"files":"a"}`, []string{"files: must be array, not string"}},
		{"fs:readdir paths", "fs:readdir", `{}`, []string{"paths: required"}},
		{"debug:log listWorkspace", "debug:log", `{"listWorkspace":"everything"}`, []string{"listWorkspace: must be one of"}},
		{"debug:wait seconds", "debug:wait", `{"seconds":"5"}`, []string{"seconds: must be number, not string"}},
		{"debug:wait ok", "debug:wait", `{"seconds":5,"milliseconds":1}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := custom
			if tt.action != "" {
				var ok bool
				if a, ok = Lookup(tt.action); !ok {
					t.Fatalf("%s not registered", tt.action)
				}
			}
			var in map[string]any
			if err := json.Unmarshal([]byte(tt.input), &in); err != nil {
				t.Fatal(err)
			}
			err := ValidateInput(a, in)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("ValidateInput: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("ValidateInput succeeded, want error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

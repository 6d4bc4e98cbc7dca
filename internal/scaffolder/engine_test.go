package scaffolder

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/atrium-dev/atrium/internal/derrors"
	"github.com/atrium-dev/atrium/internal/scaffolder/action"
	"github.com/atrium-dev/atrium/internal/scaffolder/workspace"
)

// blockCalls counts test:block's runs: the first blocks until its context
// ends, as a step would when its runner dies; later ones return at once.
var blockCalls atomic.Int32

// publishCalls counts test:publish's runs, an External action;
// failOnceCalls test:fail-once's, whose first run fails.
var publishCalls, failOnceCalls atomic.Int32

func init() {
	action.Register(action.Action{
		ID:    "test:echo",
		Input: json.RawMessage(`{"type": "object", "properties": {"value": {}}}`),
		Run: func(ctx context.Context, rc *action.RunContext) error {
			rc.Output("value", rc.Input["value"])
			return nil
		},
	})
	action.Register(action.Action{
		ID:    "test:fail",
		Input: json.RawMessage(`{"type": "object", "properties": {"message": {"type": "string"}}}`),
		Run: func(ctx context.Context, rc *action.RunContext) error {
			return errors.New(rc.Input["message"].(string))
		},
	})
	action.Register(action.Action{
		ID:       "test:publish",
		External: true,
		Input:    json.RawMessage(`{"type": "object", "properties": {"name": {"type": "string"}}}`),
		Run: func(ctx context.Context, rc *action.RunContext) error {
			n := publishCalls.Add(1)
			rc.Output("url", fmt.Sprintf("https://git.example/%s?call=%d", rc.Input["name"], n))
			return nil
		},
	})
	action.Register(action.Action{
		ID:    "test:fail-once",
		Input: json.RawMessage(`{"type": "object", "properties": {"url": {"type": "string"}}}`),
		Run: func(ctx context.Context, rc *action.RunContext) error {
			if failOnceCalls.Add(1) == 1 {
				return errors.New("the catalog is down")
			}
			rc.Output("registered", rc.Input["url"])
			return nil
		},
	})
	action.Register(action.Action{
		ID:    "test:block",
		Input: json.RawMessage(`{"type": "object"}`),
		Run: func(ctx context.Context, rc *action.RunContext) error {
			if blockCalls.Add(1) == 1 {
				<-ctx.Done()
				return ctx.Err()
			}
			return nil
		},
	})
}

// templateJSON is a Template entity with steps, output and parameters.
func templateJSON(t *testing.T, location string, parameters any, steps []map[string]any, output map[string]any) json.RawMessage {
	t.Helper()
	e := map[string]any{
		"apiVersion": TemplateAPIVersion,
		"kind":       "Template",
		"metadata":   map[string]any{"name": "demo", "annotations": map[string]any{LocationAnnotation: location}},
		"spec":       map[string]any{"parameters": parameters, "steps": steps, "output": output},
	}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// writeSkeleton writes a template folder with a skeleton and returns its
// template.yaml path.
func writeSkeleton(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "skeleton"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"template.yaml":      "# the template",
		"skeleton/README.md": "Hello ${{ values.name }}",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "template.yaml")
}

var engineSteps = []map[string]any{
	{"id": "fetch", "name": "Fetch", "action": "fetch:template",
		"input": map[string]any{"url": "./skeleton", "targetPath": "./out", "values": map[string]any{"name": "${{ parameters.name }}"}}},
	{"id": "rename", "action": "fs:rename",
		"input": map[string]any{"files": []any{map[string]any{"from": "out/README.md", "to": "out/README.txt"}}}},
	{"id": "skip-param", "action": "debug:log", "if": "${{ parameters.skip }}", "input": map[string]any{"message": "not logged"}},
	{"id": "skip-false", "action": "debug:log", "if": "false", "input": map[string]any{"message": "not logged"}},
	{"id": "skip-empty", "action": "debug:log", "if": "${{ parameters.missing }}", "input": map[string]any{"message": "not logged"}},
	{"id": "run-true", "action": "debug:log", "if": true, "input": map[string]any{"message": "logged"}},
	{"id": "each", "action": "test:echo", "each": "${{ parameters.items }}",
		"input": map[string]any{"value": "${{ each.key }}=${{ each.value }}"}},
	{"id": "count", "action": "test:echo", "input": map[string]any{"value": "${{ parameters.items | length }}"}},
	{"id": "secret", "action": "debug:log", "input": map[string]any{"message": "token ${{ secrets.token }} for ${{ user.ref }} in ${{ context.task.id }}"}},
}

var engineOutput = map[string]any{
	"links": []any{map[string]any{"title": "First", "url": "https://example.com/${{ steps.each.output.value[0] }}"}},
	"text":  []any{map[string]any{"title": "Count", "content": "${{ steps.count.output.value }}"}},
}

func TestEngine(t *testing.T) {
	location := "file:" + writeSkeleton(t)
	tmpl, err := ParseTemplate(templateJSON(t, location, nil, engineSteps, engineOutput))
	if err != nil {
		t.Fatal(err)
	}
	dir, err := TemplateDir(tmpl.Location)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := workspace.New(t.TempDir(), workspace.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	var log []LogLine
	x := &Execution{
		TaskID: "task-1",
		Spec: &TaskSpec{Steps: tmpl.Steps, Output: tmpl.Output, User: TaskUser{Ref: "user:default/jane"},
			Parameters: map[string]any{"name": "World", "skip": false, "items": []any{"a", "b"}}},
		TemplateDir: dir,
		Secrets:     map[string]string{"token": "s3cret"},
		Workspace:   ws,
		Log:         func(l LogLine) { log = append(log, l) },
	}
	out, err := x.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	wantOut := map[string]any{
		"links": []any{map[string]any{"title": "First", "url": "https://example.com/0=a"}},
		"text":  []any{map[string]any{"title": "Count", "content": float64(2)}},
	}
	if diff := cmp.Diff(wantOut, out); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	readme, err := ws.ReadFile("out/README.txt")
	if err != nil || string(readme) != "Hello World" {
		t.Errorf("out/README.txt = %q, %v; want the rendered skeleton", readme, err)
	}

	statuses := map[string][]string{}
	var text strings.Builder
	for _, l := range log {
		if l.Status != "" {
			statuses[l.StepID] = append(statuses[l.StepID], l.Status)
		}
		text.WriteString(l.Message + "\n")
	}
	wantStatuses := map[string][]string{
		"fetch": {"processing", "completed"}, "rename": {"processing", "completed"},
		"skip-param": {"skipped"}, "skip-false": {"skipped"}, "skip-empty": {"skipped"},
		"run-true": {"processing", "completed"}, "each": {"processing", "completed"},
		"count": {"processing", "completed"}, "secret": {"processing", "completed"},
	}
	if diff := cmp.Diff(wantStatuses, statuses); diff != "" {
		t.Errorf("step statuses (-want +got):\n%s", diff)
	}
	if strings.Contains(text.String(), "s3cret") {
		t.Errorf("the secret is in the log:\n%s", text.String())
	}
	if !strings.Contains(text.String(), "token *** for user:default/jane in task-1") {
		t.Errorf("log lacks the redacted line:\n%s", text.String())
	}
	if strings.Contains(text.String(), "not logged") {
		t.Errorf("a skipped step ran:\n%s", text.String())
	}
}

func TestEngineEachObject(t *testing.T) {
	x := &Execution{Spec: &TaskSpec{
		Parameters: map[string]any{"m": map[string]any{"b": "2", "a": "1"}},
		Steps: []Step{{ID: "e", Action: "test:echo", Each: "${{ parameters.m }}",
			Input: map[string]any{"value": "${{ each.key }}${{ each.value }}"}}},
		Output: map[string]any{"all": "${{ steps.e.output.value }}"},
	}}
	out, err := x.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"all": []any{"a1", "b2"}}, out); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
}

func TestEngineFailure(t *testing.T) {
	var log []LogLine
	x := &Execution{
		Spec: &TaskSpec{Steps: []Step{
			{ID: "bad-input", Action: "debug:log", Input: map[string]any{"message": "${{ secrets.token }}"}},
			{ID: "boom", Action: "test:fail", Input: map[string]any{"message": "cannot reach ${{ secrets.token }}"}},
			{ID: "never", Action: "debug:log", Input: map[string]any{"message": "not reached"}},
		}},
		Secrets: map[string]string{"token": "s3cret"},
		Log:     func(l LogLine) { log = append(log, l) },
	}
	_, err := x.Run(context.Background())
	var se *StepError
	if !errors.As(err, &se) || se.StepID != "boom" {
		t.Fatalf("Run = %v, want a StepError for boom", err)
	}
	if got, want := err.Error(), "step boom: cannot reach ***"; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
	last := log[len(log)-1]
	if diff := cmp.Diff(LogLine{StepID: "boom", Status: "failed", Message: "step boom: cannot reach ***"}, last); diff != "" {
		t.Errorf("last log line (-want +got):\n%s", diff)
	}

	// Input that fails the action's schema names the field.
	x = &Execution{Spec: &TaskSpec{Steps: []Step{{ID: "s", Action: "debug:log", Input: map[string]any{"message": "${{ parameters.n }}"}}},
		Parameters: map[string]any{"n": float64(3)}}}
	if _, err := x.Run(context.Background()); !errors.Is(err, derrors.ErrInvalid) || !strings.Contains(err.Error(), "message") {
		t.Errorf("Run with a number for a string = %v, want an invalid error naming message", err)
	}
}

func TestParseTemplateErrors(t *testing.T) {
	step := func(kv ...any) []map[string]any {
		m := map[string]any{"id": "a", "action": "debug:log"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return []map[string]any{m}
	}
	for _, tc := range []struct {
		name   string
		params any
		steps  []map[string]any
		output map[string]any
		want   string
	}{
		{name: "no steps", want: "spec.steps: required"},
		{name: "unknown action", steps: step("action", "nope:nope"), want: "spec.steps[0].action: unknown action"},
		{name: "no action", steps: step("action", ""), want: "spec.steps[0].action: required"},
		{name: "bad if", steps: step("if", 3), want: "spec.steps[0].if"},
		{name: "bad each", steps: step("each", 3), want: "spec.steps[0].each"},
		{name: "unknown step field", steps: step("bogus", 1), want: "spec.steps[0]: json: unknown field"},
		{name: "duplicate id", steps: append(step(), step()...), want: "spec.steps[1].id"},
		{name: "bad parameters", params: []any{"x"}, steps: step(), want: "spec.parameters[0]"},
		{name: "bad link", steps: step(), output: map[string]any{"links": []any{map[string]any{"href": "x"}}}, want: "spec.output.links[0].href"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseTemplate(templateJSON(t, "", tc.params, tc.steps, tc.output))
			if !errors.Is(err, derrors.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseTemplate = %v, want an invalid error containing %q", err, tc.want)
			}
		})
	}
}

func TestTemplateDir(t *testing.T) {
	for _, tc := range []struct {
		location, want string
		wantErr        error
	}{
		{location: "file:/srv/t/template.yaml", want: "/srv/t"},
		{location: "", want: ""},
		{location: "url:https://github.com/o/r/blob/main/template.yaml", wantErr: derrors.ErrNotImplemented},
		{location: "file:relative/template.yaml", wantErr: derrors.ErrInvalid},
	} {
		got, err := TemplateDir(tc.location)
		if tc.wantErr != nil {
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("TemplateDir(%q) = %q, %v; want %v", tc.location, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("TemplateDir(%q) = %q, %v; want %q", tc.location, got, err, tc.want)
		}
	}
}

// TestEngineCookiecutterCompat renders a cookiecutter-style skeleton with
// the real engine: {{ cookiecutter.x }} in contents and names.
func TestEngineCookiecutterCompat(t *testing.T) {
	tmplDir := t.TempDir()
	for name, content := range map[string]string{
		"skeleton/{{ cookiecutter.name }}.md": "# {{ cookiecutter.name | title }}\ntags: {{ cookiecutter.tags | jsonify }}\nci: ${{ github.sha }}\n",
	} {
		p := filepath.Join(tmplDir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ws, err := workspace.New(t.TempDir(), workspace.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	x := &Execution{
		Spec: &TaskSpec{Steps: []Step{{ID: "fetch", Action: "fetch:template", Input: map[string]any{
			"url": "./skeleton", "cookiecutterCompat": true,
			"values": map[string]any{"name": "${{ parameters.name }}", "tags": []any{"go"}}}}},
			Parameters: map[string]any{"name": "parcels"}},
		TemplateDir: tmplDir,
		Workspace:   ws,
	}
	if _, err := x.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, err := ws.ReadFile("parcels.md")
	if err != nil || string(got) != "# Parcels\ntags: [\"go\"]\nci: $\n" {
		t.Errorf("parcels.md = %q, %v", got, err)
	}
}

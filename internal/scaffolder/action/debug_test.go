package action

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/atrium-dev/atrium/internal/scaffolder/workspace"
)

func TestDebugLog(t *testing.T) {
	tests := []struct {
		name     string
		input    map[string]any
		want     []string
		dontWant []string
	}{
		{"message", map[string]any{"message": "hello there"}, []string{"hello there"}, []string{"Workspace"}},
		{"list names", map[string]any{"listWorkspace": true}, []string{"Workspace", "docs/x.md", "src/main.go"}, []string{"msg=x"}},
		{"with-filenames", map[string]any{"listWorkspace": "with-filenames"}, []string{"docs/sub/y.md"}, nil},
		{"with-contents", map[string]any{"listWorkspace": "with-contents"}, []string{`docs/x.md:\nx`}, nil},
		{"false", map[string]any{"listWorkspace": false}, nil, []string{"Workspace"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newWSEnv(t)
			if err := env.run(t, "debug:log", tt.input); err != nil {
				t.Fatal(err)
			}
			logs := env.logs.String()
			for _, w := range tt.want {
				if !strings.Contains(logs, w) {
					t.Errorf("log does not contain %q:\n%s", w, logs)
				}
			}
			for _, w := range tt.dontWant {
				if strings.Contains(logs, w) {
					t.Errorf("log contains %q:\n%s", w, logs)
				}
			}
		})
	}
}

func TestDebugWait(t *testing.T) {
	env := newEnv(t, nil, workspace.Limits{})
	start := time.Now()
	if err := env.run(t, "debug:wait", map[string]any{"milliseconds": 20}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Errorf("waited %v, want at least 20ms", d)
	}
	for _, in := range []map[string]any{{"minutes": 10, "seconds": 1}, {"minutes": 11}, {"seconds": -1}} {
		if err := env.run(t, "debug:wait", in); err == nil {
			t.Errorf("debug:wait %v succeeded", in)
		}
	}

	// Cancellation ends the wait.
	a, _ := Lookup("debug:wait")
	ctx, cancel := context.WithCancel(context.Background())
	env.rc.Input = map[string]any{"minutes": 5}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, env.rc) }()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("debug:wait ignored cancellation")
	}

	// A dry run does not wait.
	env.rc.IsDryRun = true
	env.rc.Input = map[string]any{"minutes": 5}
	if err := a.Run(context.Background(), env.rc); err != nil {
		t.Fatal(err)
	}
}

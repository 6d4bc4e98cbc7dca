package cli_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/atrium-dev/atrium/internal/cli"
)

func examplesDir(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("runtime.Caller failed")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "examples")
}

func run(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = cli.Main(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// exampleCatalogFiles are the files examples/all.yaml reads.
func exampleCatalogFiles(t *testing.T) []string {
	t.Helper()
	dir := examplesDir(t)
	files := []string{"all.yaml", "org.yaml", "domains.yaml", "systems.yaml", "resources.yaml",
		"apis/shipments-api.yaml", "apis/route-planner-api.yaml", "apis/shipment-events-api.yaml",
		"apis/customer-graphql-api.yaml", "templates/service/template.yaml"}
	comps, err := filepath.Glob(filepath.Join(dir, "components", "*.yaml"))
	if err != nil || len(comps) == 0 {
		t.Fatalf("no components: %v", err)
	}
	var out []string
	for _, f := range files {
		out = append(out, filepath.Join(dir, f))
	}
	return append(out, comps...)
}

func TestValidateExampleCatalog(t *testing.T) {
	files := exampleCatalogFiles(t)
	code, stdout, stderr := run(append([]string{"catalog", "validate"}, files...)...)
	if code != 0 || stdout != "" {
		t.Errorf("validate example catalog: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if want := strconv.Itoa(len(files)) + " file(s) valid"; !strings.Contains(stderr, want) {
		t.Errorf("stderr %q lacks %q", stderr, want)
	}

	// A directory of catalog files.
	code, stdout, stderr = run("catalog", "validate", filepath.Join(examplesDir(t), "components"))
	if code != 0 || stdout != "" {
		t.Errorf("validate examples/components: exit %d\n%s%s", code, stdout, stderr)
	}

	// Templates with their skeletons: the templated catalog-info.yaml and
	// mkdocs.yml are not catalog files until rendered; named, they are.
	code, stdout, stderr = run("catalog", "validate", filepath.Join(examplesDir(t), "templates"))
	if code != 0 || stdout != "" {
		t.Errorf("validate examples/templates: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, _ = run("catalog", "validate", filepath.Join(examplesDir(t), "templates", "service", "skeleton", "catalog-info.yaml"))
	if code != 1 || !strings.Contains(stdout, "catalog-info.yaml:") {
		t.Errorf("validate a named skeleton file: exit %d\n%s", code, stdout)
	}
}

// headerLines reads the line numbers a broken example's header comment
// names ("line 9", "lines 9 and 10"), before the first YAML line.
func headerLines(t *testing.T, path string) []int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var header strings.Builder
	for _, l := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(l, "#") {
			break
		}
		header.WriteString(l + "\n")
	}
	// "(... reports it as "line 9" ...)" describes the YAML library, not
	// the file; leave parenthesised remarks out.
	text := regexp.MustCompile(`(?s)\(.*?\)`).ReplaceAllString(header.String(), "")
	var lines []int
	for _, m := range regexp.MustCompile(`(?i)\blines? (\d+)`).FindAllStringSubmatch(text, -1) {
		n, _ := strconv.Atoi(m[1])
		lines = append(lines, n)
	}
	if len(lines) == 0 {
		t.Fatalf("%s: no line numbers in the header comment", path)
	}
	return lines
}

var diagnostic = regexp.MustCompile(`^(.+):(\d+):(\d+): (.+)$`)

// TestValidateBrokenExamples checks each examples/broken file fails with
// file:line:col: message lines pointing at the lines its header names. (A
// missing spec.owner used to be reported at the first key inside spec,
// 11:3, instead of the "spec:" line 10; fixed in 3cbcbb5.)
func TestValidateBrokenExamples(t *testing.T) {
	tests := []struct {
		file     string
		wantMsgs []string // substrings, one per expected diagnostic, in order
	}{
		{"bad-name.yaml", []string{"metadata.name", "Hardware"}},
		{"missing-owner.yaml", []string{"owner"}},
		{"syntax-error.yaml", []string{"did not find expected"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join(examplesDir(t), "broken", tt.file)
			code, stdout, stderr := run("catalog", "validate", path)
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			if !strings.Contains(stderr, "problem(s) in 1 file(s)") {
				t.Errorf("stderr = %q", stderr)
			}
			var gotLines []int
			var msgs []string
			for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
				m := diagnostic.FindStringSubmatch(l)
				if m == nil {
					t.Fatalf("output line %q is not file:line:col: message", l)
				}
				if m[1] != path {
					t.Errorf("diagnostic names %s, want %s", m[1], path)
				}
				n, _ := strconv.Atoi(m[2])
				gotLines = append(gotLines, n)
				msgs = append(msgs, m[4])
			}
			if diff := cmp.Diff(headerLines(t, path), gotLines); diff != "" {
				t.Errorf("lines of the diagnostics (-header says +got):\n%s\noutput:\n%s", diff, stdout)
			}
			if len(msgs) != len(tt.wantMsgs) {
				t.Fatalf("got %d diagnostics, want %d:\n%s", len(msgs), len(tt.wantMsgs), stdout)
			}
			for i, want := range tt.wantMsgs {
				if !strings.Contains(msgs[i], want) {
					t.Errorf("diagnostic %d = %q, want it to mention %q", i, msgs[i], want)
				}
			}
		})
	}

	// All three together: exit 1, every problem reported.
	code, stdout, _ := run("catalog", "validate", filepath.Join(examplesDir(t), "broken"))
	if code != 1 || strings.Count(stdout, "\n") != 4 {
		t.Errorf("validate examples/broken: exit %d, output:\n%s", code, stdout)
	}
}

func TestValidateErrors(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, bytes.Repeat([]byte("#"), 10<<20+1), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{"no args", []string{"catalog", "validate"}, 1, "", "requires at least 1 arg"},
		{"missing file", []string{"catalog", "validate", filepath.Join(dir, "nope.yaml")}, 1, "", "no such file"},
		{"too large", []string{"catalog", "validate", big}, 1, big + ":1:1: file is", "1 problem(s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(tt.args...)
			if code != tt.wantCode || !strings.Contains(stdout, tt.wantStdout) || !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d, %q, %q", code, stdout, stderr, tt.wantCode, tt.wantStdout, tt.wantStderr)
			}
		})
	}
}

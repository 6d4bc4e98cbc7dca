package web

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/atrium-dev/atrium/internal/derrors"
)

// upload is a file in a multipart post: the input's name, the file's
// name as the browser sends it, its content.
type upload struct {
	field, name string
	data        []byte
}

// postFiles posts form and files as multipart/form-data (with the CSRF
// token) and returns the status and body.
func (s *createSite) postFiles(t *testing.T, path string, form url.Values, files ...upload) (int, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	form = cloneValues(form)
	form.Set("csrf", s.token)
	for k, vs := range form {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, f.field, f.name))
		h.Set("Content-Type", "application/octet-stream")
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(f.data)
	}
	mw.Close()
	resp, err := s.c.Post(s.url+path, mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// zipOf and tarGzOf build archives of name/content pairs.
func zipOf(t *testing.T, files ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i+1 < len(files); i += 2 {
		w, err := zw.Create(files[i])
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(files[i+1]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func tarGzOf(t *testing.T, files ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gw)
	for i := 0; i+1 < len(files); i += 2 {
		if err := tw.WriteHeader(&tar.Header{Name: files[i], Mode: 0o644, Size: int64(len(files[i+1])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(files[i+1]))
	}
	tw.Close()
	gw.Close()
	return buf.Bytes()
}

// editorTemplate is a small template: a form with a required name, a
// skeleton rendered into the workspace, and output.
const editorTemplate = `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: tiny
  title: Tiny
spec:
  owner: group:default/devex-team
  type: service
  parameters:
    - title: About
      required: [name]
      properties:
        name:
          title: Name
          type: string
        system:
          title: System
          type: string
          ui:field: EntityPicker
          ui:options:
            catalogFilter: {kind: System}
  steps:
    - id: fetch
      name: Render
      action: fetch:template
      input:
        url: ./skeleton
        values:
          name: ${{ parameters.name }}
    - id: log
      action: debug:log
      input:
        message: made ${{ parameters.name }}
  output:
    links:
      - title: Docs
        url: https://example.com/${{ parameters.name }}
      - title: Bad
        url: javascript:alert(1)
    text:
      - title: Next
        content: Push <b>${{ parameters.name }}</b>.
`

// skeleton is the template's files, one of them with markup that the
// page must show as text, and one binary.
func skeleton(t *testing.T) []byte {
	return zipOf(t,
		"skeleton/README.md", "# ${{ values.name }}\n<script>window.__xss = 9</script>\n",
		"skeleton/src/main.go", "package main // ${{ values.name }}\n",
		"skeleton/logo.png", "\x89PNG\r\n\x1a\n\x00\x00\x00binary",
	)
}

func TestEditorDryRun(t *testing.T) {
	fake := &fakeScaffolder{}
	site := newCreateSite(t, fake)
	form := url.Values{"yaml": {editorTemplate}, "op": {"run"}, "v.name": {"parcel-api"}, "shown": {"v.name", "v.system"}}
	code, body := site.postFiles(t, "/create/edit", form, upload{"archive", "tiny.zip", skeleton(t)})
	if code != http.StatusOK {
		t.Fatalf("dry run = %d\n%s", code, excerpt(body))
	}
	text := unescapeHTML(body)
	for _, w := range []string{
		`Dry run <span class="task-status task-status-completed">completed</span>`,
		// the log, with steps and statuses
		`<span class="log-step">fetch</span> <span class="step-status step-status-completed">completed</span>`,
		`made parcel-api`,
		// the output: http links only, text as text
		`<a href="https://example.com/parcel-api">Docs</a>`, `Push`,
		// the file tree, folders first
		`<span class="file-name">src/</span>`, `<code class="file-name">README.md</code>`,
		`Binary, 17 bytes: not shown.`, `3 files kept`,
		// the YAML and values are kept for the next run
		`name: tiny`, `value="parcel-api"`,
	} {
		if !strings.Contains(text, w) {
			t.Errorf("the result lacks %s", w)
		}
	}
	if !strings.Contains(body, "# parcel-api\n&lt;script&gt;window.__xss = 9&lt;/script&gt;") {
		t.Errorf("README.md is not shown escaped\n%s", excerpt(body[strings.Index(body, "editor-result"):]))
	}
	for _, bad := range []string{"<script>window.__xss", "<b>parcel-api</b>", `href="javascript:`} {
		if strings.Contains(body, bad) {
			t.Errorf("the page has %s", bad)
		}
	}
	got, _ := fake.lastDryRun()
	if diff := cmp.Diff(map[string]any{"name": "parcel-api"}, got.Values); diff != "" {
		t.Errorf("values (-want +got):\n%s", diff)
	}
	if len(got.Files) != 3 || string(got.Files["skeleton/src/main.go"]) != "package main // ${{ values.name }}\n" {
		t.Errorf("files sent: %v", got.Files)
	}

	// The files are kept: a second run sends only the form.
	stash := regexp.MustCompile(`name="stash" value="([^"]+)"`).FindStringSubmatch(body)
	if stash == nil {
		t.Fatal("the page keeps no files")
	}
	form.Set("stash", stash[1])
	form.Set("v.name", "other")
	code, body = site.postFiles(t, "/create/edit", form)
	if code != http.StatusOK || !strings.Contains(body, "made other") || !strings.Contains(body, "# other\n") {
		t.Errorf("second run = %d\n%s", code, excerpt(body))
	}
	// Another browser cannot use them.
	other := newCreateSite(t, fake)
	code, body = other.postFiles(t, "/create/edit", form)
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "The files uploaded before are no longer kept") {
		t.Errorf("another browser's run = %d\n%s", code, excerpt(body))
	}
	// Forgetting them runs without them: the fetch fails, and says so.
	form.Set("forget", "1")
	code, body = site.postFiles(t, "/create/edit", form)
	if code != http.StatusOK || !strings.Contains(body, `task-status-failed">failed</span>`) || strings.Contains(body, `name="stash"`) {
		t.Errorf("run without files = %d\n%s", code, excerpt(body))
	}
}

func TestEditorProblems(t *testing.T) {
	site := newCreateSite(t, &fakeScaffolder{})
	badStep := strings.Replace(editorTemplate, "action: debug:log", "action: debug:nope", 1)
	lineOf := func(text, s string) int { return strings.Count(text[:strings.Index(text, s)], "\n") + 1 }
	many := []string{}
	for i := range maxEditorFiles + 1 {
		many = append(many, fmt.Sprintf("f/%d.txt", i), "x")
	}
	tests := []struct {
		name   string
		form   url.Values
		files  []upload
		code   int
		anchor string
		want   string
	}{
		{"yaml syntax", url.Values{"yaml": {"apiVersion: x\nkind: Template\nmetadata:\n  name: [oops\n"}}, nil,
			422, "e-yaml", "Template: Line "},
		{"unknown action, with its line", url.Values{"yaml": {badStep}, "v.name": {"x"}}, nil,
			422, "e-yaml", fmt.Sprintf(`Template: Line %d: spec.steps[1].action: unknown action "debug:nope"`, lineOf(badStep, "debug:nope"))},
		{"two documents", url.Values{"yaml": {editorTemplate + "---\n" + editorTemplate}}, nil, 422, "e-yaml", "The YAML holds 2 documents"},
		{"no yaml", url.Values{"yaml": {""}}, nil, 422, "e-yaml", "Paste the template's YAML"},
		{"value required", url.Values{"yaml": {editorTemplate}, "shown": {"v.name"}}, nil, 422, "f-name", "Name: Name is required."},
		{"value not a ref", url.Values{"yaml": {editorTemplate}, "v.name": {"x"}, "v.system": {"no such thing!"}, "shown": {"v.name", "v.system"}}, nil,
			422, "f-system", `System: "no such thing!" is not an entity ref`},
		{"traversal in zip", url.Values{"yaml": {editorTemplate}, "v.name": {"x"}}, []upload{{"archive", "t.zip", zipOf(t, "skeleton/a", "a", "../evil.txt", "x")}},
			422, "e-archive", `"../evil.txt" leads out of the template's folder`},
		{"absolute path in tar", url.Values{"yaml": {editorTemplate}, "v.name": {"x"}}, []upload{{"archive", "t.tar.gz", tarGzOf(t, "/etc/cron.d/x", "x")}},
			422, "e-archive", `"/etc/cron.d/x" is an absolute path`},
		{"traversal in a file name", url.Values{"yaml": {editorTemplate}, "v.name": {"x"}}, []upload{{"folder", "t/../../x", []byte("x")}},
			422, "e-archive", `leads out of the template's folder`},
		{"not an archive", url.Values{"yaml": {editorTemplate}, "v.name": {"x"}}, []upload{{"archive", "t.rar", []byte("x")}},
			422, "e-archive", "t.rar is not an archive"},
		{"too many files", url.Values{"yaml": {editorTemplate}, "v.name": {"x"}}, []upload{{"archive", "t.zip", zipOf(t, many...)}},
			422, "e-archive", "The template's files are more than 1000"},
		{"too large unpacked", url.Values{"yaml": {editorTemplate}, "v.name": {"x"}}, []upload{{"archive", "t.tgz", tarGzOf(t, "big", strings.Repeat("0", maxEditorBytes+1))}},
			422, "e-archive", "larger than 10 MiB together once unpacked"},
		{"too large files", url.Values{"yaml": {editorTemplate}, "v.name": {"x"}}, []upload{
			{"files", "a", bytes.Repeat([]byte("a"), 6<<20)}, {"files", "b", bytes.Repeat([]byte("b"), 5<<20)}},
			422, "e-archive", "larger than 10 MiB together"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.form.Set("op", "run")
			code, body := site.postFiles(t, "/create/edit", tt.form, tt.files...)
			if code != tt.code {
				t.Fatalf("post = %d, want %d\n%s", code, tt.code, excerpt(body))
			}
			text := unescapeHTML(body)
			if !strings.Contains(text, tt.want) {
				t.Errorf("no %q\n%s", tt.want, excerpt(body))
			}
			if !strings.Contains(body, `<a href="#`+tt.anchor+`">`) {
				t.Errorf("the summary does not link to #%s", tt.anchor)
			}
			if !strings.Contains(body, `aria-invalid="true"`) {
				t.Error("no field is marked invalid")
			}
			if !strings.Contains(body, "<title>Error: ") {
				t.Error("the title does not say there is an error")
			}
			if strings.Contains(body, "editor-result") {
				t.Error("the template ran")
			}
		})
	}

	// A body over the limit is refused whole, with the limit.
	code, body := site.postFiles(t, "/create/edit", url.Values{"yaml": {editorTemplate}},
		upload{"files", "huge", bytes.Repeat([]byte("x"), maxEditorPost)})
	if code != http.StatusBadRequest || !strings.Contains(body, "larger than 12 MiB") {
		t.Errorf("huge post = %d\n%s", code, excerpt(body))
	}
	// Other forms take no files.
	code, _ = site.postFiles(t, "/catalog-import/analyze", url.Values{"target": {"x"}})
	if code != http.StatusBadRequest {
		t.Errorf("multipart post to the import form = %d, want 400", code)
	}
}

func TestEditorUpdateForm(t *testing.T) {
	site := newCreateSite(t, &fakeScaffolder{})
	// A new field shows its default; a field that was on the page keeps
	// what the user left in it, even empty.
	yaml := strings.Replace(editorTemplate, "        name:\n          title: Name\n", "        name:\n          title: Name\n          default: dflt\n", 1)
	yaml = strings.Replace(yaml, "        system:\n", "        flag:\n          title: Flag\n          type: boolean\n          default: true\n        system:\n", 1)
	code, body := site.postFiles(t, "/create/edit", url.Values{"yaml": {yaml}, "op": {"form"}, "v.name": {""}, "shown": {"v.name"}})
	if code != http.StatusOK {
		t.Fatalf("update = %d\n%s", code, excerpt(body))
	}
	for _, w := range []string{`<input id="f-name" type="text" name="v.name" value=""`, `name="v.flag" value="true" checked`,
		`<input type="hidden" name="shown" value="v.flag">`, `<datalist id="f-system-list">`} {
		if !strings.Contains(body, w) {
			t.Errorf("the form lacks %s", w)
		}
	}
	if strings.Contains(body, "error-summary") {
		t.Error("updating the form checks the values")
	}
}

func TestEditorLoad(t *testing.T) {
	site := newCreateSite(t, &fakeScaffolder{})
	code, body := site.get(t, "/create/edit?template=default/every-field")
	if code != http.StatusOK {
		t.Fatalf("load = %d\n%s", code, excerpt(body))
	}
	text := unescapeHTML(body)
	for _, w := range []string{"name: every-field", "kind: Template", `<option value="default/every-field" selected>`,
		`enctype="multipart/form-data"`, `<input id="f-name" type="text" name="v.name" value=""`, `value="m" type="radio" checked`} {
		if !strings.Contains(text, w) && !strings.Contains(body, w) {
			t.Errorf("the editor lacks %s", w)
		}
	}
	for _, bad := range []string{"uid:", "etag:", "relations:", "<b>bold</b>"} {
		if strings.Contains(body, bad) {
			t.Errorf("the editor shows %s", bad)
		}
	}
	if code, _ := site.get(t, "/create/edit?template=default/nope"); code != http.StatusNotFound {
		t.Errorf("missing template = %d, want 404", code)
	}
	_, list := site.get(t, "/create")
	if !strings.Contains(list, `href="/create/edit"`) {
		t.Error("the Create page does not link to the editor")
	}
}

func TestEditorForbidden(t *testing.T) {
	site := newCreateSite(t, &fakeScaffolder{dryErr: derrors.Forbidden("You are not allowed to do this (scaffolder.action.execute)")})
	code, body := site.postFiles(t, "/create/edit", url.Values{"yaml": {editorTemplate}, "op": {"run"}, "v.name": {"x"}})
	if code != http.StatusForbidden || !strings.Contains(body, "needs the permission scaffolder.action.execute") ||
		!strings.Contains(body, "name: tiny") {
		t.Errorf("forbidden run = %d\n%s", code, excerpt(body))
	}
	code, body = newCreateSite(t, nil).postFiles(t, "/create/edit", url.Values{"yaml": {editorTemplate}, "op": {"run"}, "v.name": {"x"}})
	if code != http.StatusNotImplemented || !strings.Contains(body, noScaffolderMessage) {
		t.Errorf("run without a scaffolder = %d\n%s", code, excerpt(body))
	}
}

func TestUploadPath(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"a/b.txt", "a/b.txt", ""},
		{"./a//b/./c", "a/b/c", ""},
		{`a\b.txt`, "a/b.txt", ""},
		{"a/../b", "", "leads out"},
		{"..", "", "leads out"},
		{`..\x`, "", "leads out"},
		{"/etc/passwd", "", "absolute"},
		{`C:\x`, "", "absolute"},
		{".", "", "no name"},
		{"", "", "no name"},
	}
	for _, tt := range tests {
		got, err := uploadPath(tt.in)
		if got != tt.want || (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
			t.Errorf("uploadPath(%q) = %q, %v; want %q, %q", tt.in, got, err, tt.want, tt.err)
		}
	}
}

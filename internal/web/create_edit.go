package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/atrium-dev/atrium/internal/catalog"
	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/catalog/filter"
	"github.com/atrium-dev/atrium/internal/catalog/source"
	"github.com/atrium-dev/atrium/internal/derrors"
	"github.com/atrium-dev/atrium/internal/scaffolder"
)

// The template editor, Backstage's /create/edit: paste a template's YAML
// (or load one of the catalog's), upload its files, fill in the form the
// template generates and dry-run it. The page then shows the run's log,
// its output and the files it produced. Nothing is stored or published.
//
//	GET  /create/edit[?template=namespace/name]  the editor, empty or with a catalog template's YAML
//	POST /create/edit                            update the form, or dry-run (op=run)
//
// The values are entered in the form the template generates, which is
// what its users will see, with the same checks; it is built on the
// server from the YAML as last sent, so it works without JavaScript: a
// post with op=form (Update the form) only rebuilds it. The post is
// multipart (it carries files); the files are kept in the stash between
// posts (see fileStash), the YAML and values in the form itself.

// editorPath is the editor's address.
const editorPath = "/create/edit"

// maxShownBytes caps the content shown of each file a dry run produced.
const maxShownBytes = 64 << 10

// editorPermission is what a dry run needs.
const editorPermission = "scaffolder.action.execute"

// createEditorView is the template editor.
type createEditorView struct {
	Layout
	Action string
	// YAML is the template's text; YAMLErrors what is wrong with it (with
	// lines where known).
	YAML       string
	YAMLErrors []string
	// Templates are the catalog's templates the editor can load; Loaded
	// the one loaded ("namespace/name").
	Templates []option
	Loaded    string
	// Stash is the id of the files kept from earlier posts; Files lists
	// them; FilesError is what was wrong with the files uploaded.
	Stash      string
	Files      []editorFile
	FilesBytes int
	FilesError string
	// Steps are the template's form; Shown the names of its fields (so
	// that the next post knows which fields were on the page).
	Steps []*formStep
	Shown []string
	// Errors are the error summary's lines; Message an error of the whole
	// run (not allowed, cannot run here).
	Errors  []fieldError
	Message string
	// Result is the dry run's, once there is one.
	Result *dryRunView
	// MayNotRun warns that the policy does not grant the permission.
	MayNotRun   bool
	Unavailable string

	// template is the YAML read as the entity's JSON, doc as YAML (for
	// the lines of errors); nil when it cannot be read. pickers are the
	// options of the form's entity pickers.
	template json.RawMessage
	doc      *source.Document
	pickers  map[string][]option
}

// editorFile is one of the files kept for the template.
type editorFile struct {
	Path string
	Size int
}

// dryRunView is what a dry run produced.
type dryRunView struct {
	// Error is why the run failed (a step's error), if it did.
	Error string
	Log   []dryRunLine
	Links []taskLink
	Texts []taskText
	// Tree is the produced files' folder tree.
	Tree       []*fileNode
	FileCount  int
	TotalBytes int
}

// dryRunLine is one line of a dry run's log.
type dryRunLine struct{ Step, Status, Message string }

// fileNode is a folder or a file of a dry run's result.
type fileNode struct {
	Name, Path string
	Dir        bool
	Children   []*fileNode
	// Size is a file's size; Binary marks content that is not text (not
	// shown); Content is the text shown, cut at maxShownBytes when
	// Truncated.
	Size      int
	Binary    bool
	Content   string
	Truncated bool
}

// newEditorView is the editor's page, without a template.
func (h *handler) newEditorView(r *http.Request) (*createEditorView, error) {
	v := &createEditorView{
		Layout:      h.layout(r, "Template editor", sectionCreate, crumb{"Create", "/create"}, crumb{"Template editor", ""}),
		Action:      editorPath,
		Unavailable: h.unavailable(),
	}
	if a := h.opts.Authorizer; a != nil && h.opts.Scaffolder != nil {
		v.MayNotRun = !a.Allowed(r.Context(), editorPermission, nil)
	}
	page, err := h.c.QueryEntities(r.Context(), catalog.Query{Filter: filter.Match{Key: "kind", Values: []string{"template"}},
		Limit: maxTemplates, Order: []filter.Order{{Field: "metadata.title"}, {Field: "metadata.name"}}})
	if err != nil {
		return nil, err
	}
	for _, raw := range page.Items {
		e, err := decodeEntity(raw)
		if err != nil {
			return nil, err
		}
		ref := e.Ref()
		v.Templates = append(v.Templates, option{Value: ref.Namespace + "/" + ref.Name, Label: e.DisplayName() + " (" + humanizeRef(ref, "Template") + ")"})
	}
	return v, nil
}

// editorPage serves GET /create/edit: the editor, with the YAML of the
// catalog's template ?template=namespace/name if given.
func (h *handler) editorPage(w http.ResponseWriter, r *http.Request) error {
	v, err := h.newEditorView(r)
	if err != nil {
		return err
	}
	if name := r.URL.Query().Get("template"); name != "" {
		ns, n, ok := strings.Cut(name, "/")
		if !ok {
			ns, n = entity.DefaultNamespace, name
		}
		raw, err := h.c.EntityByRef(r.Context(), entity.Ref{Kind: "Template", Namespace: ns, Name: n})
		if err != nil {
			return err
		}
		if v.YAML, err = authoredYAML(raw); err != nil {
			return err
		}
		v.Loaded = name
	}
	status := http.StatusOK
	if v.YAML != "" {
		status = h.editorForm(r.Context(), v, nil, false)
	}
	return h.views.render(w, status, "create_edit", v)
}

// authoredYAML is a catalog entity as its author wrote it: as YAML,
// without what the catalog adds (uid, etag, generation, relations,
// status).
func authoredYAML(raw json.RawMessage) (string, error) {
	var e map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&e); err != nil {
		return "", err
	}
	delete(e, "relations")
	delete(e, "status")
	if md, ok := e["metadata"].(map[string]any); ok {
		for _, k := range []string{"uid", "etag", "generation"} {
			delete(md, k)
		}
	}
	b, err := json.Marshal(e)
	if err != nil {
		return "", err
	}
	return jsonToYAML(b)
}

// editorPost serves POST /create/edit.
func (h *handler) editorPost(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	v, err := h.newEditorView(r)
	if err != nil {
		return err
	}
	form := r.PostForm
	v.YAML = strings.ReplaceAll(form.Get("yaml"), "\r\n", "\n")
	v.Loaded = form.Get("loaded")

	// The files: those kept, then those uploaded now.
	owner := stashOwner(csrfToken(ctx))
	var kept map[string][]byte
	if id := form.Get("stash"); id != "" && form.Get("forget") == "" {
		var ok bool
		if kept, ok = h.stash.get(owner, id); ok {
			v.Stash = id
		} else {
			v.FilesError = "The files uploaded before are no longer kept (they are kept for 30 minutes, on one server): upload them again."
		}
	}
	files := newFileSet(kept)
	if r.MultipartForm != nil {
		if err := files.readUploads(r.MultipartForm); err != nil {
			var ue *uploadError
			if !errors.As(err, &ue) {
				return err
			}
			v.FilesError = ue.msg
			files = newFileSet(kept) // the upload is dropped whole
		}
	}
	if strings.TrimSpace(v.YAML) == "" && files.files["template.yaml"] != nil {
		// A template folder uploaded whole brings its YAML.
		v.YAML = string(files.files["template.yaml"])
		files.size -= len(files.files["template.yaml"])
		delete(files.files, "template.yaml")
	}
	if len(files.files) > 0 {
		v.Stash = h.stash.put(owner, v.Stash, files.files)
	} else {
		v.Stash = ""
	}
	for p, b := range files.files {
		v.Files = append(v.Files, editorFile{Path: p, Size: len(b)})
	}
	slices.SortFunc(v.Files, func(a, b editorFile) int { return strings.Compare(a.Path, b.Path) })
	v.FilesBytes = files.size

	run := form.Get("op") != "form"
	status := h.editorForm(ctx, v, form, run)
	if v.FilesError != "" {
		v.Errors = append([]fieldError{{Anchor: "e-archive", Label: "Files", Message: v.FilesError}}, v.Errors...)
		status = http.StatusUnprocessableEntity
	}
	if run && status == http.StatusOK {
		status = h.dryRun(ctx, v, files.files)
	}
	if len(v.Errors) > 0 {
		v.Title = "Error: " + v.Title
		walkAll(v.Steps, func(f *formField) { f.Autofocus = false })
	}
	return h.views.render(w, status, "create_edit", v)
}

// editorForm reads v.YAML and builds its form, with the values posted
// (nil: the defaults) and, when check is set, checks them. It returns
// the page's status so far: 422 when the template or a value is wrong.
func (h *handler) editorForm(ctx context.Context, v *createEditorView, form url.Values, check bool) int {
	status := http.StatusOK
	if len(v.YAML) > maxEditorYAML {
		v.YAMLErrors = []string{fmt.Sprintf("The YAML is larger than %d MiB.", maxEditorYAML>>20)}
	} else if strings.TrimSpace(v.YAML) == "" {
		if check {
			v.YAMLErrors = []string{"Paste the template's YAML, or upload its folder with its template.yaml."}
		}
	} else {
		tmpl, doc, problems := parseTemplateYAML(v.YAML)
		v.YAMLErrors, v.template, v.doc = problems, tmpl, doc
		if doc != nil {
			var spec struct {
				Spec struct {
					Parameters json.RawMessage `json:"parameters"`
				} `json:"spec"`
			}
			_ = json.Unmarshal(tmpl, &spec) // tmpl is JSON we wrote
			steps, pickers, err := h.buildForm(ctx, spec.Spec.Parameters)
			if err != nil {
				if !errors.Is(err, derrors.ErrInvalid) {
					v.Message = "The catalog could not be read for the entity pickers."
					return http.StatusInternalServerError
				}
				_, _, msg := classify(err)
				v.YAMLErrors = append(v.YAMLErrors, docLine(doc, "spec.parameters")+msg)
			}
			v.Steps, v.pickers = steps, pickers
			// A field that was on the page (or has a value posted) takes
			// the value posted, even none; one new to the page its default.
			shown := map[string]bool{}
			for _, n := range form["shown"] {
				shown[n] = true
			}
			for k := range form {
				if !strings.HasPrefix(k, valuePrefix) {
					continue
				}
				shown[k] = true
				// The parts of a RepoUrlPicker, a MultiEntityPicker's typed refs.
				for _, part := range []string{".host", ".owner", ".repo", ".other"} {
					if name, ok := strings.CutSuffix(k, part); ok {
						shown[name] = true
					}
				}
			}
			for _, st := range steps {
				setDefaults(st.Fields)
				walkFields(st.Fields, func(f *formField) {
					if shown[f.Name] {
						bindField(f, form)
					}
					if f.Control != "object" {
						v.Shown = append(v.Shown, f.Name)
					}
				})
			}
			if check && len(v.YAMLErrors) == 0 {
				if _, ok := collect(steps, pickers); !ok {
					status = http.StatusUnprocessableEntity
				}
				walkAll(steps, func(f *formField) {
					if f.Error != "" {
						v.Errors = append(v.Errors, fieldError{Anchor: f.Anchor, Label: f.Label, Message: f.Error})
					}
				})
			}
		}
	}
	if len(v.YAMLErrors) > 0 {
		msgs := v.YAMLErrors
		errs := make([]fieldError, 0, len(msgs))
		for _, m := range msgs {
			errs = append(errs, fieldError{Anchor: "e-yaml", Label: "Template", Message: m})
		}
		v.Errors = append(errs, v.Errors...)
		status = http.StatusUnprocessableEntity
	}
	return status
}

// walkAll calls fn on every field of every step.
func walkAll(steps []*formStep, fn func(*formField)) {
	for _, st := range steps {
		walkFields(st.Fields, fn)
	}
}

// dryRun runs the checked form's template and puts the result in v. It
// returns the page's status.
func (h *handler) dryRun(ctx context.Context, v *createEditorView, files map[string][]byte) int {
	if h.opts.Scaffolder == nil {
		v.Message = noScaffolderMessage
		return http.StatusNotImplemented
	}
	vals, _ := collect(v.Steps, v.pickers)
	// Secrets are not the template's values, and a dry run takes none.
	res, err := h.opts.Scaffolder.DryRun(ctx, v.template, vals.values, files)
	var stepErr *scaffolder.StepError
	switch {
	case err == nil:
	case errors.As(err, &stepErr) && res != nil:
		// The run failed in a step: its result so far is shown with the error.
	case errors.Is(err, derrors.ErrForbidden):
		v.Message = "You may not run templates' steps, so you may not dry-run them either: that needs the permission " +
			editorPermission + ", which the permission policy does not grant you. Ask an administrator to grant it."
		return http.StatusForbidden
	case errors.Is(err, derrors.ErrInvalid):
		_, _, msg := classify(err)
		v.YAMLErrors = append(v.YAMLErrors, docLine(v.doc, errorPath(msg))+msg)
		v.Errors = append(v.Errors, fieldError{Anchor: "e-yaml", Label: "Template", Message: v.YAMLErrors[len(v.YAMLErrors)-1]})
		return http.StatusUnprocessableEntity
	case res == nil:
		h.log.Error("web: dry run failed", "err", err)
		v.Message = "The dry run could not be started. The error has been logged; try again in a moment."
		return http.StatusInternalServerError
	}
	v.Result = dryRunResultView(res, err)
	return http.StatusOK
}

// dryRunResultView shows a dry run's result and its error.
func dryRunResultView(res *scaffolder.DryRunResult, err error) *dryRunView {
	out := &dryRunView{FileCount: len(res.Files)}
	if err != nil {
		out.Error = err.Error()
	}
	for _, l := range res.Log {
		out.Log = append(out.Log, dryRunLine{Step: l.StepID, Status: l.Status, Message: l.Message})
	}
	if res.Output != nil {
		var o taskOutput
		if b, err := json.Marshal(res.Output); err == nil && json.Unmarshal(b, &o) == nil {
			out.Links, out.Texts = o.view()
		}
	}
	paths := make([]string, 0, len(res.Files))
	for p, b := range res.Files {
		paths = append(paths, p)
		out.TotalBytes += len(b)
	}
	sort.Strings(paths)
	dirs := map[string]*fileNode{}
	var parentOf func(dir string) *[]*fileNode
	parentOf = func(dir string) *[]*fileNode {
		if dir == "" {
			return &out.Tree
		}
		if d, ok := dirs[dir]; ok {
			return &d.Children
		}
		up, name := "", dir
		if i := strings.LastIndexByte(dir, '/'); i >= 0 {
			up, name = dir[:i], dir[i+1:]
		}
		d := &fileNode{Name: name, Path: dir, Dir: true}
		siblings := parentOf(up)
		*siblings = append(*siblings, d)
		dirs[dir] = d
		return &d.Children
	}
	for _, p := range paths {
		b := res.Files[p]
		dir, name := "", p
		if i := strings.LastIndexByte(p, '/'); i >= 0 {
			dir, name = p[:i], p[i+1:]
		}
		n := &fileNode{Name: name, Path: p, Size: len(b)}
		switch {
		case !isText(b):
			n.Binary = true
		case len(b) > maxShownBytes:
			cut := maxShownBytes
			for cut > 0 && !utf8.RuneStart(b[cut]) {
				cut--
			}
			n.Content, n.Truncated = string(b[:cut]), true
		default:
			n.Content = string(b)
		}
		siblings := parentOf(dir)
		*siblings = append(*siblings, n)
	}
	sortTree(out.Tree)
	return out
}

// sortTree puts folders before files, each by name.
func sortTree(nodes []*fileNode) {
	slices.SortStableFunc(nodes, func(a, b *fileNode) int {
		if a.Dir != b.Dir {
			if a.Dir {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	for _, n := range nodes {
		sortTree(n.Children)
	}
}

// isText reports whether b looks like text: valid UTF-8 (its first 8 KiB)
// without NUL bytes.
func isText(b []byte) bool {
	head := b[:min(len(b), 8<<10)]
	if bytes.IndexByte(head, 0) >= 0 {
		return false
	}
	for len(head) > 0 {
		r, size := utf8.DecodeRune(head)
		if r == utf8.RuneError && size == 1 {
			// A rune cut at the 8 KiB mark is fine.
			return len(head) < utf8.UTFMax && len(b) > len(head)
		}
		head = head[size:]
	}
	return true
}

// parseTemplateYAML reads a template's YAML into the entity's JSON (keys
// in the order written, which is the order of the form's fields) and
// checks it as the scaffolder will. doc is nil when the YAML cannot be
// read at all; problems say what is wrong, with lines where known.
func parseTemplateYAML(text string) (json.RawMessage, *source.Document, []string) {
	docs, err := source.Parse("template.yaml", []byte(text))
	if err != nil {
		var pe *source.ParseError
		if errors.As(err, &pe) {
			return nil, nil, []string{fmt.Sprintf("Line %d, column %d: %s", pe.Line, pe.Column, pe.Message)}
		}
		return nil, nil, []string{err.Error()}
	}
	switch len(docs) {
	case 0:
		return nil, nil, []string{"The YAML holds no template."}
	case 1:
	default:
		return nil, nil, []string{fmt.Sprintf("The YAML holds %d documents: paste the template only.", len(docs))}
	}
	doc := docs[0]
	raw, err := doc.OrderedDocument()
	if err != nil {
		return nil, nil, []string{err.Error()}
	}
	if _, err := scaffolder.ParseTemplate(raw); err != nil {
		_, _, msg := classify(err)
		return raw, doc, []string{docLine(doc, errorPath(msg)) + msg}
	}
	return raw, doc, nil
}

// errorPathRe finds the field path that starts a scaffolder error
// ("spec.steps[1].action: unknown action").
var errorPathRe = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z0-9_:/-]+|\[\d+\])*):`)

// errorPath is the field path an error message starts with, dotted
// ("spec.steps.1.action"), or "".
func errorPath(msg string) string {
	m := errorPathRe.FindStringSubmatch(msg)
	if m == nil {
		return ""
	}
	return strings.NewReplacer("[", ".", "]", "").Replace(m[1])
}

// docLine is "Line N: " for the value at path in doc, or "" when the
// path is empty.
func docLine(doc *source.Document, path string) string {
	if doc == nil || path == "" {
		return ""
	}
	line, _ := doc.Pos(path)
	if line == 0 {
		return ""
	}
	return "Line " + strconv.Itoa(line) + ": "
}

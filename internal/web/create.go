package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/atrium-dev/atrium/internal/auth"
	"github.com/atrium-dev/atrium/internal/catalog"
	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/catalog/filter"
	"github.com/atrium-dev/atrium/internal/derrors"
	"github.com/atrium-dev/atrium/internal/scaffolder"
)

// The Create pages, Backstage's /create: software templates (kind
// Template, scaffolder.backstage.io/v1beta3) and the forms that run them.
//
//	GET  /create                                     the templates, by type, with filters
//	GET  /create/templates/{namespace}/{name}        the template's form, every step a section
//	POST /create/templates/{namespace}/{name}/review validate; the form with its errors, or the review
//	POST /create/templates/{namespace}/{name}/edit   back from the review to the form, values kept
//	POST /create/templates/{namespace}/{name}/create start the task, then go to it
//	GET  /create/tasks/{id}                          the started task
//
// Values travel from the form to the review and on to create in the
// form posts themselves (hidden fields on the review page), so nothing is
// kept on the server between the steps, as Backstage keeps them in the
// browser. Secrets (password and Secret fields) travel the same way, and
// the pages are never cached (render sets no-store).

// Scaffolder runs software templates for the Create pages.
type Scaffolder interface {
	// CreateTask starts a task from the template with the form's values
	// (secrets: values of fields marked ui:widget password / ui:field
	// Secret, kept out of the task's stored values). It returns the task
	// id, or a derrors.Invalid error whose message names the field.
	CreateTask(ctx context.Context, template entity.Ref, values map[string]any, secrets map[string]string) (taskID string, err error)
	// DryRun runs a template (the entity as JSON) with values and the
	// template's files (by slash-separated path) without storing or
	// publishing anything, for the template editor. A step that fails
	// gives the result so far with the error; a caller without the
	// permission scaffolder.action.execute gets a derrors.Forbidden error.
	DryRun(ctx context.Context, templateJSON json.RawMessage, values map[string]any, files map[string][]byte) (*scaffolder.DryRunResult, error)
}

// maxTemplates caps the templates the Create page lists.
const maxTemplates = 500

// noScaffolderMessage is what the pages say when templates cannot run.
const noScaffolderMessage = "Templates cannot be run here: this portal has no scaffolder configured. You can still look at their forms."

// createListView is the list of templates.
type createListView struct {
	Layout
	// Text, Tags and Owners are the filters; the options' Selected marks
	// those in force.
	Text         string
	Tags, Owners []option
	Groups       []templateGroup
	// Shown counts the templates listed; Filtered is set when a filter is
	// in force.
	Shown     int
	Filtered  bool
	ClearHref string
	// Unavailable says why templates cannot be run here, if they cannot.
	Unavailable string
}

// templateGroup is the templates of one spec.type.
type templateGroup struct {
	Type  string
	Cards []templateCard
}

// templateCard is a template as the list and its form show it.
type templateCard struct {
	Title, Description string
	Tags               []string
	Owners             []entityLink
	// Href is its form; EntityHref its catalog page.
	Href, EntityHref string
}

// createFormView is a template's form.
type createFormView struct {
	Layout
	Template templateCard
	Steps    []*formStep
	// Errors are the fields' errors, for the summary above the form;
	// Message an error of the whole form (the scaffolder's).
	Errors  []fieldError
	Message string
	// Action is where the form posts: the review.
	Action      string
	Unavailable string
}

// fieldError is one line of the error summary.
type fieldError struct{ Anchor, Label, Message string }

// createReviewView is the review of a template's values.
type createReviewView struct {
	Layout
	Template templateCard
	Steps    []reviewStep
	// Hidden carry the values on to the create (or back to the form).
	Hidden                   []hiddenInput
	CreateAction, EditAction string
	Unavailable              string
}

// reviewStep is the values of one step.
type reviewStep struct {
	Title string
	Rows  []reviewRow
}

// reviewRow is one value; Masked hides a secret.
type reviewRow struct {
	Label, Value string
	Masked       bool
}

// hiddenInput is a form value carried in a hidden field.
type hiddenInput struct{ Name, Value string }

// createTaskView is a started task.

// createList serves GET /create.
func (h *handler) createList(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	q := r.URL.Query()
	v := &createListView{
		Layout:      h.layout(r, "Create a new component", sectionCreate, crumb{"Create", ""}),
		Text:        strings.TrimSpace(q.Get("text")),
		ClearHref:   "/create",
		Unavailable: h.unavailable(),
	}
	tags, owners := cleanValues(q["tag"]), cleanValues(q["owner"])
	kind := filter.Match{Key: "kind", Values: []string{"template"}}
	facets, err := h.c.Facets(ctx, []string{"metadata.tags", "relations.ownedby"}, kind)
	if err != nil {
		return err
	}
	for _, fc := range facets["metadata.tags"] {
		v.Tags = append(v.Tags, option{Value: fc.Value, Label: fc.Value, Count: fc.Count, Selected: slices.Contains(tags, fc.Value)})
	}
	for _, fc := range facets["relations.ownedby"] {
		v.Owners = append(v.Owners, option{Value: fc.Value, Label: refLink(fc.Value, "group").Label, Count: fc.Count,
			Selected: slices.ContainsFunc(owners, func(o string) bool { return ownerRef(o) == fc.Value })})
	}

	exprs := []filter.Expr{kind}
	if len(tags) > 0 {
		m := filter.Match{Key: "metadata.tags"}
		for _, t := range tags {
			m.Values = append(m.Values, strings.ToLower(t))
		}
		exprs = append(exprs, m)
	}
	if len(owners) > 0 {
		m := filter.Match{Key: "relations.ownedby"}
		for _, o := range owners {
			m.Values = append(m.Values, ownerRef(o))
		}
		exprs = append([]filter.Expr{m}, exprs...)
	}
	query := catalog.Query{Filter: filter.All{Exprs: exprs}, Limit: maxTemplates,
		Order: []filter.Order{{Field: "metadata.title"}}}
	if v.Text != "" {
		query.FullText = &catalog.FullText{Term: v.Text, Fields: append(slices.Clone(textFields), "metadata.description")}
	}
	v.Filtered = v.Text != "" || len(tags) > 0 || len(owners) > 0
	page, err := h.c.QueryEntities(ctx, query)
	if err != nil {
		return err
	}
	groups := map[string]*templateGroup{}
	for _, raw := range page.Items {
		e, err := decodeEntity(raw)
		if err != nil {
			return err
		}
		typ := e.SpecString("type")
		if typ == "" {
			typ = "other"
		}
		g := groups[typ]
		if g == nil {
			g = &templateGroup{Type: typ}
			groups[typ] = g
		}
		g.Cards = append(g.Cards, templateCardOf(e))
		v.Shown++
	}
	for _, g := range groups {
		v.Groups = append(v.Groups, *g)
	}
	slices.SortFunc(v.Groups, func(a, b templateGroup) int { return strings.Compare(a.Type, b.Type) })
	return h.views.render(w, http.StatusOK, "create", v)
}

// templateCardOf describes a template.
func templateCardOf(e *entityDoc) templateCard {
	c := templateCard{
		Title: e.DisplayName(), Description: e.Metadata.Description, Tags: e.Metadata.Tags,
		Href:       "/create/templates/" + url.PathEscape(e.Metadata.Namespace) + "/" + url.PathEscape(e.Metadata.Name),
		EntityHref: entityHref(e.Ref()),
	}
	for _, o := range e.Targets(entity.RelationOwnedBy) {
		c.Owners = append(c.Owners, refLink(o, "group"))
	}
	return c
}

// loadedTemplate is a template and its form, ready to bind.
type loadedTemplate struct {
	ref   entity.Ref
	card  templateCard
	steps []*formStep
	// pickers are the values each entity picker offers, by field name.
	pickers map[string][]option
}

// loadTemplate reads the template of the path and builds its form, with
// the entity pickers' options from the catalog.
func (h *handler) loadTemplate(r *http.Request) (*loadedTemplate, error) {
	ctx := r.Context()
	ref := entity.Ref{Kind: "Template", Namespace: r.PathValue("namespace"), Name: r.PathValue("name")}
	raw, err := h.c.EntityByRef(ctx, ref)
	if err != nil {
		return nil, err
	}
	e, err := decodeEntity(raw)
	if err != nil {
		return nil, err
	}
	var params struct {
		Spec struct {
			Parameters json.RawMessage `json:"parameters"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(raw, &params); err != nil {
		return nil, err
	}
	t := &loadedTemplate{ref: e.Ref(), card: templateCardOf(e)}
	if t.steps, t.pickers, err = h.buildForm(ctx, params.Spec.Parameters); err != nil {
		return nil, err
	}
	return t, nil
}

// buildForm parses a template's spec.parameters into its form, with the
// entity pickers' options from the catalog (by field name).
func (h *handler) buildForm(ctx context.Context, parameters json.RawMessage) ([]*formStep, map[string][]option, error) {
	steps, err := parseSteps(parameters)
	if err != nil {
		return nil, nil, derrors.Invalid("The template's parameters cannot be read: %v", err)
	}
	pickers := map[string][]option{}
	for _, st := range steps {
		var ferr error
		walkFields(st.Fields, func(f *formField) {
			if (f.Control != "entity" && f.Control != "entities") || ferr != nil {
				return
			}
			f.Options, ferr = h.pickerOptions(ctx, f)
			pickers[f.Name] = f.Options
		})
		if ferr != nil {
			return nil, nil, ferr
		}
	}
	return steps, pickers, nil
}

// pickerOptions are the entities an entity picker offers: those its
// catalog filter matches; for an OwnedEntityPicker, only those owned by
// the signed-in user or one of the user's groups (the identity's
// ownership refs against the entities' ownedBy relations, as Backstage's
// useOwnedEntities does); for a MyGroupsPicker, the groups whose members
// include the user. MyGroupsPicker reads the catalog's membership (the
// groups' hasMember relations, as Backstage does) rather than the
// identity's ownership refs: those may also hold the parent groups a
// user owns through, of which the user is not a member. Without a
// signed-in user both offer nothing, and f.Note says why.
func (h *handler) pickerOptions(ctx context.Context, f *formField) ([]option, error) {
	expr := f.picker
	id, signed := auth.IdentityFrom(ctx)
	switch f.pickFrom {
	case pickOwned:
		if !signed || len(id.OwnershipRefs) == 0 {
			f.Note = "Sign in to choose from the entities you own: nothing can be offered to an anonymous visitor."
			return nil, nil
		}
		own := filter.Match{Key: "relations.ownedby"}
		for _, r := range id.OwnershipRefs {
			own.Values = append(own.Values, strings.ToLower(r))
		}
		expr = filter.All{Exprs: append([]filter.Expr{own}, nonNil(f.picker)...)}
	case pickGroups:
		if !signed || id.UserRef == "" {
			f.Note = "Sign in to choose one of your groups: an anonymous visitor belongs to none."
			return nil, nil
		}
		expr = filter.All{Exprs: []filter.Expr{
			filter.Match{Key: "relations.hasmember", Values: []string{strings.ToLower(id.UserRef)}},
			filter.Match{Key: "kind", Values: []string{"group"}},
		}}
	}
	page, err := h.c.QueryEntities(ctx, catalog.Query{Filter: expr, Limit: maxPickerEntities,
		Order: []filter.Order{{Field: "metadata.name"}}})
	if err != nil {
		return nil, err
	}
	out := make([]option, 0, len(page.Items))
	for _, raw := range page.Items {
		e, err := decodeEntity(raw)
		if err != nil {
			return nil, err
		}
		ref := e.Ref()
		label := humanizeRef(ref, "")
		if dn := e.DisplayName(); dn != ref.Name {
			label = dn + " (" + label + ")"
		}
		out = append(out, option{Value: f.refValue(ref), Label: label})
	}
	if len(out) == 0 {
		switch f.pickFrom {
		case pickOwned:
			f.Note = "You own no entities that this field offers."
		case pickGroups:
			f.Note = "You are not a member of any group in the catalog."
		}
	}
	return out, nil
}

// nonNil returns the expression as a list, empty when it is nil.
func nonNil(e filter.Expr) []filter.Expr {
	if e == nil {
		return nil
	}
	return []filter.Expr{e}
}

// path returns the URL of one of t's pages.
func (t *loadedTemplate) path(suffix string) string { return t.card.Href + suffix }

// newFormView is the form of t.
func (h *handler) newFormView(r *http.Request, t *loadedTemplate) *createFormView {
	return &createFormView{
		Layout:   h.layout(r, t.card.Title, sectionCreate, crumb{"Create", "/create"}, crumb{t.card.Title, ""}),
		Template: t.card, Steps: t.steps, Action: t.path("/review"),
		Unavailable: h.unavailable(),
	}
}

// createForm serves GET /create/templates/{namespace}/{name}.
func (h *handler) createForm(w http.ResponseWriter, r *http.Request) error {
	t, err := h.loadTemplate(r)
	if err != nil {
		return err
	}
	for _, st := range t.steps {
		setDefaults(st.Fields)
	}
	return h.views.render(w, http.StatusOK, "create_form", h.newFormView(r, t))
}

// createEdit serves POST .../edit: back from the review, values kept.
func (h *handler) createEdit(w http.ResponseWriter, r *http.Request) error {
	t, err := h.loadTemplate(r)
	if err != nil {
		return err
	}
	for _, st := range t.steps {
		bind(st.Fields, r.PostForm)
	}
	return h.views.render(w, http.StatusOK, "create_form", h.newFormView(r, t))
}

// bindAndCollect binds the posted values to t's form and validates them.
func (t *loadedTemplate) bindAndCollect(form url.Values) (collected, bool) {
	for _, st := range t.steps {
		bind(st.Fields, form)
	}
	return collect(t.steps, t.pickers)
}

// renderInvalid re-renders the form with its errors (and message).
func (h *handler) renderInvalid(w http.ResponseWriter, r *http.Request, t *loadedTemplate, message string) error {
	v := h.newFormView(r, t)
	v.Message = message
	for _, st := range t.steps {
		walkFields(st.Fields, func(f *formField) {
			f.Autofocus = false // the error summary takes the focus
			if f.Error != "" {
				v.Errors = append(v.Errors, fieldError{Anchor: f.Anchor, Label: f.Label, Message: f.Error})
			}
		})
	}
	v.Title = "Error: " + v.Title
	return h.views.render(w, http.StatusUnprocessableEntity, "create_form", v)
}

// createReview serves POST .../review.
func (h *handler) createReview(w http.ResponseWriter, r *http.Request) error {
	t, err := h.loadTemplate(r)
	if err != nil {
		return err
	}
	if _, ok := t.bindAndCollect(r.PostForm); !ok {
		return h.renderInvalid(w, r, t, "")
	}
	v := &createReviewView{
		Layout:       h.layout(r, "Review: "+t.card.Title, sectionCreate, crumb{"Create", "/create"}, crumb{t.card.Title, t.card.Href}, crumb{"Review", ""}),
		Template:     t.card,
		CreateAction: t.path("/create"), EditAction: t.path("/edit"),
		Unavailable: h.unavailable(),
	}
	for _, st := range t.steps {
		rs := reviewStep{Title: st.Title}
		reviewRows(&rs, st.Fields, "")
		if len(rs.Rows) > 0 {
			v.Steps = append(v.Steps, rs)
		}
	}
	// The posted values as they came, in a stable order.
	var names []string
	for k := range r.PostForm {
		if strings.HasPrefix(k, valuePrefix) {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	for _, k := range names {
		for _, val := range r.PostForm[k] {
			v.Hidden = append(v.Hidden, hiddenInput{Name: k, Value: val})
		}
	}
	return h.views.render(w, http.StatusOK, "create_review", v)
}

// reviewRows adds the rows of the active fields with a value.
func reviewRows(rs *reviewStep, fields []*formField, prefix string) {
	for _, f := range fields {
		if f.inactive || f.HideReview {
			continue
		}
		label := prefix + f.Label
		if f.Control == "object" {
			reviewRows(rs, f.Fields, label+" › ")
			continue
		}
		row := reviewRow{Label: label, Masked: f.Secret}
		switch f.Control {
		case "checkbox":
			row.Value = "No"
			if f.Value == "true" {
				row.Value = "Yes"
			}
		case "checkboxes", "multiselect":
			var labels []string
			for _, val := range f.Values {
				labels = append(labels, optionLabel(f.Options, val))
			}
			row.Value = strings.Join(labels, ", ")
		case "select", "radio":
			row.Value = optionLabel(f.Options, strings.TrimSpace(f.Value))
		case "entity":
			row.Value = entityLabel(f.Options, strings.TrimSpace(f.Value))
		case "entities":
			var labels []string
			for _, val := range f.picked {
				labels = append(labels, entityLabel(f.Options, val))
			}
			row.Value = strings.Join(labels, ", ")
		case "lines":
			row.Value = strings.Join(strings.Fields(strings.ReplaceAll(f.Value, "\n", " ")), ", ")
		default:
			row.Value = strings.TrimSpace(f.Value)
		}
		if row.Value == "" {
			continue
		}
		if row.Masked {
			row.Value = "••••••••"
		}
		rs.Rows = append(rs.Rows, row)
	}
}

// entityLabel is how the review shows an entity picker's value: the
// entity's title and ref when it is one of those offered, else the ref
// typed in.
func entityLabel(opts []option, v string) string {
	if i := slices.IndexFunc(opts, func(o option) bool { return o.Value == v }); i >= 0 {
		return opts[i].Label
	}
	return v
}

// optionLabel is the label of the option with value v, or v.
func optionLabel(opts []option, v string) string {
	for _, o := range opts {
		if o.Value == v {
			if o.Label != v {
				return o.Label + " (" + v + ")"
			}
			return o.Label
		}
	}
	return v
}

// unavailable says why templates cannot run here, or "" if they can.
func (h *handler) unavailable() string {
	if h.opts.Scaffolder == nil {
		return noScaffolderMessage
	}
	return ""
}

// errNoScaffolder answers a create where templates cannot run.
var errNoScaffolder = derrors.New(derrors.ErrNotImplemented, "%s", noScaffolderMessage)

// createRun serves POST .../create: validate again, start the task and
// go to it.
func (h *handler) createRun(w http.ResponseWriter, r *http.Request) error {
	if h.opts.Scaffolder == nil {
		return errNoScaffolder
	}
	t, err := h.loadTemplate(r)
	if err != nil {
		return err
	}
	vals, ok := t.bindAndCollect(r.PostForm)
	if !ok {
		return h.renderInvalid(w, r, t, "")
	}
	id, err := h.opts.Scaffolder.CreateTask(r.Context(), t.ref, vals.values, vals.secrets)
	if errors.Is(err, derrors.ErrInvalid) {
		_, _, msg := classify(err)
		return h.renderInvalid(w, r, t, msg)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/create/tasks/"+url.PathEscape(id), http.StatusSeeOther)
	return nil
}

package web

import (
	"net/http"

	"github.com/atrium-dev/atrium/internal/derrors"
)

// inspectView is an entity's inspect tab: where it came from (its
// ancestry), its relations, annotations and labels, and the raw entity as
// YAML or JSON with a copy button.
type inspectView struct {
	Layout
	Entity entityFrame
	// Identity lists apiVersion, uid and etag.
	Identity    []keyValue
	Ancestry    []ancestryItem
	Relations   []relationRow
	MoreRels    int
	Annotations []keyValue
	Labels      []keyValue
	// Format is "yaml" or "json"; the hrefs switch between them.
	Format             string
	YAMLHref, JSONHref string
	Raw                codeView
}

// keyValue is one row of a key/value table; URL is set when the value is
// an http(s) link.
type keyValue struct{ Key, Value, URL string }

// ancestryItem is one entity of the ancestry, from the entity itself up
// to the location the catalog was configured or registered with.
type ancestryItem struct {
	Entity  entityLink
	Parents []entityLink
}

// relationRow is one relation of the entity.
type relationRow struct {
	Type   string
	Target entityLink
}

// maxInspectRelations bounds the relations listed (a group can own
// thousands of entities).
const maxInspectRelations = 500

// entityInspect serves .../inspect.
func (h *handler) entityInspect(w http.ResponseWriter, r *http.Request) error {
	e, frame, err := h.loadEntity(r, tabInspect)
	if err != nil {
		return err
	}
	ctx := r.Context()
	format := r.URL.Query().Get("format")
	switch format {
	case "":
		format = "yaml"
	case "yaml", "json":
	default:
		return derrors.Invalid("Unknown format %q: use yaml or json.", format)
	}
	raw, err := h.c.EntityByRef(ctx, e.Ref())
	if err != nil {
		return err
	}
	v := &inspectView{
		Layout: h.layout(r, frame.DisplayName+" · Inspect", sectionCatalog, entityCrumbs(frame, tabInspect)...),
		Entity: frame, Format: format,
		YAMLHref: frame.Href + "/inspect", JSONHref: frame.Href + "/inspect?format=json",
	}
	v.Identity = []keyValue{
		{Key: "Entity ref", Value: e.Ref().Key()},
		{Key: "apiVersion", Value: e.APIVersion},
		{Key: "uid", Value: e.Metadata.UID},
		{Key: "etag", Value: e.Metadata.Etag},
	}
	var text string
	if format == "json" {
		text, err = indentJSON(raw)
	} else {
		text, err = jsonToYAML(raw)
	}
	if err != nil {
		return err
	}
	v.Raw = highlight("raw-entity", format, text)

	anc, err := h.c.Ancestry(ctx, e.Ref())
	if err != nil {
		return err
	}
	for _, it := range anc.Items {
		d, err := decodeEntity(it.Entity)
		if err != nil {
			return err
		}
		item := ancestryItem{Entity: docLink(d)}
		for _, p := range it.ParentEntityRefs {
			item.Parents = append(item.Parents, refLink(p, ""))
		}
		v.Ancestry = append(v.Ancestry, item)
	}
	for i, rel := range e.Relations {
		if i == maxInspectRelations {
			v.MoreRels = len(e.Relations) - i
			break
		}
		v.Relations = append(v.Relations, relationRow{Type: string(rel.Type), Target: refLink(rel.TargetRef, "")})
	}
	for _, k := range sortedKeys(e.Metadata.Annotations) {
		val := e.Metadata.Annotations[k]
		v.Annotations = append(v.Annotations, keyValue{Key: k, Value: val, URL: httpURL(val)})
	}
	for _, k := range sortedKeys(e.Metadata.Labels) {
		v.Labels = append(v.Labels, keyValue{Key: k, Value: e.Metadata.Labels[k]})
	}
	return h.views.render(w, http.StatusOK, "entity_inspect", v)
}

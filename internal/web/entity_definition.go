package web

import (
	"net/http"
	"strconv"
	"strings"
)

// definitionView is an API's definition tab: OpenAPI rendered as
// documentation, other types as highlighted source with an outline.
type definitionView struct {
	Layout
	Entity  entityFrame
	APIType string
	// OpenAPI is set when the definition is an OpenAPI or Swagger
	// document that parsed; OpenAPIError says why one did not.
	OpenAPI      *openAPIView
	OpenAPIError string
	Outline      []outlineLink
	// Source is the definition text, highlighted; for OpenAPI it is shown
	// collapsed below the documentation.
	Source codeView
	// Empty is set when the entity has no definition text.
	Empty bool
}

// outlineLink is an outline entry as a link into the page.
type outlineLink struct {
	Kind, Label, Href string
	Children          []outlineLink
}

// definitionSourceID names the source block; its lines are
// #definition-L<n>.
const definitionSourceID = "definition"

// entityDefinition serves .../definition.
func (h *handler) entityDefinition(w http.ResponseWriter, r *http.Request) error {
	e, frame, err := h.loadEntity(r, tabDefinition)
	if err != nil {
		return err
	}
	text := e.SpecString("definition")
	apiType := strings.ToLower(e.SpecString("type"))
	v := &definitionView{
		Layout:  h.layout(r, frame.DisplayName+" · Definition", sectionAPIs, entityCrumbs(frame, tabDefinition)...),
		Entity:  frame,
		APIType: apiType,
		Empty:   strings.TrimSpace(text) == "",
	}
	if v.Empty {
		return h.views.render(w, http.StatusOK, "entity_definition", v)
	}
	v.Source = highlight(definitionSourceID, sourceLang(apiType, text), text)
	switch apiType {
	case "openapi", "swagger":
		doc, err := renderOpenAPI(text)
		if err != nil {
			v.OpenAPIError = err.Error()
			break
		}
		v.OpenAPI = doc
		for _, g := range doc.Groups {
			gl := outlineLink{Kind: "tag", Label: g.Name, Href: "#" + tagAnchor(g.Name)}
			for _, op := range g.Ops {
				gl.Children = append(gl.Children, outlineLink{Kind: op.Method, Label: op.Path, Href: "#" + op.Anchor})
			}
			v.Outline = append(v.Outline, gl)
		}
		if len(doc.Schemas) > 0 {
			v.Outline = append(v.Outline, outlineLink{Kind: "", Label: "Schemas", Href: "#schemas"})
		}
	default:
		v.Outline = outlineLinks(outlineFor(apiType, text))
	}
	return h.views.render(w, http.StatusOK, "entity_definition", v)
}

// outlineLinks turns outline entries into links to their source lines.
func outlineLinks(items []outlineItem) []outlineLink {
	var out []outlineLink
	for _, it := range items {
		out = append(out, outlineLink{
			Kind: it.Kind, Label: it.Label,
			Href:     "#" + definitionSourceID + "-L" + strconv.Itoa(it.Line),
			Children: outlineLinks(it.Children),
		})
	}
	return out
}

// tagAnchor is the id of an OpenAPI tag's section.
func tagAnchor(tag string) string {
	return "tag-" + strings.Trim(anchorUnsafe.ReplaceAllString(tag, "-"), "-")
}

// sourceLang picks the highlighter for a definition.
func sourceLang(apiType, text string) string {
	switch apiType {
	case "graphql":
		return "graphql"
	case "grpc":
		return "proto"
	}
	t := strings.TrimSpace(text)
	if strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") {
		return "json"
	}
	switch apiType {
	case "openapi", "swagger", "asyncapi":
		return "yaml"
	}
	return "plain"
}

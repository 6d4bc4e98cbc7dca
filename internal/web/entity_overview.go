package web

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/atrium-dev/atrium/internal/catalog"
	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/catalog/filter"
)

// overviewView is an entity's overview tab. Which cards it has, and in
// which order, depends on the kind (see overviewLayouts).
type overviewView struct {
	Layout
	Entity entityFrame
	About  aboutCard
	Links  []linkView
	// Profile is set for groups and users.
	Profile *profileCard
	// Ownership counts what a group or user owns, per kind.
	Ownership *ownershipCard
	// Location lists a Location's targets and what they produced.
	Location *locationCard
	// Steps lists a Template's steps.
	Steps []templateStep
	// Cards are the relation cards.
	Cards []relationCard
}

// aboutCard is the About card: the description and the key fields.
type aboutCard struct {
	Description string
	Fields      []aboutField
	// RefreshAction is where the Refresh button posts; empty hides the
	// button from those who may not refresh the entity.
	RefreshAction string
	// UnregisterHref leads to unregistering the entity's location; empty
	// for Location entities and for those who may not unregister.
	UnregisterHref string
}

// aboutField is one labelled value of the About card: text, links or tags.
type aboutField struct {
	Label string
	Text  string
	Links []entityLink
	Tags  []string
	Chip  string
}

// linkView is one of metadata.links.
type linkView struct{ Title, URL string }

// profileCard is a group's or user's profile.
type profileCard struct {
	DisplayName, Email, Initials string
}

// ownershipCard counts owned entities by kind, each linking to the
// catalog filtered to them.
type ownershipCard struct {
	Title string
	Items []kindCount
	Total int
}

// relationCard lists the entities at the end of one relation.
type relationCard struct {
	Title, Empty string
	Items        []entityLink
	// Total counts every related entity; Items holds at most
	// maxCardItems of them.
	Total int
	// MoreHref, if set, lists them all in the catalog.
	MoreHref string
	// Wide cards take the whole width of the page.
	Wide bool
}

// templateStep is one step of a Template.
type templateStep struct{ ID, Name, Action string }

// maxCardItems bounds the entities a relation card loads and lists.
const maxCardItems = 50

// relSpec describes a relation card: the entities the subject points to
// with relation Type, optionally only those of some kinds.
type relSpec struct {
	Title       string
	Type        entity.RelationType
	Kinds       []string // lowercased; nil for any kind
	DefaultKind string   // left out of the shortened refs
	Empty       string
}

// overviewLayouts are the relation cards of each kind's overview, in order.
var overviewLayouts = map[string][]relSpec{
	"component": {
		{"Provided APIs", entity.RelationProvidesAPI, nil, "api", "Provides no APIs."},
		{"Consumed APIs", entity.RelationConsumesAPI, nil, "api", "Consumes no APIs."},
		{"Has subcomponents", entity.RelationHasPart, []string{"component"}, "component", "No subcomponents."},
		{"Depends on components", entity.RelationDependsOn, []string{"component"}, "component", "Depends on no components."},
		{"Depends on resources", entity.RelationDependsOn, []string{"resource"}, "resource", "Depends on no resources."},
		{"Dependents", entity.RelationDependencyOf, nil, "component", "Nothing depends on it."},
	},
	"api": {
		{"Providers", entity.RelationAPIProvidedBy, nil, "component", "No component provides this API."},
		{"Consumers", entity.RelationAPIConsumedBy, nil, "component", "No component consumes this API."},
	},
	"system": {
		{"Components", entity.RelationHasPart, []string{"component"}, "component", "No components."},
		{"APIs", entity.RelationHasPart, []string{"api"}, "api", "No APIs."},
		{"Resources", entity.RelationHasPart, []string{"resource"}, "resource", "No resources."},
	},
	"domain": {
		{"Systems", entity.RelationHasPart, []string{"system"}, "system", "No systems."},
		{"Subdomains", entity.RelationHasPart, []string{"domain"}, "domain", "No subdomains."},
	},
	"resource": {
		{"Depends on", entity.RelationDependsOn, nil, "resource", "Depends on nothing."},
		{"Dependents", entity.RelationDependencyOf, nil, "component", "Nothing depends on it."},
	},
	"group": {
		{"Parent group", entity.RelationChildOf, nil, "group", "A top-level group."},
		{"Child groups", entity.RelationParentOf, nil, "group", "No child groups."},
		{"Members", entity.RelationHasMember, nil, "user", "No members."},
	},
	"user": {
		{"Groups", entity.RelationMemberOf, nil, "group", "Not a member of any group."},
	},
}

// entityOverview serves /catalog/{namespace}/{kind}/{name}.
func (h *handler) entityOverview(w http.ResponseWriter, r *http.Request) error {
	e, frame, err := h.loadEntity(r, tabOverview)
	if err != nil {
		return err
	}
	ctx := r.Context()
	v := &overviewView{
		Layout: h.layout(r, frame.DisplayName, sectionCatalog, entityCrumbs(frame, tabOverview)...),
		Entity: frame, About: aboutOf(e),
	}
	if !h.allowed(ctx, permEntityRefresh, e.raw) {
		v.About.RefreshAction = ""
	}
	if v.About.UnregisterHref != "" && !h.allowed(ctx, permLocationDelete, e.raw) {
		v.About.UnregisterHref = ""
	}
	v.Notice = notice(r)
	for _, l := range e.Metadata.Links {
		if u := httpURL(l.URL); u != "" {
			title := l.Title
			if title == "" {
				title = u
			}
			v.Links = append(v.Links, linkView{Title: title, URL: u})
		}
	}
	kind := strings.ToLower(e.Kind)
	if v.Cards, err = h.relationCards(ctx, e, overviewLayouts[kind]); err != nil {
		return err
	}
	switch kind {
	case "group", "user":
		v.Profile = profileOf(e)
		owners := []string{e.Ref().Key()}
		title := "Ownership"
		if kind == "user" {
			// A user owns what they own directly and what their groups own.
			owners = append(owners, e.Targets(entity.RelationMemberOf)...)
			title = "Ownership (directly and through groups)"
		}
		if v.Ownership, err = h.ownership(ctx, title, owners); err != nil {
			return err
		}
	case "location":
		if v.Location, err = h.locationOf(ctx, e); err != nil {
			return err
		}
	case "template":
		v.Steps = stepsOf(e)
	}
	return h.views.render(w, http.StatusOK, "entity_overview", v)
}

// aboutOf builds the About card of an entity.
func aboutOf(e *entityDoc) aboutCard {
	a := aboutCard{
		Description:   e.Metadata.Description,
		RefreshAction: entityHref(e.Ref()) + "/refresh",
	}
	if !strings.EqualFold(e.Kind, "location") {
		a.UnregisterHref = entityHref(e.Ref()) + "/unregister"
	}
	links := func(label string, refs []string, defaultKind string) {
		if len(refs) == 0 {
			return
		}
		f := aboutField{Label: label}
		for _, r := range refs {
			f.Links = append(f.Links, refLink(r, defaultKind))
		}
		a.Fields = append(a.Fields, f)
	}
	text := func(label, s string) {
		if s != "" {
			a.Fields = append(a.Fields, aboutField{Label: label, Text: s})
		}
	}
	owners := e.Targets(entity.RelationOwnedBy)
	switch strings.ToLower(e.Kind) {
	case "component", "api", "resource":
		links("Owner", owners, "group")
		links("System", e.SpecStrings("system"), "system")
		if p := e.SpecString("subcomponentOf"); p != "" {
			links("Parent component", []string{p}, "component")
		}
		text("Type", e.SpecString("type"))
		if lc := e.SpecString("lifecycle"); lc != "" {
			a.Fields = append(a.Fields, aboutField{Label: "Lifecycle", Chip: lc})
		}
	case "system":
		links("Owner", owners, "group")
		links("Domain", e.SpecStrings("domain"), "domain")
		text("Type", e.SpecString("type"))
	case "domain":
		links("Owner", owners, "group")
		links("Subdomain of", e.SpecStrings("subdomainOf"), "domain")
		text("Type", e.SpecString("type"))
	case "group":
		text("Type", e.SpecString("type"))
		links("Parent", e.Targets(entity.RelationChildOf), "group")
	case "user":
		links("Groups", e.Targets(entity.RelationMemberOf), "group")
	case "location":
		text("Type", e.SpecString("type"))
		text("Presence", e.SpecString("presence"))
	case "template":
		links("Owner", owners, "group")
		text("Type", e.SpecString("type"))
		if lc := e.SpecString("lifecycle"); lc != "" {
			a.Fields = append(a.Fields, aboutField{Label: "Lifecycle", Chip: lc})
		}
	default:
		links("Owner", owners, "group")
		text("Type", e.SpecString("type"))
	}
	if e.Metadata.Namespace != entity.DefaultNamespace {
		text("Namespace", e.Metadata.Namespace)
	}
	if len(e.Metadata.Tags) > 0 {
		a.Fields = append(a.Fields, aboutField{Label: "Tags", Tags: e.Metadata.Tags})
	}
	return a
}

// profileOf builds a group's or user's profile card.
func profileOf(e *entityDoc) *profileCard {
	p := &profileCard{DisplayName: e.DisplayName()}
	if prof, ok := e.Spec["profile"].(map[string]any); ok {
		p.Email, _ = prof["email"].(string)
	}
	for _, word := range strings.Fields(strings.NewReplacer("-", " ", "_", " ", ".", " ").Replace(p.DisplayName)) {
		if len(p.Initials) < 2 {
			p.Initials += strings.ToUpper(string([]rune(word)[:1]))
		}
	}
	return p
}

// stepsOf lists a Template's steps.
func stepsOf(e *entityDoc) []templateStep {
	steps, _ := e.Spec["steps"].([]any)
	var out []templateStep
	for _, s := range steps {
		m, ok := s.(map[string]any)
		if !ok {
			continue
		}
		st := templateStep{}
		st.ID, _ = m["id"].(string)
		st.Name, _ = m["name"].(string)
		st.Action, _ = m["action"].(string)
		out = append(out, st)
	}
	return out
}

// relationCards builds the relation cards of specs for e, loading the
// related entities (at most maxCardItems per card) in one query.
func (h *handler) relationCards(ctx context.Context, e *entityDoc, specs []relSpec) ([]relationCard, error) {
	type pending struct {
		spec relSpec
		refs []string
	}
	var cards []pending
	var want []string
	for _, s := range specs {
		var refs []string
		for _, t := range e.Targets(s.Type) {
			if s.Kinds != nil && !slices.Contains(s.Kinds, refKind(t)) {
				continue
			}
			refs = append(refs, t)
		}
		cards = append(cards, pending{s, refs})
		want = append(want, refs[:min(len(refs), maxCardItems)]...)
	}
	loaded, err := h.loadRefs(ctx, want)
	if err != nil {
		return nil, err
	}
	out := make([]relationCard, 0, len(cards))
	for _, c := range cards {
		card := relationCard{Title: c.spec.Title, Empty: c.spec.Empty, Total: len(c.refs)}
		for _, ref := range c.refs[:min(len(c.refs), maxCardItems)] {
			card.Items = append(card.Items, linkFor(ref, loaded, c.spec.DefaultKind))
		}
		out = append(out, card)
	}
	return out, nil
}

// refKind returns the lowercased kind of a full ref.
func refKind(ref string) string {
	k, _, _ := strings.Cut(ref, ":")
	return strings.ToLower(k)
}

// loadRefs loads the entities of refs (duplicates allowed) and returns
// them by ref key; refs not in the catalog are absent.
func (h *handler) loadRefs(ctx context.Context, refs []string) (map[string]*entityDoc, error) {
	out := make(map[string]*entityDoc, len(refs))
	if len(refs) == 0 {
		return out, nil
	}
	raws, err := h.c.EntitiesByRefs(ctx, refs, nil)
	if err != nil {
		return nil, err
	}
	for _, raw := range raws {
		if raw == nil {
			continue
		}
		d, err := decodeEntity(raw)
		if err != nil {
			return nil, err
		}
		out[d.Ref().Key()] = d
	}
	return out, nil
}

// linkFor is the link for ref, with the entity's details if it was loaded
// and marked missing if it is not in the catalog.
func linkFor(ref string, loaded map[string]*entityDoc, defaultKind string) entityLink {
	if d, ok := loaded[strings.ToLower(ref)]; ok {
		return docLink(d)
	}
	l := refLink(ref, defaultKind)
	l.Missing = true
	return l
}

// ownership counts the entities owned by any of owners, per kind, in one
// facet query.
func (h *handler) ownership(ctx context.Context, title string, owners []string) (*ownershipCard, error) {
	m := filter.Match{Key: "relations.ownedby"}
	for _, o := range owners {
		m.Values = append(m.Values, strings.ToLower(o))
	}
	counts, err := h.c.Facets(ctx, []string{"kind"}, m)
	if err != nil {
		return nil, err
	}
	card := &ownershipCard{Title: title}
	values := make([]string, len(owners))
	for i, o := range owners {
		values[i] = refLink(o, "group").Label
	}
	kinds := slices.Clone(counts["kind"])
	slices.SortStableFunc(kinds, func(a, b catalog.FacetCount) int { return cmp.Compare(b.Count, a.Count) })
	for _, k := range kinds {
		st := listState{Kind: strings.ToLower(k.Value), Owners: values, Limit: pageSizes[0]}
		card.Items = append(card.Items, kindCount{Label: pluralKind(k.Value), Href: st.href("/catalog", "component"), Count: k.Count})
		card.Total += k.Count
	}
	return card, nil
}

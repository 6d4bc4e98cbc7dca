package web

import (
	"bytes"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/atrium-dev/atrium/internal/audit"
	"github.com/atrium-dev/atrium/internal/catalog"
	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/githost"
)

// samplePages has a view value for every page template, filled so that
// every branch of the template that depends on data runs: a template that
// refers to a field its struct lacks fails here, not in production.
func samplePages() map[string]view {
	link := entityLink{Href: "/catalog/default/component/a", Label: "a", Kind: "Component", Ref: "component:default/a",
		Description: "<b>not bold</b>", Lifecycle: "production"}
	missing := entityLink{Label: "b", Missing: true}
	frame := entityFrame{
		Ref: "component:default/a", Kind: "Component", KindKey: "component", Name: "a", DisplayName: "A",
		Owners: []entityLink{link}, Type: "service", Lifecycle: "production", Tags: []string{"go"},
		ViewURL: "https://example.com/v", EditURL: "https://example.com/e", SourceURL: "https://example.com/s",
		Href:   "/catalog/default/component/a",
		Tabs:   []tabLink{{Label: "Overview", Href: "/catalog/default/component/a", Active: true}},
		Errors: []entity.StatusItem{{Level: "error", Message: "broken", Error: &entity.StatusError{Name: "InputError"}}},
		Orphan: true,
	}
	card := relationCard{Title: "Cards", Empty: "none", Items: []entityLink{link, missing}, Total: 3, MoreHref: "/catalog"}
	code := highlight("c", "yaml", "a: 1 # c\nb: [x, 'y']\n")
	pager := pager{From: 1, To: 2, Total: 3, FirstHref: "/", PrevHref: "/", NextHref: "/", LastHref: "/",
		Sizes: []option{{Value: "20", Label: "20", Selected: true}}}
	table := tableView{
		Caption: "t", Empty: "empty", Pager: pager,
		Columns: []columnView{},
		Rows: []rowView{{Entity: link, Kind: "Component", System: link, Owners: []entityLink{link}, Type: "service",
			Lifecycle: "production", Description: "d", Tags: []string{"go"}, Namespace: "default", Targets: []string{"./a.yaml"},
			Providers: []entityLink{link}, Consumers: []entityLink{missing}}},
	}
	for key, label := range columnLabels {
		table.Columns = append(table.Columns, columnView{Key: key, Label: label, SortHref: "/?sort=" + key, Sorted: "ascending"})
	}
	sort.Slice(table.Columns, func(i, j int) bool { return table.Columns[i].Key < table.Columns[j].Key })
	list := &catalogView{
		Heading: "Components", Action: "/catalog", State: listState{Text: "x", Sort: "name", Desc: true, Limit: 20},
		Kinds:  []option{{Value: "component", Label: "Component", Count: 3, Selected: true}},
		Facets: []facetView{{Param: "type", Label: "Type", Options: []option{{Value: "service", Label: "service", Count: 2, Selected: true}}, Hidden: 4, FreeText: true}},
		Active: []activeFilter{{Label: "Type: service", RemoveHref: "/catalog"}}, ClearHref: "/catalog", Table: table, CanRegister: true,
	}
	schema := &schemaView{Name: "root", Type: "object", Description: "d", Required: true, Enum: []string{"a"}, Constraints: []string{"≥ 1"},
		Deprecated: true, Recursive: true, Truncated: true, VariantKind: "one of",
		Properties:           []*schemaView{{Name: "p", Type: "string"}},
		Items:                &schemaView{Properties: []*schemaView{{Name: "q", Type: "integer"}}},
		Variants:             []*schemaView{{Type: "string"}},
		AdditionalProperties: &schemaView{Type: "string"},
	}
	content := []contentView{{MediaType: "application/json", Schema: schema, Example: highlight("", "json", "{}"), ExampleNote: "Example"}}
	loc := &catalog.Location{ID: "id", Type: "url", Target: "https://example.com/catalog-info.yaml"}
	when := stamp{ISO: "2026-03-01T10:00:00Z", Text: "2026-03-01 10:00:00"}
	event := auditRow{Seq: 7, Href: "/audit/events/7", Time: when, Actor: "user:default/<b>not bold</b>", Action: "catalog.entity.updated",
		Target: targetLink{Text: "component:default/a", Href: "/catalog/default/component/a"}, Outcome: "failed",
		Error: "<b>not bold</b>", Severity: "high", Failed: true, Elevated: true}
	plain := auditRow{Seq: 6, Href: "/audit/events/6", Time: when, Actor: "anonymous", Action: "catalog.location.created",
		Target: targetLink{Text: "f0e1"}, Outcome: "succeeded", Severity: "low"}
	diff := &diffView{ID: "d",
		Before: diffSide{Title: "Before", Event: "event 6", Href: "/audit/events/6", Note: "No entity"},
		After:  diffSide{Title: "After", Event: "event 7"},
		Blocks: []diffBlock{
			{Folded: true, Rows: []diffRow{{Left: diffCell{N: 1, Kind: diffSame, Tokens: code.Lines[0].Tokens}, Right: diffCell{N: 1, Kind: diffSame}}}},
			{Rows: []diffRow{{Left: diffCell{N: 2, Kind: diffDel, Tokens: []token{{"", "<b>not bold</b>"}}}, Right: diffCell{Kind: diffNone}}}},
		},
		Removed: 1, Added: 1}
	ops := []patchOpView{{Op: "replace", Path: "/a", Value: `"<b>not bold</b>"`, HasValue: true, Cut: true}, {Op: "move", Path: "", From: "/b"}}
	tcard := templateCard{Title: "<b>not bold</b>", Description: "<b>not bold</b>", Tags: []string{"go"}, Owners: []entityLink{link},
		Href: "/create/templates/default/t", EntityHref: "/catalog/default/template/t"}
	cond := &fieldCond{Field: "v.flag", Values: []string{"true"}, Not: true}
	repo := &repoInput{Hosts: []option{{Value: "github.com", Label: "github.com"}}, Owners: []option{{Value: "acme", Label: "acme"}}, Host: "github.com", Owner: "acme", Repo: "r"}
	fields := []*formField{
		{Name: "v.t", ID: "f-t", Control: "text", InputType: "text", Label: "<b>not bold</b>", Description: "d", Help: "h", Placeholder: "p",
			Required: true, Autofocus: true, Value: "v", Pattern: "^a$", MinLength: 1, MaxLength: 2, Error: "<b>not bold</b>"},
		{Name: "v.a", ID: "f-a", Control: "textarea", Rows: 3, Placeholder: "p", MaxLength: 9},
		{Name: "v.l", ID: "f-l", Control: "lines", Rows: 3},
		{Name: "v.p", ID: "f-p", Control: "password", Placeholder: "p"},
		{Name: "v.n", ID: "f-n", Control: "number", Step: "1", Min: "1", Max: "2", Placeholder: "p"},
		{Name: "v.c", ID: "f-c", Control: "checkbox", Value: "true", Cond: cond},
		{Name: "v.s", ID: "f-s", Control: "select", Value: "a", Options: []option{{Value: "a", Label: "<b>not bold</b>"}}, Placeholder: "p"},
		{Name: "v.s2", ID: "f-s2", Control: "entity", Options: []option{{Value: "a", Label: "A"}}},
		{Name: "v.r", ID: "f-r", Control: "radio", Value: "a", Options: []option{{Value: "a", Label: "A"}}, Error: "e"},
		{Name: "v.cb", ID: "f-cb", Control: "checkboxes", Values: []string{"a"}, Options: []option{{Value: "a", Label: "A"}}},
		{Name: "v.m", ID: "f-m", Control: "multiselect", Values: []string{"a"}, Options: []option{{Value: "a", Label: "A"}}},
		{Name: "v.tg", ID: "f-tg", Control: "tags", Placeholder: "p"},
		{Name: "v.tg2", ID: "f-tg2", Control: "tags"},
		{Name: "v.repo", ID: "f-repo", Control: "repo", Repo: repo, Error: "e"},
		{Name: "v.repo2", ID: "f-repo2", Control: "repo", Repo: &repoInput{}},
		{Name: "v.e", ID: "f-e", Control: "entity", Arbitrary: true, Options: []option{{Value: "a", Label: "<b>not bold</b>"}}, Note: "<b>not bold</b>"},
		{Name: "v.e2", ID: "f-e2", Control: "entity", Arbitrary: true},
		{Name: "v.es", ID: "f-es", Control: "entities", Arbitrary: true, Values: []string{"a"}, Other: "<b>not bold</b>", Options: []option{{Value: "a", Label: "A"}}, Error: "e"},
		{Name: "v.es2", ID: "f-es2", Control: "entities", Arbitrary: true},
		{Name: "v.es3", ID: "f-es3", Control: "entities"},
		{Name: "v.o", ID: "f-o", Control: "object", Label: "O", Required: true, Cond: &fieldCond{Field: "v.c"},
			Fields: []*formField{{Name: "v.o.x", ID: "f-o-x", Control: "text", InputType: "text"}}},
	}
	return map[string]view{
		"create": &createListView{Text: "x", Tags: []option{{Value: "go", Label: "go", Count: 1, Selected: true}},
			Owners: []option{{Value: "group:default/a", Label: "a", Count: 1}}, Shown: 1, Filtered: true, ClearHref: "/create",
			Groups: []templateGroup{{Type: "service", Cards: []templateCard{tcard}}}, Unavailable: "u"},
		"create_form": &createFormView{Template: tcard, Action: "/r", Unavailable: "u", Message: "<b>not bold</b>",
			Steps:  []*formStep{{Title: "S", Description: "d", Fields: fields}, {Title: "Empty"}},
			Errors: []fieldError{{Anchor: "f-t", Label: "T", Message: "<b>not bold</b>"}}},
		"create_review": &createReviewView{Template: tcard, CreateAction: "/c", EditAction: "/e",
			Steps:  []reviewStep{{Title: "S", Rows: []reviewRow{{Label: "a", Value: "<b>not bold</b>"}, {Label: "p", Value: "••", Masked: true}}}},
			Hidden: []hiddenInput{{Name: "v.a", Value: "<b>not bold</b>"}}},
		"create_edit": &createEditorView{Action: "/create/edit", YAML: "<b>not bold</b>", YAMLErrors: []string{"<b>not bold</b>"},
			Templates: []option{{Value: "default/t", Label: "<b>not bold</b>"}}, Loaded: "default/t", Stash: "s",
			Files: []editorFile{{Path: "<b>not bold</b>", Size: 3}}, FilesBytes: 3, FilesError: "<b>not bold</b>",
			Steps: []*formStep{{Title: "S", Description: "d", Fields: fields}, {Title: "Empty"}}, Shown: []string{"v.t"},
			Errors: []fieldError{{Anchor: "e-yaml", Label: "Template", Message: "<b>not bold</b>"}}, Message: "<b>not bold</b>",
			MayNotRun: true, Unavailable: "u",
			Result: &dryRunView{Error: "<b>not bold</b>", Log: []dryRunLine{{Step: "fetch", Status: "completed", Message: "<b>not bold</b>"}, {Message: "m"}},
				Links: []taskLink{{Title: "Repo", Href: "https://x"}}, Texts: []taskText{{Title: "Next", HTML: "<b>bold</b>"}},
				Tree: []*fileNode{{Name: "d", Path: "d", Dir: true, Children: []*fileNode{
					{Name: "a.txt", Path: "d/a.txt", Size: 9, Content: "<b>not bold</b>", Truncated: true},
					{Name: "b.bin", Path: "d/b.bin", Size: 4, Binary: true}}}},
				FileCount: 2, TotalBytes: 13}},
		"create_task": &createTaskView{ID: "t1", EventsHref: "/api/scaffolder/v2/tasks/t1/events", Known: true, Status: "processing",
			CreatedBy: "user:default/jane", Steps: []taskStep{{ID: "fetch", Name: "Fetch", Status: "completed"}},
			Log: []taskLogLine{{Step: "fetch", Message: "done"}}, Links: []taskLink{{Title: "Repo", Href: "https://x"}},
			Texts: []taskText{{Title: "Next", HTML: "<p>go</p>"}}, Error: "boom", StreamHref: "/api/scaffolder/v2/tasks/t1/eventstream?after=1"},
		"error": &errorView{Status: 404, Heading: "Not found", Message: "m"},
		"git":   &gitListView{Repos: []gitRepoItem{{Name: "acme/<b>app</b>", Href: "/git/acme/app", CloneURL: "http://x/git/acme/app.git", HasUpdated: true}}},
		"git_repo": &gitRepoView{Owner: "acme", Repo: "app", Href: "/git/acme/app", CloneURL: "http://x/git/acme/app.git",
			View:   &githost.View{Ref: "main", Dir: true, Commit: githost.Commit{Short: "abc1234", Subject: "<i>init</i>"}},
			Crumbs: []gitCrumb{{Name: "app", Href: "/git/acme/app/tree/main"}}, Branches: []gitCrumb{{Name: "main", Href: "/git/acme/app/tree/main"}},
			Entries: []gitEntry{{Entry: githost.Entry{Name: "main.go", Mode: "executable", Size: 2048}, Href: "/git/acme/app/blob/main/main.go"}}},
		"home":     &homeView{Total: 3, Kinds: []kindCount{{Label: "Components", Href: "/catalog", Count: 3}}, CanRegister: true},
		"catalog":  list,
		"api_docs": list,
		"entity_overview": &overviewView{
			Entity: frame,
			About: aboutCard{Description: "d", RefreshAction: "/r", UnregisterHref: "/u", Fields: []aboutField{
				{Label: "Owner", Links: []entityLink{link}}, {Label: "Tags", Tags: []string{"a"}}, {Label: "Lifecycle", Chip: "production"}, {Label: "Type", Text: "service"},
			}},
			Links:     []linkView{{Title: "Dashboard", URL: "https://example.com"}},
			Profile:   &profileCard{DisplayName: "A B", Email: "a@example.com", Initials: "AB"},
			Ownership: &ownershipCard{Title: "Ownership", Items: []kindCount{{Label: "Components", Href: "/catalog", Count: 2}}, Total: 2},
			Location:  &locationCard{Type: "file", Targets: []locationTarget{{Target: "./*.yaml", Resolved: "/x/*.yaml", Glob: true}}, Produced: card},
			Steps:     []templateStep{{ID: "fetch", Name: "Fetch", Action: "fetch:template"}},
			Cards:     []relationCard{card, {Title: "Empty", Empty: "Nothing."}},
		},
		"entity_definition": &definitionView{
			Entity: frame, APIType: "openapi", Source: code, OpenAPIError: "bad",
			Outline: []outlineLink{{Kind: "tag", Label: "t", Href: "#t", Children: []outlineLink{{Kind: "GET", Label: "/x", Href: "#x"}}}},
			OpenAPI: &openAPIView{Title: "T", Version: "1", Description: "d", Servers: []string{"https://x"},
				Groups: []opGroup{{Name: "t", Description: "d", Ops: []operationView{{
					Anchor: "op-x", Method: "GET", Path: "/x", Summary: "s", Description: "d", OperationID: "x", Deprecated: true,
					Params:    []paramView{{Name: "p", In: "query", Type: "string", Description: "d", Example: "e", Required: true}},
					Body:      &bodyView{Description: "b", Required: true, Contents: content},
					Responses: []responseView{{Status: "200", Class: "2", Description: "ok", Contents: content}},
				}}}},
				Schemas: []*schemaView{schema},
			},
		},
		"entity_graph": &graphView{
			Entity: frame, Action: "/g", Depths: []option{{Value: "1", Label: "1", Selected: true}},
			Pairs: []option{{Value: "ownership", Label: "Ownership", Selected: true}}, Kinds: []option{{Value: "api", Label: "API"}},
			Graph: layoutGraph([]gNode{{ID: "a", Label: "A", Kind: "Component", KindKey: "component", Href: "/a", Root: true},
				{ID: "b", Label: "B", Kind: "Group", KindKey: "group", Missing: true}}, []gEdge{{From: 0, To: 1, Label: "ownedBy"}}),
			Legend: []option{{Value: "component", Label: "Component"}}, Truncated: 2,
			Rows: []edgeRow{{From: link, Relation: "ownedBy", To: missing}},
		},
		"entity_inspect": &inspectView{
			Entity: frame, Identity: []keyValue{{Key: "uid", Value: "1"}},
			Ancestry:  []ancestryItem{{Entity: link, Parents: []entityLink{link}}},
			Relations: []relationRow{{Type: "ownedBy", Target: link}}, MoreRels: 2,
			Annotations: []keyValue{{Key: "k", Value: "https://x", URL: "https://x"}}, Labels: []keyValue{{Key: "l", Value: "v"}},
			Format: "yaml", YAMLHref: "/y", JSONHref: "/j", Raw: code,
		},
		"import":         &importView{Target: "https://x", Locations: []locationRow{{ID: "1", Type: "url", Target: "https://x", Href: "/l"}}, CanUnregister: true},
		"import_preview": &previewView{Type: "url", Target: "https://x", Exists: true, Problems: []string{"x.yaml:3:1: bad"}, CanImport: true, Entities: []previewEntity{{Link: link, InCatalog: true, Problems: []string{"spec.owner: missing"}}}},
		"location":       &locationView{Location: *loc, Entities: card, UnregisterHref: "/u"},
		"unregister":     &unregisterView{Location: loc, Origin: "url:x", From: &link, Entities: card, Action: "/u", CancelHref: "/c"},
		"signin": &signInView{Error: "<b>not bold</b>", SignedOut: true,
			Providers: []signInButton{{Title: "Guest", Href: "/api/auth/guest/start?redirect=%2F"}}},
		"settings": &settingsView{SignInOn: true, Signed: true, Account: entityLink{Href: "/catalog/default/user/jane", Label: "user:default/jane", Title: "<b>not bold</b>"},
			Ownership: []entityLink{{Href: "/catalog/default/group/team", Label: "group:default/team", Kind: "Group", Title: "Team"}, missing}, Policy: &code},
		"audit": &auditView{
			Form:     auditForm{Actor: "a", Action: "catalog.entity.updated", Target: "t", Outcome: "failed", From: "2026-03-01T10:00", To: "2026-03-02T10:00"},
			Actions:  []option{{Value: "", Label: "Any action"}, {Value: "catalog.entity.updated", Label: "catalog.entity.updated", Selected: true}},
			Outcomes: []option{{Value: "failed", Label: "failed", Selected: true}}, Actors: []string{"anonymous"},
			Events: []auditRow{event, plain}, Active: 2, ClearHref: "/audit", OlderHref: "/audit?before=6", NewestHref: "/audit",
		},
		"audit_event": &auditEventView{
			Event: event, Request: &audit.Request{ID: "r", Method: "POST", Route: "/x", IP: "10.0.0.1", UserAgent: "<b>not bold</b>"},
			PrevHash: "ab", Hash: "cd", PrevHref: "/audit/events/6", HistoryHref: "/catalog/default/component/a/history", TargetHref: "/audit?target=a",
			Changes: &changesView{Diff: diff, Patch: &code, Note: "n", Ops: ops},
		},
		"docs":        docsListSample(link, pager),
		"docs_reader": docsReaderSample(link),
		"entity_history": &historyView{
			Entity: frame, More: 3, AuditHref: "/audit?target=x", Latest: diff,
			Versions: []versionRow{
				{Seq: 7, Href: "/audit/events/7", Time: when, Actor: "anonymous", Action: "catalog.entity.updated", Verb: "Updated", Changes: []string{"/spec/owner"}, MoreChanges: 2},
				{Seq: 6, Href: "/audit/events/6", Time: when, Actor: "anonymous", Action: "catalog.entity.created", Verb: "Created", Note: "The whole entity, first recorded"},
			},
		},
	}
}

// TestTemplatesRender renders every page template with its view struct,
// including the variants a second sample adds.
func TestTemplatesRender(t *testing.T) {
	r := mustRenderer()
	samples := samplePages()
	// Variants that take the other side of top-level branches.
	variants := map[string]view{
		"entity_definition": &definitionView{Entity: entityFrame{Kind: "API"}, Empty: true},
		"entity_graph":      &graphView{Diagram: true},
		"unregister":        &unregisterView{Origin: "file:/x"},
		"import_preview":    &previewView{Target: "x"},
		"audit":             &auditView{Error: "bad", ErrorField: "from"},
		"audit_event":       &auditEventView{Event: auditRow{Seq: 1, Target: targetLink{Text: "x"}}, Changes: &changesView{Diff: &diffView{Unaligned: true}}},
		"entity_history":    &historyView{Entity: entityFrame{Kind: "Component"}, AuditHref: "/audit"},
		"git":               &gitListView{},
		"git_repo": &gitRepoView{View: &githost.View{Location: githost.Location{Path: "bin.dat"}, Binary: true, Size: 3},
			Parent: "/git/acme/app/tree/main"},
		"signin":          &signInView{},
		"settings":        &settingsView{Signed: true, Service: true, Subject: "ci"},
		"entity_overview": &overviewView{Entity: entityFrame{Kind: "Component"}},
		"location":        &locationView{Location: catalog.Location{ID: "1"}},
		"home":            &homeView{},
		"import":          &importView{Locations: []locationRow{{ID: "1", Type: "url", Target: "https://x", Href: "/l"}}},
		"create_edit":     &createEditorView{Action: "/create/edit", Result: &dryRunView{}},
		"docs_reader":     docsReaderNotBuiltSample(),
	}
	// Variants of pages whose top-level branches take a third side.
	thirds := map[string]view{
		"settings":    &settingsView{},
		"signin":      &signInView{Providers: []signInButton{{Title: "Guest", Href: "/"}}},
		"error":       &errorView{Status: 403, Heading: "Not allowed"},
		"docs_reader": docsReaderSearchSample(),
	}
	for name := range r.pages {
		if _, ok := samples[name]; !ok {
			t.Errorf("template %s has no sample view in samplePages", name)
		}
	}
	for name, v := range samples {
		for i, data := range []view{v, variants[name], thirds[name]} {
			if data == nil {
				continue
			}
			// The sample is signed in; the variants are not, and the
			// second takes the bare layout of a visitor before sign-in.
			*data.layoutData() = Layout{AppTitle: "Atrium", Title: "T", CSRF: "token", Notice: "n",
				Nav: []navLink{{NavItem: NavItem{Label: "Home", Href: "/", Icon: "home"}, Active: true}}, Breadcrumbs: []crumb{{"A", "/a"}, {"B", ""}}}
			switch i {
			case 0:
				data.layoutData().User = &userMenu{Label: "user:default/<b>not bold</b>"}
			case 2:
				data.layoutData().Bare = true
			}
			var buf bytes.Buffer
			if err := r.execute(&buf, name, data); err != nil {
				t.Errorf("%s (sample %d): %v", name, i, err)
				continue
			}
			out := buf.String()
			if !strings.Contains(out, "</html>") || !strings.Contains(out, `<main id="main"`) {
				t.Errorf("%s (sample %d): incomplete page", name, i)
			}
			if strings.Contains(out, "<b>not bold</b>") {
				t.Errorf("%s: data rendered as markup", name)
			}
		}
	}
}

// TestViewsKeepLayoutFields checks that no page struct has a field named
// like one of Layout's: the field would hide Layout's from the layout
// template, which would then show the page's value in the header.
func TestViewsKeepLayoutFields(t *testing.T) {
	layout := map[string]bool{}
	for f := range reflect.TypeFor[Layout]().Fields() {
		layout[f.Name] = true
	}
	for name, v := range samplePages() {
		for f := range reflect.TypeOf(v).Elem().Fields() {
			if !f.Anonymous && layout[f.Name] {
				t.Errorf("%s: %T.%s hides Layout.%s", name, v, f.Name, f.Name)
			}
		}
	}
}

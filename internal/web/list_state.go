package web

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/atrium-dev/atrium/internal/catalog"
	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/catalog/filter"
	"github.com/atrium-dev/atrium/internal/derrors"
)

// listState is the state of an entity list page, kept in its URL in
// Backstage's form so that links to a filtered view keep working:
//
//	/catalog?filters[kind]=component&filters[type]=service&filters[owners]=team-a
//	        &filters[lifecycles]=production&filters[tags]=java&filters[namespace]=default
//	        &filters[text]=ship
//
// Repeated filters (owners, types, ...) take several values, written as
// Backstage's qs library writes them (filters[owners]=a&filters[owners]=b)
// or with indices (filters[owners][0]=a). Sorting, page size and the page
// position are Atrium's own parameters: sort, dir, limit and cursor.
type listState struct {
	// Kind is the lowercased kind shown; "" shows every kind.
	Kind       string
	Types      []string
	Owners     []string
	Lifecycles []string
	Tags       []string
	Namespaces []string
	Text       string
	Orphan     bool
	// Sort is a column key (see sortFields); Desc reverses it.
	Sort  string
	Desc  bool
	Limit int
	// Cursor is the encoded position of the page; "" is the first page.
	Cursor string
}

// allKinds is the filters[kind] value that shows every kind (an Atrium
// extension: Backstage's kind picker has no such option).
const allKinds = "all"

// Page sizes offered; the first is the default, Backstage's.
var pageSizes = []int{20, 50, 100}

// Limits on what a list URL may ask for, so a crafted URL cannot turn into
// a huge SQL statement.
const (
	maxFilterValues = 50
	maxFilterText   = 200
)

// filterParam matches filters[name], filters[name][] and filters[name][3].
var filterParam = regexp.MustCompile(`^filters\[([a-z]+)\](?:\[([0-9]*)\])?$`)

// filterParams returns the URL's filter parameters in order: by name,
// then by index (filters[owners][2] before filters[owners][10]), so that
// values keep the order the link gave them.
func filterParams(q url.Values) []filterValues {
	var out []filterValues
	for key, values := range q {
		m := filterParam.FindStringSubmatch(key)
		if m == nil {
			continue
		}
		index, _ := strconv.Atoi(m[2])
		out = append(out, filterValues{name: m[1], index: index, values: values})
	}
	slices.SortFunc(out, func(a, b filterValues) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		return a.index - b.index
	})
	return out
}

// filterValues are the values of one filter parameter.
type filterValues struct {
	name   string
	index  int
	values []string
}

// parseListState reads a list page's URL. defaultKind applies when the URL
// names no kind, as Backstage's catalog shows components by default.
func parseListState(q url.Values, defaultKind string) (listState, error) {
	st := listState{Kind: defaultKind, Limit: pageSizes[0]}
	kindSet := false
	for _, p := range filterParams(q) {
		for _, v := range p.values {
			if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 || len(v) > maxFilterText {
				return listState{}, derrors.Invalid("The filter %s has a value that is too long or not valid text.", p.name)
			}
		}
		values := cleanValues(p.values)
		switch p.name {
		case "kind":
			if len(values) > 0 {
				st.Kind, kindSet = strings.ToLower(values[0]), true
			}
		case "type":
			st.Types = append(st.Types, values...)
		case "owners":
			st.Owners = append(st.Owners, values...)
		case "lifecycles":
			st.Lifecycles = append(st.Lifecycles, values...)
		case "tags":
			st.Tags = append(st.Tags, values...)
		case "namespace":
			st.Namespaces = append(st.Namespaces, values...)
		case "text":
			if len(values) > 0 {
				st.Text = values[0]
			}
		case "orphan":
			st.Orphan = len(values) > 0 && values[0] == "true"
		}
	}
	if kindSet && st.Kind == allKinds {
		st.Kind = ""
	}
	for _, vs := range [][]string{st.Types, st.Owners, st.Lifecycles, st.Tags, st.Namespaces} {
		if len(vs) > maxFilterValues {
			return listState{}, derrors.Invalid("Too many filter values: at most %d per filter.", maxFilterValues)
		}
	}
	st.Sort = q.Get("sort")
	if !st.sortable(st.Sort) {
		st.Sort = ""
	}
	st.Desc = q.Get("dir") == "desc"
	if n, err := strconv.Atoi(q.Get("limit")); err == nil && slices.Contains(pageSizes, n) {
		st.Limit = n
	}
	st.Cursor = q.Get("cursor")
	return st, nil
}

// cleanValues trims values and drops empty and repeated ones.
func cleanValues(values []string) []string {
	out := values[:0:0]
	for _, v := range values {
		v = strings.TrimSpace(v)
		if v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// values writes the state back into URL parameters; the cursor is left
// out, so every link built from it starts at the first page.
func (st listState) values(defaultKind string) url.Values {
	q := url.Values{}
	switch {
	case st.Kind == "" && defaultKind != "":
		q.Set("filters[kind]", allKinds)
	case st.Kind != "":
		q.Set("filters[kind]", st.Kind)
	}
	add := func(name string, vs []string) {
		for _, v := range vs {
			q.Add("filters["+name+"]", v)
		}
	}
	add("type", st.Types)
	add("owners", st.Owners)
	add("lifecycles", st.Lifecycles)
	add("tags", st.Tags)
	add("namespace", st.Namespaces)
	if st.Text != "" {
		q.Set("filters[text]", st.Text)
	}
	if st.Orphan {
		q.Set("filters[orphan]", "true")
	}
	if st.Sort != "" {
		q.Set("sort", st.Sort)
	}
	if st.Desc {
		q.Set("dir", "desc")
	}
	if st.Limit != pageSizes[0] {
		q.Set("limit", strconv.Itoa(st.Limit))
	}
	return q
}

// href is the address of the list in this state, at path.
func (st listState) href(path, defaultKind string) string {
	q := st.values(defaultKind).Encode()
	if q == "" {
		return path
	}
	return path + "?" + q
}

// ownerRef turns an owner filter value into the ref its relation holds:
// a bare name is a group in the default namespace, as Backstage's owner
// picker writes them ("team-a"), and full refs are taken as they are.
func ownerRef(v string) string {
	ref, err := entity.ParseRef(v, entity.RefDefaults{Kind: "group"})
	if err != nil {
		return strings.ToLower(v)
	}
	return ref.Key()
}

// expr is the filter expression of the state's facet filters. Matches go
// most selective first: the store reads a page off the rows of the first
// single-valued match, so an owner (tens of entities) drives the query
// rather than a kind (most of the catalog).
func (st listState) expr() filter.Expr {
	var all []filter.Expr
	match := func(key string, vs []string, norm func(string) string) {
		if len(vs) == 0 {
			return
		}
		m := filter.Match{Key: key}
		for _, v := range vs {
			m.Values = append(m.Values, norm(v))
		}
		all = append(all, m)
	}
	lower := strings.ToLower
	match("relations.ownedby", st.Owners, ownerRef)
	match("metadata.tags", st.Tags, lower)
	match("spec.type", st.Types, lower)
	match("spec.lifecycle", st.Lifecycles, lower)
	match("metadata.namespace", st.Namespaces, lower)
	if st.Orphan {
		all = append(all, filter.Match{Key: "metadata.annotations." + entity.AnnotationOrphan, Values: []string{"true"}})
	}
	if st.Kind != "" {
		all = append(all, filter.Match{Key: "kind", Values: []string{st.Kind}})
	}
	return andExpr(all...)
}

// textFields are searched by the text filter, as Backstage's catalog
// searches them.
var textFields = []string{"metadata.name", "metadata.title", "spec.profile.displayName"}

// sortField is a sortable column: the search key it sorts by, and the
// kinds for which every entity has it ("*" for all). Entities lacking the
// field sort last.
type sortField struct {
	key      string
	requires []string
}

// sortFields are the sortable columns; "" is the default, by name.
var sortFields = map[string]sortField{
	"":          {key: "metadata.name", requires: []string{"*"}},
	"name":      {key: "metadata.name", requires: []string{"*"}},
	"kind":      {key: "kind", requires: []string{"*"}},
	"owner":     {key: "relations.ownedby", requires: []string{"component", "api", "resource", "system", "domain"}},
	"type":      {key: "spec.type", requires: []string{"component", "api", "resource", "group", "template"}},
	"lifecycle": {key: "spec.lifecycle", requires: []string{"component", "api"}},
	"system":    {key: "spec.system"},
}

// sortable reports whether the list may be sorted by column c.
func (st listState) sortable(c string) bool {
	_, ok := sortFields[c]
	return ok
}

// complete reports whether every listed entity has column c's field: the
// query may then leave out entities lacking it (none are) and the store
// reads the page straight off that field's index.
func (st listState) complete(c string) bool {
	sf := sortFields[c]
	return slices.Contains(sf.requires, "*") || (st.Kind != "" && slices.Contains(sf.requires, st.Kind))
}

// query is the catalog query for one page of the list in this state.
func (st listState) query() (catalog.Query, pageCursor, error) {
	sort := st.Sort
	if !st.sortable(sort) {
		sort = ""
	}
	q := catalog.Query{
		Filter:      st.expr(),
		Order:       []filter.Order{{Field: sortFields[sort].key, Desc: st.Desc}},
		DropMissing: st.complete(sort), // else entities lacking the field sort last
		Limit:       st.Limit,
		CountTotal:  true,
	}
	if t := strings.TrimSpace(st.Text); t != "" {
		q.FullText = &catalog.FullText{Term: t, Fields: textFields}
	}
	cur, err := decodeCursor(st.Cursor)
	if err != nil {
		return catalog.Query{}, pageCursor{}, err
	}
	switch cur.Dir {
	case cursorNext:
		q.After = &catalog.Position{Value: cur.Value, ID: cur.ID}
	case cursorPrev:
		q.Before = &catalog.Position{Value: cur.Value, ID: cur.ID}
	case cursorLast:
		// Before the end of the ordering: a NULL value (which sorts last)
		// with the largest id.
		q.Before = &catalog.Position{ID: 1<<63 - 1}
	}
	return q, cur, nil
}

// pageCursor is a position in a list, carried in the cursor parameter:
// the direction of travel, the keyset position to move from, and the
// offset of the page it leads to (for "21–40 of 1,000"; it is only shown).
type pageCursor struct {
	Dir    string  `json:"d"`
	Value  *string `json:"v,omitempty"`
	ID     int64   `json:"i,omitempty"`
	Offset int     `json:"o,omitempty"`
}

// Directions of a cursor; "" is the first page.
const (
	cursorNext = "n"
	cursorPrev = "p"
	cursorLast = "l"
)

func (c pageCursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (pageCursor, error) {
	if s == "" {
		return pageCursor{}, nil
	}
	bad := derrors.Invalid("The page link is not valid any more. Start again from the first page.")
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) > 1024 {
		return pageCursor{}, bad
	}
	var c pageCursor
	if err := json.Unmarshal(b, &c); err != nil {
		return pageCursor{}, bad
	}
	switch c.Dir {
	case cursorNext, cursorPrev, cursorLast:
	default:
		return pageCursor{}, bad
	}
	if c.Offset < 0 {
		c.Offset = 0
	}
	return c, nil
}

package api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/atrium-dev/atrium/internal/catalog"
	"github.com/atrium-dev/atrium/internal/catalog/filter"
	"github.com/atrium-dev/atrium/internal/derrors"
)

// defaultQueryLimit is by-query's page size when the request names none
// (catalog-backend 4.0.5; its OpenAPI text still says 20).
const defaultQueryLimit = 200

// byQuery is a parsed by-query request, from GET parameters or a POST body.
// Exactly one of cursor and initial is set.
type byQuery struct {
	cursor  *string      // the encoded cursor of a continued request
	initial *queryCursor // the cursor the first page's cursors will extend
	filter  filter.Expr
	offset  int
	count   bool // compute totalItems (initial requests only)
	limit   int
	fields  []string
}

// queryCursor is the state a by-query cursor carries from page to page: the
// query itself (as the client gave it, re-parsed on every request), the
// total counted on the first page, and the keyset position to resume from.
// It is base64url of this JSON; anything that does not decode into a
// consistent cursor is a 400.
type queryCursor struct {
	Version    int              `json:"v"`
	Filters    []string         `json:"filter,omitempty"`
	Query      json.RawMessage  `json:"query,omitempty"`
	Order      []cursorOrder    `json:"order,omitempty"`
	FullText   *cursorFullText  `json:"fullText,omitempty"`
	TotalItems int              `json:"totalItems"`
	Position   catalog.Position `json:"position"`
	IsPrevious bool             `json:"isPrevious"`
}

type cursorOrder struct {
	Field string `json:"field"`
	Desc  bool   `json:"desc,omitempty"`
}

type cursorFullText struct {
	Term   string   `json:"term"`
	Fields []string `json:"fields"`
}

const cursorVersion = 1

// getEntitiesByQuery serves GET /entities/by-query.
func (h *catalogHandler) getEntitiesByQuery(w http.ResponseWriter, r *http.Request) error {
	q, err := queryParams(r, "filter", "fields", "limit", "offset", "orderField", "cursor",
		"totalItems", "fullTextFilterTerm", "fullTextFilterFields")
	if err != nil {
		return err
	}
	var req byQuery
	if req.fields, err = filter.ParseFields(q["fields"]); err != nil {
		return err
	}
	limit, hasLimit, err := intParam(q, "limit")
	if err != nil {
		return err
	}
	if req.limit, err = queryLimit(limit, hasLimit); err != nil {
		return err
	}
	cursor, hasCursor, err := stringParam(q, "cursor")
	if err != nil {
		return err
	}
	if hasCursor {
		return h.runByQuery(w, r, req.withCursor(cursor))
	}

	// The initial request: filter, order, full text, offset and totalItems.
	if req.filter, err = filter.ParseParams(q["filter"]); err != nil {
		return err
	}
	order, err := filter.ParseOrderFields(q["orderField"])
	if err != nil {
		return err
	}
	term, _, err := stringParam(q, "fullTextFilterTerm")
	if err != nil {
		return err
	}
	var ftFields []string
	for _, v := range q["fullTextFilterFields"] {
		ftFields = append(ftFields, strings.Split(v, ",")...)
	}
	if req.offset, err = queryOffset(intParam(q, "offset")); err != nil {
		return err
	}
	totalItems, _, err := stringParam(q, "totalItems")
	if err != nil {
		return err
	}
	if req.count, err = parseTotalItems(totalItems); err != nil {
		return err
	}
	req.initial = newCursor(order, term, ftFields)
	req.initial.Filters = q["filter"]
	return h.runByQuery(w, r, req)
}

// byQueryBody is the body of POST /entities/by-query.
type byQueryBody struct {
	Query          json.RawMessage `json:"query"`
	Cursor         *string         `json:"cursor"`
	Limit          *int            `json:"limit"`
	Offset         *int            `json:"offset"`
	OrderBy        []cursorOrderIn `json:"orderBy"`
	FullTextFilter *struct {
		Term   string   `json:"term"`
		Fields []string `json:"fields"`
	} `json:"fullTextFilter"`
	Fields     []string        `json:"fields"`
	TotalItems json.RawMessage `json:"totalItems"`
}

type cursorOrderIn struct {
	Field string `json:"field"`
	Order string `json:"order"`
}

// postEntitiesByQuery serves POST /entities/by-query, whose filter is a
// predicate query in the body.
func (h *catalogHandler) postEntitiesByQuery(w http.ResponseWriter, r *http.Request) error {
	if _, err := queryParams(r); err != nil {
		return err
	}
	var body byQueryBody
	if err := decodeBody(w, r, h.maxBody, bodyRules{strict: true, allowEmpty: true}, &body); err != nil {
		return err
	}
	var req byQuery
	var err error
	if req.fields, err = filter.ParseFields(body.Fields); err != nil {
		return err
	}
	if req.limit, err = queryLimit(deref(body.Limit), body.Limit != nil); err != nil {
		return err
	}
	if body.Cursor != nil {
		return h.runByQuery(w, r, req.withCursor(*body.Cursor))
	}

	var query json.RawMessage
	if !isJSONNull(body.Query) {
		if req.filter, err = filter.ParsePredicate(body.Query); err != nil {
			return err
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, body.Query); err != nil {
			return malformed(err)
		}
		query = buf.Bytes()
	}
	orderSpecs := make([]string, 0, len(body.OrderBy))
	for _, o := range body.OrderBy {
		spec := o.Field
		if o.Order != "" {
			spec += "," + o.Order
		}
		orderSpecs = append(orderSpecs, spec)
	}
	order, err := filter.ParseOrderFields(orderSpecs)
	if err != nil {
		return err
	}
	if req.offset, err = queryOffset(deref(body.Offset), body.Offset != nil, nil); err != nil {
		return err
	}
	if req.count, err = parseTotalItemsJSON(body.TotalItems); err != nil {
		return err
	}
	var term string
	var ftFields []string
	if body.FullTextFilter != nil {
		term, ftFields = body.FullTextFilter.Term, body.FullTextFilter.Fields
	}
	req.initial = newCursor(order, term, ftFields)
	req.initial.Query = query
	return h.runByQuery(w, r, req)
}

// withCursor returns req continuing from an encoded cursor.
func (req byQuery) withCursor(encoded string) byQuery {
	req.cursor, req.initial = &encoded, nil
	return req
}

// queryResponse is the body of both by-query endpoints.
type queryResponse struct {
	Items      []json.RawMessage `json:"items"`
	TotalItems int               `json:"totalItems"`
	PageInfo   pageInfo          `json:"pageInfo"`
}

type pageInfo struct {
	NextCursor string `json:"nextCursor,omitempty"`
	PrevCursor string `json:"prevCursor,omitempty"`
}

// runByQuery answers a by-query request, initial or continued.
func (h *catalogHandler) runByQuery(w http.ResponseWriter, r *http.Request, req byQuery) error {
	var cur queryCursor
	initial := req.cursor == nil
	if initial {
		cur = *req.initial
	} else {
		c, f, err := decodeCursor(*req.cursor)
		if err != nil {
			return err
		}
		cur, req.filter = c, f
	}

	q := catalog.Query{Filter: req.filter, Default: catalog.SortByID, Limit: req.limit}
	for _, o := range cur.Order {
		q.Order = append(q.Order, filter.Order{Field: o.Field, Desc: o.Desc})
	}
	q.DropMissing = len(q.Order) > 0
	if cur.FullText != nil {
		q.FullText = &catalog.FullText{Term: cur.FullText.Term, Fields: cur.FullText.Fields}
	}
	switch {
	case initial:
		q.Offset = req.offset
		q.CountTotal = req.count
	case cur.IsPrevious:
		q.Before = &cur.Position
	default:
		q.After = &cur.Position
	}

	page, err := h.c.QueryEntities(r.Context(), q)
	if err != nil {
		return err
	}
	if initial && req.count {
		cur.TotalItems = page.TotalItems
	}
	items, err := project(page.Items, req.fields)
	if err != nil {
		return err
	}
	resp := queryResponse{Items: items, TotalItems: cur.TotalItems}

	// Going forward, HasMore means more after Last; going back (Before), it
	// means more before First. A page reached from a cursor always has a
	// page the other way, except the first page itself.
	var hasNext, hasPrev bool
	if cur.IsPrevious && !initial {
		hasNext, hasPrev = len(page.Items) > 0, page.HasMore
	} else {
		hasNext, hasPrev = page.HasMore && req.limit > 0, !initial && len(page.Items) > 0
	}
	if hasNext && page.Last != nil {
		if resp.PageInfo.NextCursor, err = cur.at(*page.Last, false); err != nil {
			return err
		}
	}
	if hasPrev && page.First != nil {
		if resp.PageInfo.PrevCursor, err = cur.at(*page.First, true); err != nil {
			return err
		}
	}
	return writeJSON(w, http.StatusOK, resp)
}

// newCursor builds the cursor of an initial request. Only the first order
// field counts, as in Backstage. The full-text term is trimmed and
// lowercased; with no fields it searches the order field, else metadata.uid.
func newCursor(order []filter.Order, term string, ftFields []string) *queryCursor {
	c := &queryCursor{Version: cursorVersion}
	if len(order) > 0 {
		c.Order = []cursorOrder{{Field: order[0].Field, Desc: order[0].Desc}}
	}
	if term = strings.ToLower(strings.TrimSpace(term)); term != "" {
		ft := &cursorFullText{Term: term}
		for _, f := range ftFields {
			if f = strings.ToLower(strings.TrimSpace(f)); f != "" {
				ft.Fields = append(ft.Fields, f)
			}
		}
		if len(ft.Fields) == 0 {
			if len(c.Order) > 0 {
				ft.Fields = []string{c.Order[0].Field}
			} else {
				ft.Fields = []string{"metadata.uid"}
			}
		}
		c.FullText = ft
	}
	return c
}

// at encodes the cursor that resumes at pos, in the given direction.
func (c queryCursor) at(pos catalog.Position, previous bool) (string, error) {
	c.Position, c.IsPrevious = pos, previous
	b, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// decodeCursor decodes and checks a cursor, and parses the filter it carries.
func decodeCursor(encoded string) (queryCursor, filter.Expr, error) {
	var c queryCursor
	if encoded == "" {
		return c, nil, invalid("Invalid cursor, must not be empty")
	}
	raw, err := decodeBase64(encoded)
	if err != nil {
		return c, nil, invalid("Malformed cursor: not base64")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, nil, invalid("Malformed cursor: not a cursor object")
	}
	switch {
	case c.Version != cursorVersion:
		return c, nil, invalid("Malformed cursor: unknown version")
	case c.Position.ID <= 0:
		return c, nil, invalid("Malformed cursor: no position")
	case len(c.Order) > 1:
		return c, nil, invalid("Malformed cursor: more than one order field")
	case len(c.Order) == 1 && c.Order[0].Field == "":
		return c, nil, invalid("Malformed cursor: empty order field")
	case c.FullText != nil && (c.FullText.Term == "" || len(c.FullText.Fields) == 0):
		return c, nil, invalid("Malformed cursor: incomplete full text filter")
	case len(c.Filters) > 0 && len(c.Query) > 0:
		return c, nil, invalid("Malformed cursor: both filter and query")
	case c.TotalItems < 0:
		return c, nil, invalid("Malformed cursor: negative totalItems")
	}
	var f filter.Expr
	if len(c.Query) > 0 {
		f, err = filter.ParsePredicate(c.Query)
	} else {
		f, err = filter.ParseParams(c.Filters)
	}
	if err != nil {
		msg, ok := derrors.PublicMessage(err)
		if !ok {
			msg = "bad filter"
		}
		return c, nil, invalid("Malformed cursor: %s", msg)
	}
	return c, f, nil
}

// queryLimit applies by-query's default and bounds to a requested limit.
func queryLimit(limit int, given bool) (int, error) {
	if !given {
		return defaultQueryLimit, nil
	}
	if limit < 0 {
		return 0, invalid("Invalid limit, must be zero or greater")
	}
	return limit, nil
}

// queryOffset checks a by-query offset; it takes intParam's results.
func queryOffset(offset int, given bool, err error) (int, error) {
	if err != nil || !given {
		return 0, err
	}
	if offset < 0 {
		return 0, invalid("Invalid offset, must be zero or greater")
	}
	return offset, nil
}

// parseTotalItems reads the totalItems parameter: include (the default) or exclude.
func parseTotalItems(s string) (bool, error) {
	switch s {
	case "", "include":
		return true, nil
	case "exclude":
		return false, nil
	}
	return false, invalid("Invalid totalItems, must be 'include' or 'exclude'")
}

// parseTotalItemsJSON reads body totalItems: "include"/"exclude" or a boolean.
func parseTotalItemsJSON(raw json.RawMessage) (bool, error) {
	if isJSONNull(raw) {
		return true, nil
	}
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return b, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil && s != "" {
		return parseTotalItems(s)
	}
	return false, invalid("Invalid totalItems, must be 'include' or 'exclude'")
}

func deref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

package api

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"

	"github.com/atrium-dev/atrium/internal/catalog"
	"github.com/atrium-dev/atrium/internal/catalog/filter"
)

// getEntities serves GET /entities. With any of limit, offset or after it
// answers one page sorted by entity ref (or the order fields) with a link
// header to the next; without them it streams every match.
func (h *catalogHandler) getEntities(w http.ResponseWriter, r *http.Request) error {
	q, err := queryParams(r, "filter", "fields", "order", "offset", "limit", "after")
	if err != nil {
		return err
	}
	f, err := filter.ParseParams(q["filter"])
	if err != nil {
		return err
	}
	fields, err := filter.ParseFields(q["fields"])
	if err != nil {
		return err
	}
	order, err := filter.ParseOrder(q["order"])
	if err != nil {
		return err
	}
	p, paged, err := parseEntitiesPagination(q)
	if err != nil {
		return err
	}
	if !paged {
		return h.streamEntities(w, r, f, order, fields)
	}

	query := catalog.Query{Filter: f, Order: order, Default: catalog.SortByRef, Limit: -1, Offset: p.offset}
	if p.hasLimit {
		query.Limit = p.limit
	}
	page, err := h.c.QueryEntities(r.Context(), query)
	if err != nil {
		return err
	}
	items, err := project(page.Items, fields)
	if err != nil {
		return err
	}
	if page.HasMore && p.hasLimit {
		after, err := encodeAfter(p.limit, p.offset+p.limit)
		if err != nil {
			return err
		}
		w.Header().Set("Link", nextLink(r, after))
	}
	return writeJSON(w, http.StatusOK, items)
}

// streamEntities writes every entity matching f as one JSON array, fetching
// h.pageSize rows at a time by keyset so memory stays flat however large the
// catalog. As Backstage does, only the first order field counts and
// entities lacking it are left out.
func (h *catalogHandler) streamEntities(w http.ResponseWriter, r *http.Request, f filter.Expr, order []filter.Order, fields []string) error {
	query := catalog.Query{Filter: f, Default: catalog.SortByID, Limit: h.pageSize}
	if len(order) > 0 {
		query.Order = order[:1]
		query.DropMissing = true
	}
	rc := http.NewResponseController(w)
	var bw *bufio.Writer
	first := true
	for {
		page, err := h.c.QueryEntities(r.Context(), query)
		if err != nil {
			return err // before the first byte a normal error; later the adapter aborts
		}
		if bw == nil {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(http.StatusOK)
			bw = bufio.NewWriterSize(w, 64<<10)
			bw.WriteByte('[')
		}
		items, err := project(page.Items, fields)
		if err != nil {
			return err
		}
		for _, item := range items {
			if !first {
				bw.WriteByte(',')
			}
			first = false
			bw.Write(item)
		}
		if !page.HasMore || page.Last == nil || len(page.Items) == 0 {
			break
		}
		if err := bw.Flush(); err != nil {
			return fmt.Errorf("api: stream entities: %w", err)
		}
		_ = rc.Flush() // not every writer flushes; the data still arrives
		query.After = page.Last
	}
	bw.WriteByte(']')
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("api: stream entities: %w", err)
	}
	return nil
}

// entitiesPagination is the paging of GET /entities.
type entitiesPagination struct {
	limit, offset int
	hasLimit      bool
}

// parseEntitiesPagination reads limit, offset and after as Backstage's
// parseEntityPaginationParams does; paged is false when none is given.
// A valid after cursor overrides limit and offset.
func parseEntitiesPagination(q url.Values) (p entitiesPagination, paged bool, err error) {
	offset, hasOffset, err := intParam(q, "offset")
	if err != nil {
		return p, false, err
	}
	limit, hasLimit, err := intParam(q, "limit")
	if err != nil {
		return p, false, err
	}
	after, hasAfter, err := stringParam(q, "after")
	if err != nil {
		return p, false, err
	}
	if !hasOffset && !hasLimit && !hasAfter {
		return p, false, nil
	}
	if hasOffset && offset < 0 {
		return p, false, invalid("Invalid offset, must be zero or greater")
	}
	if hasLimit && limit <= 0 {
		return p, false, invalid("Invalid limit, must be greater than zero")
	}
	if hasAfter && after == "" {
		return p, false, invalid("Invalid after, must not be empty")
	}
	p = entitiesPagination{limit: limit, offset: offset, hasLimit: hasLimit}
	if hasAfter {
		if err := p.applyAfter(after); err != nil {
			return p, false, err
		}
	}
	return p, true, nil
}

// applyAfter decodes Backstage's after cursor, base64 of {"limit","offset"}.
func (p *entitiesPagination) applyAfter(after string) error {
	raw, err := decodeBase64(after)
	var c map[string]json.RawMessage
	if err != nil || json.Unmarshal(raw, &c) != nil || c == nil {
		return invalid("Malformed after cursor, could not be parsed")
	}
	if v, ok := c["limit"]; ok {
		n, ok := jsonInt(v)
		if !ok {
			return invalid("Malformed after cursor, limit was not an number")
		}
		if n <= 0 {
			return invalid("Malformed after cursor, limit must be greater than zero")
		}
		p.limit, p.hasLimit = n, true
	}
	if v, ok := c["offset"]; ok {
		n, ok := jsonInt(v)
		if !ok {
			return invalid("Malformed after cursor, offset was not a number")
		}
		if n < 0 {
			return invalid("Malformed after cursor, offset must be zero or greater")
		}
		p.offset = n
	}
	return nil
}

// encodeAfter makes the after cursor Backstage's stringifyPagination does.
func encodeAfter(limit, offset int) (string, error) {
	b, err := json.Marshal(struct {
		Limit  int `json:"limit"`
		Offset int `json:"offset"`
	}{limit, offset})
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// jsonInt returns the integer a JSON number holds, if it is one.
func jsonInt(raw json.RawMessage) (int, bool) {
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int(f), true
}

// decodeBase64 accepts standard and URL-safe base64, padded or not, as
// Node's Buffer.from(s, 'base64') does.
func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if strings.ContainsAny(s, "-_") {
		return base64.RawURLEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}

// nextLink builds the link header for the next page: the request's own
// relative URL with offset removed and after set, serialised the way
// URLSearchParams does so that it reads as Backstage's.
func nextLink(r *http.Request, after string) string {
	var parts []string
	replaced := false
	for pair := range strings.SplitSeq(r.URL.RawQuery, "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, _ = url.QueryUnescape(k)
		v, _ = url.QueryUnescape(v)
		switch k {
		case "offset":
			continue
		case "after":
			if replaced {
				continue
			}
			v, replaced = after, true
		}
		parts = append(parts, formEncode(k)+"="+formEncode(v))
	}
	if !replaced {
		parts = append(parts, "after="+formEncode(after))
	}
	return "<" + r.URL.EscapedPath() + "?" + strings.Join(parts, "&") + `>; rel="next"`
}

// formEncode is the application/x-www-form-urlencoded byte serializer of
// the URL standard, which URLSearchParams uses.
func formEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ':
			b.WriteByte('+')
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '*', c == '-', c == '.', c == '_':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// project applies a fields selection to each entity; nil items (missing
// entities in by-refs) stay nil. With no fields it returns items as they are.
func project(items []json.RawMessage, fields []string) ([]json.RawMessage, error) {
	if items == nil {
		items = []json.RawMessage{}
	}
	if len(fields) == 0 {
		return items, nil
	}
	out := make([]json.RawMessage, len(items))
	for i, item := range items {
		if item == nil {
			continue
		}
		p, err := filter.Project(item, fields)
		if err != nil {
			return nil, fmt.Errorf("api: project entity: %w", err)
		}
		out[i] = p
	}
	return out, nil
}

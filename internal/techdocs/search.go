package techdocs

import (
	"context"
	"sort"
	"strings"
	"unicode"

	"github.com/atrium-dev/atrium/internal/catalog/entity"
)

// searchDoc is one entry of search/search_index.json (MkDocs' format).
type searchDoc struct {
	Location string `json:"location"`
	Title    string `json:"title"`
	Text     string `json:"text"`
}

// maxQueryTerms bounds the words a query is split into.
const maxQueryTerms = 16

// Search finds the pages and sections of ref's site that hold every word
// of query (case-insensitively, anywhere in a word), best first: matches in
// titles count more than in text. At most limit hits are returned.
func (s *Service) Search(ctx context.Context, ref entity.Ref, query string, limit int) ([]Hit, error) {
	e, err := s.entity(ctx, ref)
	if err != nil {
		return nil, err
	}
	c, _, err := s.site(ctx, e)
	if err != nil {
		return nil, err
	}
	terms := strings.FieldsFunc(strings.ToLower(query), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if len(terms) == 0 {
		return nil, nil
	}
	if len(terms) > maxQueryTerms {
		terms = terms[:maxQueryTerms]
	}
	var hits []Hit
	for _, d := range c.index {
		title, text := strings.ToLower(d.Title), strings.ToLower(d.Text)
		score, first := 0.0, -1
		for _, t := range terms {
			inTitle := strings.Contains(title, t)
			n := strings.Count(text, t)
			if !inTitle && n == 0 {
				score = 0
				break
			}
			if inTitle {
				score += 3
			}
			score += float64(min(n, 5)) * 0.5
			if i := strings.Index(text, t); i >= 0 && (first < 0 || i < first) {
				first = i
			}
		}
		if score == 0 {
			continue
		}
		// Sections are more precise than the page that holds them.
		if strings.Contains(d.Location, "#") {
			score += 0.25
		}
		hits = append(hits, Hit{Title: d.Title, Location: d.Location, Snippet: snippet(d.Text, first), Score: score})
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].Score > hits[j].Score })
	// A page and its introduction share a location: keep the better.
	seen := map[string]bool{}
	kept := hits[:0]
	for _, h := range hits {
		if !seen[h.Location] {
			seen[h.Location] = true
			kept = append(kept, h)
		}
	}
	hits = kept
	if limit > 0 && len(hits) > limit {
		hits = hits[:limit]
	}
	return hits, nil
}

// snippet is about 160 characters of text around byte offset at (the
// start when at < 0), cut at spaces.
func snippet(text string, at int) string {
	const before, length = 60, 160
	if at < 0 {
		at = 0
	}
	start := max(0, at-before)
	for start > 0 && start < len(text) && text[start] != ' ' {
		start--
	}
	end := min(len(text), start+length)
	for end < len(text) && text[end] != ' ' && end-start < length+40 {
		end++
	}
	out := strings.TrimSpace(strings.ToValidUTF8(text[start:end], ""))
	if start > 0 {
		out = "…" + out
	}
	if end < len(text) {
		out += "…"
	}
	return out
}

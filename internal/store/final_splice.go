package store

import (
	"bytes"
	"encoding/json"
)

// spliceFinal assembles the final entity of in without decoding it, for
// the common case: a processed entity as the catalog encodes it (no uid,
// etag, relations or status of its own), with no processing errors to
// show, no orphan mark to add and no javascript: URL to reject. The
// final entity is then the processed one with the uid put first in its
// metadata and the relations appended: the same bytes that decoding,
// changing and encoding it again would give (TestSpliceFinalMatchesDecoding
// holds it to that), for a fraction of the work. It reports false when
// in is not such a case, and buildFinal decodes it instead.
func spliceFinal(in stitchInput) ([]byte, bool) {
	if in.uid == "" || in.orphan || (in.errors.Valid && in.errors.String != "null" && in.errors.String != "[]") {
		return nil, false
	}
	p := []byte(in.processed.String)
	if containsFold(p, "javascript:") {
		return nil, false
	}
	const head = `{"apiVersion":`
	if !bytes.HasPrefix(p, []byte(head)) {
		return nil, false
	}
	i := skipString(p, len(head))
	if i < 0 || !bytes.HasPrefix(p[i:], []byte(`,"kind":`)) {
		return nil, false
	}
	if i = skipString(p, i+len(`,"kind":`)); i < 0 {
		return nil, false
	}
	// Metadata encodes uid and etag before name, so a processed entity
	// without them starts its metadata with the name.
	const meta = `,"metadata":{"name":`
	if !bytes.HasPrefix(p[i:], []byte(meta)) {
		return nil, false
	}
	metaStart := i + len(`,"metadata":{`)
	end := skipValue(p, i+len(`,"metadata":`))
	if end < 0 {
		return nil, false
	}
	if bytes.HasPrefix(p[end:], []byte(`,"spec":`)) {
		if end = skipValue(p, end+len(`,"spec":`)); end < 0 {
			return nil, false
		}
	}
	if end != len(p)-1 || p[end] != '}' {
		return nil, false // relations, status or anything else of its own
	}
	uid, err := json.Marshal(in.uid)
	if err != nil {
		return nil, false
	}
	var rels []byte
	if len(in.relations) > 0 {
		if rels, err = json.Marshal(in.relations); err != nil {
			return nil, false
		}
	}
	out := make([]byte, 0, len(p)+len(uid)+len(rels)+32)
	out = append(out, p[:metaStart]...)
	out = append(out, `"uid":`...)
	out = append(out, uid...)
	out = append(out, ',')
	out = append(out, p[metaStart:end]...)
	if len(rels) > 0 {
		out = append(out, `,"relations":`...)
		out = append(out, rels...)
	}
	return append(out, '}'), true
}

// skipString returns the index just past the JSON string starting at
// b[i], or -1 if there is none.
func skipString(b []byte, i int) int {
	if i >= len(b) || b[i] != '"' {
		return -1
	}
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// skipValue returns the index just past the JSON object, array or string
// starting at b[i], or -1 if it does not end. It trusts b to be valid
// JSON, as a stored processed entity is; it only tracks nesting.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	if b[i] == '"' {
		return skipString(b, i)
	}
	if b[i] != '{' && b[i] != '[' {
		return -1
	}
	depth := 0
	for ; i < len(b); i++ {
		switch b[i] {
		case '"':
			j := skipString(b, i)
			if j < 0 {
				return -1
			}
			i = j - 1
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return -1
}

// containsFold reports whether b contains s, ASCII case-insensitively; s
// must be lower case.
func containsFold(b []byte, s string) bool {
	for i := 0; i+len(s) <= len(b); i++ {
		c := b[i]
		if c|0x20 != s[0] {
			continue
		}
		if bytes.EqualFold(b[i:i+len(s)], []byte(s)) {
			return true
		}
	}
	return false
}

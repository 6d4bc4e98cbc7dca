package filter

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Limits of the search rows, as in Backstage: longer keys are not indexed,
// longer values are indexed only for existence.
const (
	maxSearchKey = 200
	// MaxValueLen is the longest value that is matched on; longer ones
	// are stored as LongValue.
	MaxValueLen = 200
	// LongValue stands in for a value too long (or null) to match on: such
	// rows exist, so Exists matches them, but no Match value equals it.
	LongValue = "\x01"
)

// SearchRow is one flattened (key, value) pair of a final entity: the
// rows filters match against. The store keeps them in its search table;
// permission checks on one entity compute them the same way. Key and
// Value are lowercased; Original keeps the value's case when it differs.
// First is 1 on the least matchable value of its key: the value the entity
// sorts by when ordered on that key.
type SearchRow struct {
	Key, Value, Original string
	First                int
}

// skipped lists the paths not flattened generically: relations and status
// are indexed in their own form, and the identity fields are added once.
var skipped = map[string]bool{
	"relations": true, "status": true, "attachments": true,
	"metadata.name": true, "metadata.namespace": true, "metadata.uid": true, "metadata.etag": true,
}

// SearchRows flattens a final entity's JSON into its search rows, as
// Backstage's buildEntitySearch does: every path becomes a dotted key,
// array items become one row each (and "<path>.<item>" = "true" for string
// items), relations become "relations.<type>" = target ref.
func SearchRows(body []byte) ([]SearchRow, error) {
	rows, err := scanRows(body)
	if err != errFallBack {
		return rows, err
	}
	return decodeRows(body)
}

// decodeRows is SearchRows by decoding the document: the reference the
// byte scanner (scanRows) is held to, and its fallback.
func decodeRows(body []byte) ([]SearchRow, error) {
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("flatten entity: %w", err)
	}
	var f flattener
	f.walk("", doc, 0)
	meta, _ := doc["metadata"].(map[string]any)
	for _, k := range []string{"name", "namespace", "uid"} {
		if v, ok := meta[k].(string); ok {
			f.add("metadata."+k, v)
		}
	}
	if _, ok := meta["namespace"]; !ok {
		f.add("metadata.namespace", "default")
	}
	if rels, ok := doc["relations"].([]any); ok {
		for _, r := range rels {
			m, _ := r.(map[string]any)
			t, _ := m["type"].(string)
			target, _ := m["targetRef"].(string)
			if t != "" && target != "" {
				f.add("relations."+t, target)
			}
		}
	}
	return f.finish(), nil
}

// finish drops duplicate (key, value) rows and marks each key's first value.
// Of rows differing only in case ("Go" and "go"), the one whose original
// sorts first is kept, whatever the order they came in, so that facet
// counts see the same row each time an entity is flattened.
func (f *flattener) finish() []SearchRow {
	sort.Slice(f.rows, func(i, j int) bool {
		a, b := f.rows[i], f.rows[j]
		if a.Key != b.Key {
			return a.Key < b.Key
		}
		if a.Value != b.Value {
			return a.Value < b.Value
		}
		return a.Original < b.Original
	})
	out := f.rows[:0]
	for i, r := range f.rows {
		if i > 0 && r.Key == f.rows[i-1].Key && r.Value == f.rows[i-1].Value {
			continue
		}
		out = append(out, r)
	}
	firstSet := ""
	for i := range out {
		// LongValue sorts before every matchable value ("\x01"), so skip it.
		if out[i].Value != LongValue && out[i].Key != firstSet {
			out[i].First = 1
			firstSet = out[i].Key
		}
	}
	return out
}

type flattener struct{ rows []SearchRow }

func (f *flattener) add(key, value string) {
	key = strings.ToLower(key)
	if len(key) > maxSearchKey {
		return
	}
	row := SearchRow{Key: key, Value: strings.ToLower(value)}
	if len(value) > MaxValueLen {
		row.Value = LongValue
	} else if row.Value != value {
		row.Original = value
	}
	f.rows = append(f.rows, row)
}

// walk flattens v under path. depth bounds recursion on hostile documents.
func (f *flattener) walk(path string, v any, depth int) {
	if depth > 64 || skipped[path] {
		return
	}
	switch t := v.(type) {
	case map[string]any:
		for k, child := range t {
			p := k
			if path != "" {
				p = path + "." + k
			}
			f.walk(p, child, depth+1)
		}
	case []any:
		for _, item := range t {
			switch it := item.(type) {
			case map[string]any, []any:
				f.walk(path, it, depth+1)
			case string:
				f.add(path, it)
				f.add(path+"."+it, "true")
			default:
				f.add(path, scalar(it))
			}
		}
	default:
		if path != "" {
			f.add(path, scalar(t))
		}
	}
}

func scalar(v any) string {
	switch t := v.(type) {
	case nil:
		return LongValue
	case string:
		return t
	case bool:
		return strconv.FormatBool(t)
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	default:
		return fmt.Sprint(t)
	}
}

package filter

import (
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"unicode/utf8"
)

// errFallBack stops the byte scanner where its rows might differ from what
// decoding the document gives: SearchRows then decodes it.
var errFallBack = errors.New("decode the document instead")

// maxScanDepth is the deepest nesting the scanner follows; deeper
// documents are decoded, which refuses the very deep ones.
const maxScanDepth = 1000

// scanRows flattens a final entity's JSON as SearchRows does, reading the
// bytes once instead of decoding them into maps first (a third of the
// CPU a stitch spends per entity). It gives up with errFallBack on
// anything it does not reproduce exactly: invalid JSON, a key repeated in
// one object (decoding keeps the last), invalid UTF-8, very deep nesting.
func scanRows(body []byte) ([]SearchRow, error) {
	s := rowScanner{b: body}
	s.space()
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return nil, errFallBack
	}
	if err := s.value("", 0, true); err != nil {
		return nil, err
	}
	s.space()
	if s.i != len(s.b) {
		return nil, errFallBack
	}
	f := &s.f
	for _, id := range []struct {
		key string
		v   *string
	}{{"metadata.name", s.name}, {"metadata.namespace", s.namespace}, {"metadata.uid", s.uid}} {
		if id.v != nil {
			f.add(id.key, *id.v)
		}
	}
	if !s.hasNamespace {
		f.add("metadata.namespace", "default")
	}
	for _, r := range s.relations {
		f.add("relations."+r[0], r[1])
	}
	return f.finish(), nil
}

type rowScanner struct {
	b []byte
	i int
	f flattener
	// The identity fields (top-level metadata's string name, namespace
	// and uid), whether metadata has a namespace at all, and the
	// relations' [type, targetRef] pairs, which the walk skips.
	name, namespace, uid *string
	hasNamespace         bool
	relations            [][2]string
}

func (s *rowScanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// value reads the value at s.i, found at path and depth as SearchRows'
// walk would reach it, adding rows when emit is true and walk would.
func (s *rowScanner) value(path string, depth int, emit bool) error {
	if depth > maxScanDepth {
		return errFallBack
	}
	if depth > 64 || skipped[path] {
		emit = false
	}
	s.space()
	if s.i >= len(s.b) {
		return errFallBack
	}
	switch s.b[s.i] {
	case '{':
		return s.object(path, depth, emit)
	case '[':
		return s.array(path, depth, emit)
	}
	v, _, err := s.scalar()
	if err != nil {
		return err
	}
	if emit && path != "" {
		s.f.add(path, v)
	}
	return nil
}

func (s *rowScanner) object(path string, depth int, emit bool) error {
	metadata := path == "metadata" && depth == 1
	return s.members(func(k string) error {
		child := k
		if path != "" {
			child = path + "." + k
		}
		switch {
		case path == "" && depth == 0 && k == "relations":
			return s.relationList()
		case metadata && (k == "name" || k == "namespace" || k == "uid"):
			if k == "namespace" {
				s.hasNamespace = true
			}
			if s.b[s.i] != '"' {
				return s.value(child, depth+1, false)
			}
			v, err := s.str()
			switch k {
			case "name":
				s.name = &v
			case "namespace":
				s.namespace = &v
			default:
				s.uid = &v
			}
			return err
		}
		return s.value(child, depth+1, emit)
	})
}

func (s *rowScanner) array(path string, depth int, emit bool) error {
	return s.items(func() error {
		if c := s.b[s.i]; c == '{' || c == '[' {
			return s.value(path, depth+1, emit)
		}
		v, str, err := s.scalar()
		if err != nil {
			return err
		}
		if emit {
			s.f.add(path, v)
			if str {
				s.f.add(path+"."+v, "true")
			}
		}
		return nil
	})
}

// relationList reads the top-level relations, keeping the type and target
// of each object that has both as non-empty strings.
func (s *rowScanner) relationList() error {
	if s.b[s.i] != '[' {
		return s.value("relations", 1, false)
	}
	return s.items(func() error {
		if s.b[s.i] != '{' {
			return s.value("relations", 2, false)
		}
		var typ, target string
		err := s.members(func(k string) error {
			if (k != "type" && k != "targetRef") || s.b[s.i] != '"' {
				return s.value("relations", 3, false)
			}
			v, err := s.str()
			if k == "type" {
				typ = v
			} else {
				target = v
			}
			return err
		})
		if err == nil && typ != "" && target != "" {
			s.relations = append(s.relations, [2]string{typ, target})
		}
		return err
	})
}

// members reads the object at s.i, calling member with each key and s.i
// at the start of its value, which member must read. A key repeated in
// the object falls back: decoding keeps its last value.
func (s *rowScanner) members(member func(k string) error) error {
	s.i++ // '{'
	var keys []string
	return s.list('}', func() error {
		if s.b[s.i] != '"' {
			return errFallBack
		}
		k, err := s.str()
		if err != nil {
			return err
		}
		if slices.Contains(keys, k) {
			return errFallBack
		}
		keys = append(keys, k)
		s.space()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return errFallBack
		}
		s.i++
		s.space()
		if s.i >= len(s.b) {
			return errFallBack
		}
		return member(k)
	})
}

// items reads the array at s.i, calling item with s.i at each item,
// which item must read.
func (s *rowScanner) items(item func() error) error {
	s.i++ // '['
	return s.list(']', item)
}

// list reads the elements of an object or array, just past its opening
// bracket, up to and including end: each one read by elem, which is
// called with s.i at the element, and separated by commas.
func (s *rowScanner) list(end byte, elem func() error) error {
	s.space()
	if s.i < len(s.b) && s.b[s.i] == end {
		s.i++
		return nil
	}
	for {
		s.space()
		if s.i >= len(s.b) {
			return errFallBack
		}
		if err := elem(); err != nil {
			return err
		}
		s.space()
		if s.i >= len(s.b) {
			return errFallBack
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case end:
			s.i++
			return nil
		default:
			return errFallBack
		}
	}
}

// scalar reads a string, number, true, false or null as SearchRows'
// scalar writes it; str says it was a string.
func (s *rowScanner) scalar() (v string, str bool, err error) {
	switch c := s.b[s.i]; {
	case c == '"':
		v, err := s.str()
		return v, true, err
	case c == 't' || c == 'f' || c == 'n':
		for _, lit := range []string{"true", "false", "null"} {
			if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
				s.i += len(lit)
				if lit == "null" {
					return LongValue, false, nil
				}
				return lit, false, nil
			}
		}
		return "", false, errFallBack
	case c == '-' || (c >= '0' && c <= '9'):
		start := s.i
		for s.i < len(s.b) {
			switch c := s.b[s.i]; {
			case c >= '0' && c <= '9', c == '-', c == '+', c == '.', c == 'e', c == 'E':
				s.i++
				continue
			}
			break
		}
		lit := string(s.b[start:s.i])
		if !validNumber(lit) {
			return "", false, errFallBack
		}
		f, err := strconv.ParseFloat(lit, 64)
		if err != nil {
			return "", false, errFallBack
		}
		return strconv.FormatFloat(f, 'f', -1, 64), false, nil
	}
	return "", false, errFallBack
}

// str reads a JSON string. One with escapes is decoded by encoding/json,
// which also decides what invalid escapes and surrogates become.
func (s *rowScanner) str() (string, error) {
	start := s.i
	s.i++ // '"'
	escaped := false
	for s.i < len(s.b) {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			raw := s.b[start:s.i]
			if escaped {
				var v string
				if err := json.Unmarshal(raw, &v); err != nil {
					return "", errFallBack
				}
				return v, nil
			}
			inner := raw[1 : len(raw)-1]
			if !utf8.Valid(inner) {
				return "", errFallBack // decoding replaces invalid bytes
			}
			return string(inner), nil
		case c == '\\':
			escaped = true
			s.i += 2
		case c < 0x20:
			return "", errFallBack
		default:
			s.i++
		}
	}
	return "", errFallBack
}

// validNumber reports whether lit is a JSON number.
func validNumber(lit string) bool {
	i := 0
	if i < len(lit) && lit[i] == '-' {
		i++
	}
	switch {
	case i < len(lit) && lit[i] == '0':
		i++
	case i < len(lit) && lit[i] >= '1' && lit[i] <= '9':
		for i < len(lit) && lit[i] >= '0' && lit[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(lit) && lit[i] == '.' {
		i++
		if i >= len(lit) || lit[i] < '0' || lit[i] > '9' {
			return false
		}
		for i < len(lit) && lit[i] >= '0' && lit[i] <= '9' {
			i++
		}
	}
	if i < len(lit) && (lit[i] == 'e' || lit[i] == 'E') {
		i++
		if i < len(lit) && (lit[i] == '+' || lit[i] == '-') {
			i++
		}
		if i >= len(lit) || lit[i] < '0' || lit[i] > '9' {
			return false
		}
		for i < len(lit) && lit[i] >= '0' && lit[i] <= '9' {
			i++
		}
	}
	return i == len(lit)
}

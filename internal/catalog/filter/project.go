package filter

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/atrium-dev/atrium/internal/derrors"
)

// Project returns the JSON object entityJSON cut down to the subtrees
// named by fields (as ParseFields returns them), with keys in their
// original order and values copied byte for byte. With no fields it
// returns entityJSON unchanged.
//
// A path is resolved against the object itself, so keys that contain dots
// work: `metadata.annotations.backstage.io/orphan` finds the key
// `backstage.io/orphan` under `metadata.annotations`. At each level the
// longest key that is a prefix of the rest of the path (ending at a dot)
// is tried first, then shorter ones. Paths that resolve to nothing are
// ignored, a path that names a whole subtree wins over paths inside it,
// and paths do not descend into arrays. A value that is not a JSON object
// projects to `{}`, as in Backstage.
//
// Project validates the input in one pass, noting where each member of the
// top-level object starts and ends, and rescans only the objects on the
// fields' paths; it decodes only keys with escapes and never builds a tree
// of values, so its cost is close to json.Valid's.
// Malformed JSON is an error of kind derrors.ErrInvalid.
func Project(entityJSON []byte, fields []string) ([]byte, error) {
	if len(fields) == 0 {
		return entityJSON, nil
	}
	data := entityJSON
	start := skipSpace(data, 0)
	if start >= len(data) || data[start] != '{' {
		end, err := skipValue(data, start)
		if err == nil && skipSpace(data, end) != len(data) {
			err = badJSON("data after the value", end)
		}
		if err != nil {
			return nil, derrors.Wrap(derrors.ErrInvalid, err, "Invalid entity JSON")
		}
		return []byte("{}"), nil
	}
	pr := projector{data: data}
	ms, end, err := scanObject(data, start)
	if err == nil && skipSpace(data, end) != len(data) {
		err = badJSON("data after the value", end)
	}
	if err != nil {
		return nil, derrors.Wrap(derrors.ErrInvalid, err, "Invalid entity JSON")
	}
	pr.objects = append(pr.objects, &object{off: start, members: ms})

	root := &keep{}
	var buf [8]int
	for _, f := range fields {
		chain, err := pr.resolve(start, f, buf[:0])
		if err != nil {
			return nil, derrors.Wrap(derrors.ErrInvalid, err, "Invalid entity JSON")
		}
		root.add(chain)
	}
	out := make([]byte, 0, len(data)/2)
	return pr.emit(out, start, root), nil
}

// member is one key/value pair of a scanned object, as offsets into the
// input: the key token [keyStart, keyEnd) with its quotes, and the value
// [valStart, valEnd). Keys are compared in place; only a key with escapes
// is decoded, into unescaped.
type member struct {
	keyStart, keyEnd, valStart, valEnd int
	escaped                            bool
	unescaped                          string
}

// is reports whether the member's key is key, without allocating.
func (m *member) is(data []byte, key string) bool {
	if m.escaped {
		return m.unescaped == key
	}
	return string(data[m.keyStart+1:m.keyEnd-1]) == key
}

// name returns the member's key.
func (m *member) name(data []byte) string {
	if m.escaped {
		return m.unescaped
	}
	return string(data[m.keyStart+1 : m.keyEnd-1])
}

// projector holds the input and the objects scanned so far, by offset of
// their '{', so that several paths through one object scan it once.
type projector struct {
	data    []byte
	objects []*object // few: those on the paths' way
}

// object is a scanned JSON object.
type object struct {
	off     int // of its '{'
	members []member
	// index maps keys to the last member with that key; it is built only
	// for large objects, where a linear search per lookup would add up.
	index map[string]int
}

// linearLookupMax is the member count up to which lookups scan the list.
const linearLookupMax = 16

// lookup returns the index of the member named key. For a duplicate key
// the last one counts, as in JavaScript's JSON.parse.
func (o *object) lookup(data []byte, key string) (int, bool) {
	if len(o.members) <= linearLookupMax {
		for i := len(o.members) - 1; i >= 0; i-- {
			if o.members[i].is(data, key) {
				return i, true
			}
		}
		return 0, false
	}
	if o.index == nil {
		o.index = make(map[string]int, len(o.members))
		for i := range o.members {
			o.index[o.members[i].name(data)] = i
		}
	}
	i, ok := o.index[key]
	return i, ok
}

func (pr *projector) object(off int) (*object, error) {
	for _, o := range pr.objects {
		if o.off == off {
			return o, nil
		}
	}
	ms, _, err := scanObject(pr.data, off)
	if err != nil {
		return nil, err
	}
	o := &object{off: off, members: ms}
	pr.objects = append(pr.objects, o)
	return o, nil
}

// resolve finds path in the object at off, and returns the member index
// at each level (appended to chain), or nil if the path names nothing. It
// tries the whole path as a key, then each shorter prefix that ends at a
// dot, descending into object values with the rest of the path.
//
// Each object is reached by one chain of keys, so the search visits an
// object at most once per path and its cost is bounded by the input size.
func (pr *projector) resolve(off int, path string, chain []int) ([]int, error) {
	o, err := pr.object(off)
	if err != nil {
		return nil, err
	}
	for end := len(path); end >= 0; end = strings.LastIndexByte(path[:end], '.') {
		i, ok := o.lookup(pr.data, path[:end])
		if !ok {
			continue
		}
		if end == len(path) {
			return append(chain, i), nil
		}
		m := o.members[i]
		if pr.data[m.valStart] != '{' {
			continue
		}
		found, err := pr.resolve(m.valStart, path[end+1:], append(chain, i))
		if err != nil || found != nil {
			return found, err
		}
	}
	return nil, nil
}

// keep is the set of resolved paths through one object: whole keeps the
// entire value, otherwise kids says which members to keep, and how.
type keep struct {
	whole bool
	kids  []kid // few, so a list beats a map
}

// kid is the part to keep of the member at index i of an object.
type kid struct {
	i    int
	keep *keep
}

func (k *keep) kid(i int) *keep {
	for _, c := range k.kids {
		if c.i == i {
			return c.keep
		}
	}
	return nil
}

func (k *keep) add(chain []int) {
	for _, i := range chain {
		if k.whole {
			return
		}
		next := k.kid(i)
		if next == nil {
			next = &keep{}
			k.kids = append(k.kids, kid{i, next})
		}
		k = next
	}
	if len(chain) > 0 {
		k.whole = true
	}
}

// emit appends the object at off, cut down to k, members in input order.
func (pr *projector) emit(out []byte, off int, k *keep) []byte {
	o, _ := pr.object(off) // scanned by resolve: no error
	slices.SortFunc(k.kids, func(a, b kid) int { return a.i - b.i })
	out = append(out, '{')
	for n, c := range k.kids {
		if n > 0 {
			out = append(out, ',')
		}
		m := o.members[c.i]
		out = append(out, pr.data[m.keyStart:m.keyEnd]...)
		out = append(out, ':')
		if c.keep.whole {
			out = append(out, pr.data[m.valStart:m.valEnd]...)
		} else {
			out = pr.emit(out, m.valStart, c.keep)
		}
	}
	return append(out, '}')
}

// badJSON describes malformed input. It is the cause of the error Project
// returns, for the logs; the client sees only the wrapping message.
func badJSON(msg string, off int) error {
	return fmt.Errorf("%s at offset %d", msg, off)
}

// skipSpace returns the offset of the first non-whitespace byte at or
// after i (JSON whitespace: space, tab, newline, carriage return).
func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// scanObject scans the object starting at data[i] == '{' and returns its
// members and the offset just past its '}'. It validates every value.
func scanObject(data []byte, i int) ([]member, int, error) {
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return nil, i + 1, nil
	}
	ms := make([]member, 0, 8)
	for {
		if i >= len(data) || data[i] != '"' {
			return nil, 0, badJSON("expected an object key", i)
		}
		ks := i
		ke, escaped, err := scanString(data, i)
		if err != nil {
			return nil, 0, err
		}
		var key string
		if escaped {
			if key, err = unescape(data[ks:ke]); err != nil {
				return nil, 0, err
			}
		}
		i = skipSpace(data, ke)
		if i >= len(data) || data[i] != ':' {
			return nil, 0, badJSON("expected ':'", i)
		}
		vs := skipSpace(data, i+1)
		ve, err := skipValue(data, vs)
		if err != nil {
			return nil, 0, err
		}
		ms = append(ms, member{keyStart: ks, keyEnd: ke, valStart: vs, valEnd: ve, escaped: escaped, unescaped: key})
		i = skipSpace(data, ve)
		if i >= len(data) {
			return nil, 0, badJSON("unexpected end of object", i)
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case '}':
			return ms, i + 1, nil
		default:
			return nil, 0, badJSON("expected ',' or '}'", i)
		}
	}
}

// unescape decodes the string token tok, which holds escapes. It is a
// function of its own so that the decoding target escapes to the heap only
// when there is something to decode.
func unescape(tok []byte) (string, error) {
	var s string
	if err := json.Unmarshal(tok, &s); err != nil {
		return "", badJSON("invalid string", 0)
	}
	return s, nil
}

// skipValue validates the value starting at data[i] (no leading space)
// and returns the offset just past it. Nesting is tracked on a slice, not
// the call stack, so any depth is safe.
func skipValue(data []byte, i int) (int, error) {
	var buf [32]byte
	stack := buf[:0] // '{' or '[' per open container
	for {
		// Parse one value, or open a container.
		if i >= len(data) {
			return 0, badJSON("unexpected end of input", i)
		}
		var err error
		switch c := data[i]; c {
		case '{':
			i = skipSpace(data, i+1)
			if i < len(data) && data[i] == '}' {
				i++
				break
			}
			stack = append(stack, '{')
			if i, err = skipKey(data, i); err != nil {
				return 0, err
			}
			continue
		case '[':
			i = skipSpace(data, i+1)
			if i < len(data) && data[i] == ']' {
				i++
				break
			}
			stack = append(stack, '[')
			continue
		case '"':
			if i, _, err = scanString(data, i); err != nil {
				return 0, err
			}
		case 't':
			i, err = skipLiteral(data, i, "true")
		case 'f':
			i, err = skipLiteral(data, i, "false")
		case 'n':
			i, err = skipLiteral(data, i, "null")
		default:
			i, err = skipNumber(data, i)
		}
		if err != nil {
			return 0, err
		}
		// A value is complete: close containers, or move to the next element.
		for {
			if len(stack) == 0 {
				return i, nil
			}
			i = skipSpace(data, i)
			if i >= len(data) {
				return 0, badJSON("unexpected end of input", i)
			}
			top := stack[len(stack)-1]
			if data[i] == ',' {
				i = skipSpace(data, i+1)
				if top == '{' {
					if i, err = skipKey(data, i); err != nil {
						return 0, err
					}
				}
				break
			}
			if (top == '{' && data[i] == '}') || (top == '[' && data[i] == ']') {
				stack = stack[:len(stack)-1]
				i++
				continue
			}
			return 0, badJSON("expected ',' or a closing bracket", i)
		}
	}
}

// skipKey skips `"key" :` and any space after it.
func skipKey(data []byte, i int) (int, error) {
	if i >= len(data) || data[i] != '"' {
		return 0, badJSON("expected an object key", i)
	}
	i, _, err := scanString(data, i)
	if err != nil {
		return 0, err
	}
	i = skipSpace(data, i)
	if i >= len(data) || data[i] != ':' {
		return 0, badJSON("expected ':'", i)
	}
	return skipSpace(data, i+1), nil
}

// scanString validates the string starting at data[i] == '"' and returns
// the offset past its closing quote and whether it holds escapes. Like
// encoding/json, it does not insist on valid UTF-8.
func scanString(data []byte, i int) (int, bool, error) {
	escaped := false
	for j := i + 1; j < len(data); j++ {
		switch c := data[j]; {
		case c == '"':
			return j + 1, escaped, nil
		case c == '\\':
			escaped = true
			j++
			if j >= len(data) {
				return 0, false, badJSON("unterminated string", i)
			}
			switch data[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if j+4 >= len(data) {
					return 0, false, badJSON("unterminated string", i)
				}
				for _, h := range data[j+1 : j+5] {
					if !isHex(h) {
						return 0, false, badJSON("invalid \\u escape", j)
					}
				}
				j += 4
			default:
				return 0, false, badJSON("invalid escape", j)
			}
		case c < 0x20:
			return 0, false, badJSON("control character in string", j)
		}
	}
	return 0, false, badJSON("unterminated string", i)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func skipLiteral(data []byte, i int, lit string) (int, error) {
	if !bytes.HasPrefix(data[i:], []byte(lit)) {
		return 0, badJSON("invalid literal", i)
	}
	return i + len(lit), nil
}

// skipNumber validates -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func skipNumber(data []byte, i int) (int, error) {
	start := i
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && '1' <= data[i] && data[i] <= '9':
		i = skipDigits(data, i)
	default:
		return 0, badJSON("invalid value", start)
	}
	if i < len(data) && data[i] == '.' {
		j := skipDigits(data, i+1)
		if j == i+1 {
			return 0, badJSON("invalid number", start)
		}
		i = j
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		j := skipDigits(data, i)
		if j == i {
			return 0, badJSON("invalid number", start)
		}
		i = j
	}
	return i, nil
}

func skipDigits(data []byte, i int) int {
	for i < len(data) && '0' <= data[i] && data[i] <= '9' {
		i++
	}
	return i
}

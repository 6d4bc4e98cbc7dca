package templating

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Delimiters. Backstage configures Nunjucks with "${{" "}}" for output so
// that plain "{{ }}" (GitHub Actions, Helm) passes through untouched; with
// cookiecutterCompat, output is Nunjucks' own "{{ }}" (cookiecutterVarOpen).
const (
	varOpen             = "${{"
	cookiecutterVarOpen = "{{"
	varClose            = "}}"
	blockOpen           = "{%"
	blockClose          = "%}"
	cmtOpen             = "{#"
	cmtClose            = "#}"
)

type tokKind int

const (
	tText tokKind = iota
	tVarStart
	tVarEnd
	tBlockStart
	tBlockEnd
	tName
	tString
	tNumber
	tOp
	tEOF
)

func (k tokKind) String() string {
	switch k {
	case tText:
		return "text"
	case tVarStart:
		return "'" + varOpen + "'"
	case tVarEnd:
		return "'" + varClose + "'"
	case tBlockStart:
		return "'" + blockOpen + "'"
	case tBlockEnd:
		return "'" + blockClose + "'"
	case tName:
		return "name"
	case tString:
		return "string"
	case tNumber:
		return "number"
	case tOp:
		return "operator"
	}
	return "end of template"
}

type token struct {
	kind tokKind
	val  string
	pos  int // byte offset in the source
}

// describe names a token for error messages.
func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of template"
	case tString:
		return fmt.Sprintf("string %q", t.val)
	case tText:
		return "text"
	case tVarStart, tVarEnd, tBlockStart, tBlockEnd:
		return t.kind.String()
	}
	return "'" + t.val + "'"
}

// position turns a byte offset into a 1-based line and column (in runes).
func position(src string, off int) (line, col int) {
	if off > len(src) {
		off = len(src)
	}
	before := src[:off]
	line = strings.Count(before, "\n") + 1
	lineStart := strings.LastIndexByte(before, '\n') + 1
	col = utf8.RuneCountInString(before[lineStart:]) + 1
	return line, col
}

type lexer struct {
	src      string
	varOpen  string // varOpen or cookiecutterVarOpen
	pos      int
	toks     []token
	trimNext bool // the previous tag ended with "-": strip leading whitespace of the next text
}

func lex(src, open string) ([]token, error) {
	l := &lexer{src: src, varOpen: open}
	if err := l.run(); err != nil {
		return nil, err
	}
	return l.toks, nil
}

func (l *lexer) errorf(off int, format string, args ...any) error {
	return newError(l.src, off, fmt.Sprintf(format, args...))
}

// emitText adds literal text, applying whitespace control on both sides.
func (l *lexer) emitText(start, end int, trimRight bool) {
	s := l.src[start:end]
	if l.trimNext {
		trimmed := strings.TrimLeft(s, " \t\r\n")
		start += len(s) - len(trimmed)
		s = trimmed
		l.trimNext = false
	}
	if trimRight {
		s = strings.TrimRight(s, " \t\r\n")
	}
	if s != "" {
		l.toks = append(l.toks, token{kind: tText, val: s, pos: start})
	}
}

// nextDelim finds the next opening delimiter at or after from.
func (l *lexer) nextDelim(from int) (at int, delim string) {
	for i := from; i < len(l.src); {
		j := strings.IndexAny(l.src[i:], "${")
		if j < 0 {
			break
		}
		i += j
		rest := l.src[i:]
		switch {
		case strings.HasPrefix(rest, l.varOpen):
			return i, l.varOpen
		case strings.HasPrefix(rest, blockOpen):
			return i, blockOpen
		case strings.HasPrefix(rest, cmtOpen):
			return i, cmtOpen
		}
		i++
	}
	return len(l.src), ""
}

func (l *lexer) run() error {
	for l.pos < len(l.src) {
		at, delim := l.nextDelim(l.pos)
		trimBefore := delim != "" && strings.HasPrefix(l.src[at+len(delim):], "-")
		l.emitText(l.pos, at, trimBefore)
		if delim == "" {
			l.pos = at
			break
		}
		l.pos = at + len(delim)
		if trimBefore {
			l.pos++
		}
		switch delim {
		case cmtOpen:
			end := strings.Index(l.src[l.pos:], cmtClose)
			if end < 0 {
				return l.errorf(at, "unterminated comment, expected '%s'", cmtClose)
			}
			end += l.pos
			l.trimNext = end > l.pos && l.src[end-1] == '-'
			l.pos = end + len(cmtClose)
		case blockOpen:
			if ok, err := l.raw(at); ok || err != nil {
				if err != nil {
					return err
				}
				continue
			}
			l.toks = append(l.toks, token{kind: tBlockStart, pos: at})
			if err := l.code(at, blockClose, tBlockEnd); err != nil {
				return err
			}
		case l.varOpen:
			l.toks = append(l.toks, token{kind: tVarStart, pos: at})
			if err := l.code(at, varClose, tVarEnd); err != nil {
				return err
			}
		}
	}
	l.toks = append(l.toks, token{kind: tEOF, pos: len(l.src)})
	return nil
}

// tagWord reports whether, from off, the source holds optional spaces, word
// and then a non-identifier byte; it returns the offset after word.
func (l *lexer) tagWord(off int, word string) (int, bool) {
	for off < len(l.src) && isSpace(l.src[off]) {
		off++
	}
	if !strings.HasPrefix(l.src[off:], word) {
		return 0, false
	}
	off += len(word)
	if off < len(l.src) && isIdent(l.src[off]) {
		return 0, false
	}
	return off, true
}

// tagClose expects optional spaces, an optional "-" and "%}" from off; it
// returns the offset after the delimiter and whether "-" was present.
func (l *lexer) tagClose(off int) (int, bool, bool) {
	for off < len(l.src) && isSpace(l.src[off]) {
		off++
	}
	trim := false
	if strings.HasPrefix(l.src[off:], "-") {
		trim = true
		off++
	}
	if !strings.HasPrefix(l.src[off:], blockClose) {
		return 0, false, false
	}
	return off + len(blockClose), trim, true
}

// raw handles {% raw %}...{% endraw %}: the body is literal text.
func (l *lexer) raw(tagStart int) (bool, error) {
	after, ok := l.tagWord(l.pos, "raw")
	if !ok {
		return false, nil
	}
	bodyStart, trimStart, ok := l.tagClose(after)
	if !ok {
		return true, l.errorf(after, "expected '%s' after 'raw'", blockClose)
	}
	for i := bodyStart; ; {
		j := strings.Index(l.src[i:], blockOpen)
		if j < 0 {
			return true, l.errorf(tagStart, "unclosed 'raw' (expected '{%% endraw %%}')")
		}
		j += i
		k := j + len(blockOpen)
		trimEnd := strings.HasPrefix(l.src[k:], "-")
		if trimEnd {
			k++
		}
		if w, ok := l.tagWord(k, "endraw"); ok {
			end, trimAfter, ok := l.tagClose(w)
			if !ok {
				return true, l.errorf(w, "expected '%s' after 'endraw'", blockClose)
			}
			body := l.src[bodyStart:j]
			if trimStart {
				body = strings.TrimLeft(body, " \t\r\n")
			}
			if trimEnd {
				body = strings.TrimRight(body, " \t\r\n")
			}
			if body != "" {
				l.toks = append(l.toks, token{kind: tText, val: body, pos: bodyStart})
			}
			l.pos = end
			l.trimNext = trimAfter
			return true, nil
		}
		i = j + len(blockOpen)
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// operators, longest first so that "**" wins over "*".
var operators = []string{
	"===", "!==", "==", "!=", "<=", ">=", "**", "//",
	"<", ">", "+", "-", "*", "/", "%", "~", "|", "(", ")", "[", "]", "{", "}", ",", ":", ".", "=",
}

// code lexes expression tokens until the closing delimiter.
func (l *lexer) code(open int, closeDelim string, closeKind tokKind) error {
	for {
		for l.pos < len(l.src) && isSpace(l.src[l.pos]) {
			l.pos++
		}
		if l.pos >= len(l.src) {
			return l.errorf(open, "unterminated tag, expected '%s'", closeDelim)
		}
		rest := l.src[l.pos:]
		if strings.HasPrefix(rest, "-"+closeDelim) {
			l.toks = append(l.toks, token{kind: closeKind, pos: l.pos})
			l.pos += 1 + len(closeDelim)
			l.trimNext = true
			return nil
		}
		if strings.HasPrefix(rest, closeDelim) {
			l.toks = append(l.toks, token{kind: closeKind, pos: l.pos})
			l.pos += len(closeDelim)
			return nil
		}
		c := rest[0]
		start := l.pos
		switch {
		case c == '"' || c == '\'':
			s, err := l.str(c)
			if err != nil {
				return err
			}
			l.toks = append(l.toks, token{kind: tString, val: s, pos: start})
		case isDigit(c):
			for l.pos < len(l.src) && isDigit(l.src[l.pos]) {
				l.pos++
			}
			if l.pos+1 < len(l.src) && l.src[l.pos] == '.' && isDigit(l.src[l.pos+1]) {
				l.pos++
				for l.pos < len(l.src) && isDigit(l.src[l.pos]) {
					l.pos++
				}
			}
			l.toks = append(l.toks, token{kind: tNumber, val: l.src[start:l.pos], pos: start})
		case isIdent(c):
			for l.pos < len(l.src) && isIdent(l.src[l.pos]) {
				l.pos++
			}
			l.toks = append(l.toks, token{kind: tName, val: l.src[start:l.pos], pos: start})
		default:
			op := ""
			for _, o := range operators {
				if strings.HasPrefix(rest, o) {
					op = o
					break
				}
			}
			if op == "" {
				r, _ := utf8.DecodeRuneInString(rest)
				return l.errorf(start, "unexpected character %q", r)
			}
			l.pos += len(op)
			l.toks = append(l.toks, token{kind: tOp, val: op, pos: start})
		}
	}
}

// str lexes a quoted string with Nunjucks' escapes (\n, \t, \r; any other
// escaped character stands for itself).
func (l *lexer) str(quote byte) (string, error) {
	start := l.pos
	l.pos++
	var b strings.Builder
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == quote:
			l.pos++
			return b.String(), nil
		case c == '\\' && l.pos+1 < len(l.src):
			l.pos++
			switch e := l.src[l.pos]; e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			default:
				b.WriteByte(e)
			}
			l.pos++
		default:
			b.WriteByte(c)
			l.pos++
		}
	}
	return "", l.errorf(start, "unterminated string")
}

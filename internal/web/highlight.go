package web

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Syntax highlighting for the source views (raw entities, AsyncAPI,
// GraphQL, gRPC and other API definitions). Each language has a small
// scanner that splits the text into classed tokens; the template escapes
// every token's text, so highlighting can never inject markup.

// token is a run of source text of one class ("" for plain text).
type token struct{ Class, Text string }

// codeLine is one line of highlighted source; N counts from 1.
type codeLine struct {
	N      int
	Tokens []token
}

// codeView is a block of highlighted source.
type codeView struct {
	// ID names the block, for its copy button and line anchors.
	ID    string
	Lang  string
	Lines []codeLine
}

// Token classes, as the stylesheet knows them.
const (
	tokKey   = "tok-key"
	tokStr   = "tok-str"
	tokNum   = "tok-num"
	tokKw    = "tok-kw"
	tokType  = "tok-type"
	tokCom   = "tok-com"
	tokPunct = "tok-punct"
)

// maxHighlightBytes bounds the source a page highlights; longer text is
// shown plain, so a huge definition cannot make a page slow.
const maxHighlightBytes = 512 << 10

// highlight returns the source view of text in lang ("yaml", "json",
// "graphql", "proto", or anything else for plain text).
func highlight(id, lang, text string) codeView {
	text = strings.TrimRight(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	var toks []token
	if len(text) > maxHighlightBytes {
		toks = []token{{"", text}}
	} else {
		switch lang {
		case "yaml":
			toks = scanYAML(text)
		case "json":
			toks = scanJSON(text)
		case "graphql":
			toks = scanC(text, graphqlLang)
		case "proto":
			toks = scanC(text, protoLang)
		default:
			toks = []token{{"", text}}
		}
	}
	return codeView{ID: id, Lang: lang, Lines: splitLines(toks)}
}

// splitLines cuts tokens at newlines into lines, merging neighbours of one class.
func splitLines(toks []token) []codeLine {
	lines := []codeLine{{N: 1}}
	add := func(t token) {
		if t.Text == "" {
			return
		}
		cur := &lines[len(lines)-1]
		if n := len(cur.Tokens); n > 0 && cur.Tokens[n-1].Class == t.Class {
			cur.Tokens[n-1].Text += t.Text
			return
		}
		cur.Tokens = append(cur.Tokens, t)
	}
	for _, t := range toks {
		parts := strings.Split(t.Text, "\n")
		for i, p := range parts {
			if i > 0 {
				lines = append(lines, codeLine{N: len(lines) + 1})
			}
			add(token{t.Class, p})
		}
	}
	return lines
}

// --- YAML ------------------------------------------------------------------

var (
	yamlKey   = regexp.MustCompile(`^(\s*(?:-\s+)*)("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"\-\[\]{}][^#]*?|-[^\s#][^#]*?)(\s*:)(\s+|$)`)
	yamlDash  = regexp.MustCompile(`^(\s*)((?:-(?:\s+|$))+)`)
	yamlNum   = regexp.MustCompile(`^[-+]?(?:0x[0-9a-fA-F]+|0o[0-7]+|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|\.inf|\.nan)$`)
	yamlWords = map[string]bool{"true": true, "false": true, "null": true, "~": true, "yes": true, "no": true,
		"True": true, "False": true, "Null": true, "TRUE": true, "FALSE": true, "NULL": true}
)

// scanYAML highlights YAML line by line: keys, scalars by type, comments,
// and block scalars (| and >) as strings.
func scanYAML(text string) []token {
	var out []token
	block := -1 // indentation of the key that opened a block scalar, or -1
	for i, line := range strings.Split(text, "\n") {
		if i > 0 {
			out = append(out, token{"", "\n"})
		}
		indent := len(line) - len(strings.TrimLeft(line, " "))
		if block >= 0 {
			if strings.TrimSpace(line) == "" || indent > block {
				out = append(out, token{tokStr, line})
				continue
			}
			block = -1
		}
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "":
			out = append(out, token{"", line})
			continue
		case strings.HasPrefix(trimmed, "#"):
			out = append(out, token{tokCom, line})
			continue
		case trimmed == "---" || trimmed == "...":
			out = append(out, token{tokPunct, line})
			continue
		}
		rest := line
		if m := yamlKey.FindStringSubmatch(line); m != nil {
			out = append(out, yamlDashes(m[1])...)
			out = append(out, token{tokKey, m[2]}, token{tokPunct, m[3]}, token{"", m[4]})
			rest = line[len(m[0]):]
			block = len(m[1])
		} else if m := yamlDash.FindStringSubmatch(line); m != nil {
			out = append(out, token{"", m[1]}, token{tokPunct, m[2]})
			rest = line[len(m[0]):]
			block = len(m[1])
		} else {
			block = indent
		}
		vtoks, opensBlock := yamlValue(rest)
		out = append(out, vtoks...)
		if !opensBlock {
			block = -1
		}
	}
	return out
}

func yamlDashes(s string) []token {
	if s == "" {
		return nil
	}
	lead := len(s) - len(strings.TrimLeft(s, " "))
	return []token{{"", s[:lead]}, {tokPunct, s[lead:]}}
}

// yamlValue highlights the value part of a line, and reports whether it
// opens a block scalar.
func yamlValue(v string) ([]token, bool) {
	if v == "" {
		return nil, false
	}
	body, comment := v, ""
	if i := yamlCommentStart(v); i >= 0 {
		body, comment = v[:i], v[i:]
	}
	var out []token
	core := strings.TrimRight(body, " \t")
	trail := body[len(core):]
	opens := false
	switch {
	case core == "":
	case core[0] == '|' || core[0] == '>':
		out = append(out, token{tokPunct, core})
		opens = true
	case core[0] == '"' || core[0] == '\'':
		out = append(out, token{tokStr, core})
	case core[0] == '[' || core[0] == '{':
		out = append(out, yamlFlow(core)...)
	case core[0] == '&' || core[0] == '*' || core[0] == '!':
		out = append(out, token{tokType, core})
	default:
		out = append(out, yamlScalar(core))
	}
	out = append(out, token{"", trail})
	if comment != "" {
		out = append(out, token{tokCom, comment})
	}
	return out, opens
}

func yamlScalar(s string) token {
	switch {
	case yamlWords[s]:
		return token{tokKw, s}
	case yamlNum.MatchString(s):
		return token{tokNum, s}
	}
	return token{tokStr, s}
}

// yamlFlow highlights a flow collection ([a, b] or {k: v}) on one line.
func yamlFlow(s string) []token {
	var out []token
	for len(s) > 0 {
		switch c := s[0]; {
		case strings.IndexByte("[]{},:", c) >= 0:
			out = append(out, token{tokPunct, s[:1]})
			s = s[1:]
		case c == ' ':
			out = append(out, token{"", s[:1]})
			s = s[1:]
		case c == '"' || c == '\'':
			end := quotedEnd(s, c)
			out = append(out, token{tokStr, s[:end]})
			s = s[end:]
		default:
			end := strings.IndexAny(s, "[]{},:")
			if end < 0 {
				end = len(s)
			}
			word := s[:end]
			core := strings.TrimRight(word, " ")
			if end < len(s) && s[end] == ':' {
				out = append(out, token{tokKey, core})
			} else {
				out = append(out, yamlScalar(core))
			}
			out = append(out, token{"", word[len(core):]})
			s = s[end:]
		}
	}
	return out
}

// yamlCommentStart finds a " #" comment outside quotes, or -1.
func yamlCommentStart(s string) int {
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' && quote == '"' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			if i == 0 || s[i-1] == ' ' || s[i-1] == '[' || s[i-1] == '{' || s[i-1] == ',' {
				quote = c
			}
		case c == '#' && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t'):
			return i
		}
	}
	return -1
}

// quotedEnd returns the index just past the string starting at s[0] (a
// quote), or len(s) if it is not closed.
func quotedEnd(s string, q byte) int {
	for i := 1; i < len(s); i++ {
		if s[i] == '\\' && q == '"' {
			i++
			continue
		}
		if s[i] == q {
			return i + 1
		}
	}
	return len(s)
}

// --- JSON ------------------------------------------------------------------

// scanJSON highlights JSON: keys (strings followed by a colon), strings,
// numbers, literals and punctuation.
func scanJSON(s string) []token {
	var out []token
	for len(s) > 0 {
		c := s[0]
		switch {
		case c == '"':
			end := quotedEnd(s, '"')
			class := tokStr
			if rest := strings.TrimLeft(s[end:], " \t\r\n"); strings.HasPrefix(rest, ":") {
				class = tokKey
			}
			out = append(out, token{class, s[:end]})
			s = s[end:]
		case strings.IndexByte("{}[],:", c) >= 0:
			out = append(out, token{tokPunct, s[:1]})
			s = s[1:]
		case c == '-' || (c >= '0' && c <= '9'):
			end := 1
			for end < len(s) && strings.IndexByte("0123456789.eE+-", s[end]) >= 0 {
				end++
			}
			out = append(out, token{tokNum, s[:end]})
			s = s[end:]
		case c >= 'a' && c <= 'z':
			end := 1
			for end < len(s) && s[end] >= 'a' && s[end] <= 'z' {
				end++
			}
			out = append(out, token{tokKw, s[:end]})
			s = s[end:]
		default:
			_, size := utf8.DecodeRuneInString(s)
			out = append(out, token{"", s[:size]})
			s = s[size:]
		}
	}
	return out
}

// --- C-like languages: GraphQL SDL and Protocol Buffers ------------------

// cLang describes a language for scanC.
type cLang struct {
	lineComment  string
	blockComment bool // /* ... */
	tripleQuote  bool // """ block strings """
	singleQuote  bool // 'strings'
	keywords     map[string]bool
	types        map[string]bool
	// capitalTypes highlights capitalised names as types (GraphQL).
	capitalTypes bool
	// directives highlights @name (GraphQL).
	directives bool
}

func set(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

var graphqlLang = cLang{
	lineComment: "#", tripleQuote: true, capitalTypes: true, directives: true,
	keywords: set("type input enum interface union scalar schema extend directive implements repeatable fragment on query mutation subscription true false null"),
	types:    set("ID String Int Float Boolean"),
}

var protoLang = cLang{
	lineComment: "//", blockComment: true, singleQuote: true,
	keywords: set("syntax edition package import public weak option service rpc returns stream message enum oneof repeated optional required map reserved extend extensions to max true false"),
	types:    set("double float int32 int64 uint32 uint64 sint32 sint64 fixed32 fixed64 sfixed32 sfixed64 bool string bytes"),
}

// scanC highlights a C-like language described by l.
func scanC(s string, l cLang) []token {
	var out []token
	for len(s) > 0 {
		c := s[0]
		switch {
		case strings.HasPrefix(s, l.lineComment):
			end := strings.IndexByte(s, '\n')
			if end < 0 {
				end = len(s)
			}
			out = append(out, token{tokCom, s[:end]})
			s = s[end:]
		case l.blockComment && strings.HasPrefix(s, "/*"):
			end := strings.Index(s[2:], "*/")
			if end < 0 {
				end = len(s)
			} else {
				end += 4
			}
			out = append(out, token{tokCom, s[:end]})
			s = s[end:]
		case l.tripleQuote && strings.HasPrefix(s, `"""`):
			end := strings.Index(s[3:], `"""`)
			if end < 0 {
				end = len(s)
			} else {
				end += 6
			}
			out = append(out, token{tokStr, s[:end]})
			s = s[end:]
		case c == '"' || (l.singleQuote && c == '\''):
			end := quotedEnd(s, c)
			if nl := strings.IndexByte(s[:end], '\n'); nl >= 0 {
				end = nl // an unclosed string stops at the line's end
			}
			out = append(out, token{tokStr, s[:end]})
			s = s[end:]
		case c >= '0' && c <= '9':
			end := 1
			for end < len(s) && (isIdent(rune(s[end])) || s[end] == '.') {
				end++
			}
			out = append(out, token{tokNum, s[:end]})
			s = s[end:]
		case l.directives && c == '@':
			end := 1
			for end < len(s) && isIdent(rune(s[end])) {
				end++
			}
			out = append(out, token{tokKw, s[:end]})
			s = s[end:]
		case isIdentStart(rune(c)):
			end := 1
			for end < len(s) && (isIdent(rune(s[end])) || s[end] == '.') {
				end++
			}
			word := s[:end]
			class := ""
			switch {
			case l.keywords[word]:
				class = tokKw
			case l.types[word], l.capitalTypes && unicode.IsUpper(rune(word[0])):
				class = tokType
			}
			out = append(out, token{class, word})
			s = s[end:]
		case strings.IndexByte("{}()[]<>:;=,!|&", c) >= 0:
			out = append(out, token{tokPunct, s[:1]})
			s = s[1:]
		default:
			_, size := utf8.DecodeRuneInString(s)
			out = append(out, token{"", s[:size]})
			s = s[size:]
		}
	}
	return out
}

func isIdentStart(r rune) bool { return r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') }
func isIdent(r rune) bool      { return isIdentStart(r) || (r >= '0' && r <= '9') }

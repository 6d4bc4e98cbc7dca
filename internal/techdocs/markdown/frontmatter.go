package markdown

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// frontMatter is a page split into its YAML front matter and Markdown body.
type frontMatter struct {
	meta     map[string]any
	body     []byte
	bodyLine int // line number of body's first line in the page
	warnings []string
}

// splitFrontMatter takes a leading "---" line, YAML, and a closing "---" or
// "..." line off src, as MkDocs' meta extension does. Without a closing line
// there is no front matter: the "---" is a thematic break. Bad YAML is
// reported and dropped; the body still renders.
func splitFrontMatter(src []byte) frontMatter {
	src = bytes.TrimPrefix(src, []byte("\uFEFF"))
	fm := frontMatter{body: src, bodyLine: 1}
	first, rest, ok := cutLine(src)
	if !ok || string(bytes.TrimRight(first, " \t\r")) != "---" {
		return fm
	}
	yamlStart := len(src) - len(rest)
	line := 2
	for pos := yamlStart; pos < len(src); line++ {
		l, after, _ := cutLine(src[pos:])
		if t := string(bytes.TrimRight(l, " \t\r")); t == "---" || t == "..." {
			fm.body = src[len(src)-len(after):]
			fm.bodyLine = line + 1
			fm.parse(src[yamlStart:pos])
			return fm
		}
		pos = len(src) - len(after)
	}
	return fm
}

// cutLine splits b after its first line, without the newline; ok is false
// when b is empty.
func cutLine(b []byte) (line, rest []byte, ok bool) {
	if len(b) == 0 {
		return nil, nil, false
	}
	line, rest, _ = bytes.Cut(b, []byte{'\n'})
	return line, rest, true
}

// yamlLine finds line numbers in yaml error messages.
var yamlLine = regexp.MustCompile(`line (\d+)`)

func (fm *frontMatter) parse(y []byte) {
	if len(bytes.TrimSpace(y)) == 0 {
		return
	}
	var meta map[string]any
	if err := yaml.Unmarshal(y, &meta); err != nil {
		// yaml counts from the block's first line, which is the page's second.
		msg := yamlLine.ReplaceAllStringFunc(err.Error(), func(m string) string {
			n, _ := strconv.Atoi(m[len("line "):])
			return "line " + strconv.Itoa(n+1)
		})
		fm.warnings = append(fm.warnings, fmt.Sprintf("front matter ignored: %s", msg))
		return
	}
	fm.meta = meta
}

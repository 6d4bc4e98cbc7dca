package web

import (
	"fmt"
	"regexp"
	"strings"
)

// Outlines of API definitions shown as source: the servers, channels,
// operations and messages of an AsyncAPI document, the types of a GraphQL
// schema (with the fields of its root types), the services, methods,
// messages and enums of a protobuf file. Each entry links to its line.

// outlineItem is one entry of an outline.
type outlineItem struct {
	Kind, Label string
	// Line is the line the entry starts on (from 1).
	Line     int
	Children []outlineItem
}

// outlineFor returns the outline of a definition of an API type, or nil.
func outlineFor(apiType, text string) []outlineItem {
	switch apiType {
	case "asyncapi":
		return asyncAPIOutline(text)
	case "graphql":
		return graphqlOutline(text)
	case "grpc":
		return protoOutline(text)
	}
	return nil
}

// asyncAPIOutline lists an AsyncAPI 2.x or 3.x document's parts.
func asyncAPIOutline(text string) []outlineItem {
	root, err := parseYAMLDoc(text)
	if err != nil {
		return nil
	}
	var out []outlineItem
	for _, p := range pairs(root) {
		switch p.Key {
		case "info":
			label := str(get(p.Val, "title"))
			if v := str(get(p.Val, "version")); v != "" {
				label += " " + v
			}
			out = append(out, outlineItem{Kind: "info", Label: label, Line: p.Line})
		case "servers":
			sec := outlineItem{Kind: "section", Label: "Servers", Line: p.Line}
			for _, s := range pairs(p.Val) {
				label := s.Key
				if proto := str(get(s.Val, "protocol")); proto != "" {
					label += " (" + proto + ")"
				}
				sec.Children = append(sec.Children, outlineItem{Kind: "server", Label: label, Line: s.Line})
			}
			out = append(out, sec)
		case "channels":
			sec := outlineItem{Kind: "section", Label: "Channels", Line: p.Line}
			for _, c := range pairs(p.Val) {
				label := c.Key
				if addr := str(get(c.Val, "address")); addr != "" && addr != c.Key {
					label += " → " + addr
				}
				ch := outlineItem{Kind: "channel", Label: label, Line: c.Line}
				for _, op := range pairs(c.Val) {
					if op.Key == "publish" || op.Key == "subscribe" { // AsyncAPI 2.x
						ch.Children = append(ch.Children, outlineItem{Kind: op.Key, Label: firstNonEmpty(str(get(op.Val, "operationId")), op.Key), Line: op.Line})
					}
				}
				sec.Children = append(sec.Children, ch)
			}
			out = append(out, sec)
		case "operations": // AsyncAPI 3.x
			sec := outlineItem{Kind: "section", Label: "Operations", Line: p.Line}
			for _, op := range pairs(p.Val) {
				label := op.Key
				if a := str(get(op.Val, "action")); a != "" {
					label = a + " " + label
				}
				sec.Children = append(sec.Children, outlineItem{Kind: "operation", Label: label, Line: op.Line})
			}
			out = append(out, sec)
		case "components":
			for _, part := range []struct{ key, label, kind string }{
				{"messages", "Messages", "message"}, {"schemas", "Schemas", "schema"},
			} {
				var sec outlineItem
				for _, k := range pairs(p.Val) {
					if k.Key != part.key {
						continue
					}
					sec = outlineItem{Kind: "section", Label: part.label, Line: k.Line}
					for _, m := range pairs(k.Val) {
						sec.Children = append(sec.Children, outlineItem{Kind: part.kind, Label: m.Key, Line: m.Line})
					}
				}
				if sec.Label != "" {
					out = append(out, sec)
				}
			}
		}
	}
	return out
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

var (
	graphqlDef   = regexp.MustCompile(`^\s*(?:extend\s+)?(type|input|enum|interface|union|scalar|schema|directive)\b\s*(@?[_A-Za-z][_0-9A-Za-z]*)?`)
	graphqlField = regexp.MustCompile(`^\s*([_A-Za-z][_0-9A-Za-z]*)\s*[:(]`)
	protoDef     = regexp.MustCompile(`^\s*(package|service|message|enum)\s+([_A-Za-z][_0-9A-Za-z.]*)`)
	protoRPC     = regexp.MustCompile(`^\s*rpc\s+([_A-Za-z][_0-9A-Za-z]*)\s*\(\s*(stream\s+)?([_A-Za-z][_0-9A-Za-z.]*)\s*\)\s*returns\s*\(\s*(stream\s+)?([_A-Za-z][_0-9A-Za-z.]*)`)
)

// graphqlOutline lists a GraphQL schema's definitions, with the fields of
// Query, Mutation and Subscription.
func graphqlOutline(text string) []outlineItem {
	var out []outlineItem
	depth := 0
	inBlock := false
	for i, line := range strings.Split(text, "\n") {
		code := line
		if strings.Count(code, `"""`)%2 == 1 {
			inBlock = !inBlock
			continue
		}
		if inBlock {
			continue
		}
		if j := strings.IndexByte(code, '#'); j >= 0 {
			code = code[:j]
		}
		if depth == 0 {
			if m := graphqlDef.FindStringSubmatch(code); m != nil {
				label := m[2]
				if label == "" {
					label = m[1]
				}
				out = append(out, outlineItem{Kind: m[1], Label: label, Line: i + 1})
			}
		} else if depth == 1 && len(out) > 0 {
			last := &out[len(out)-1]
			switch last.Label {
			case "Query", "Mutation", "Subscription":
				if m := graphqlField.FindStringSubmatch(code); m != nil {
					last.Children = append(last.Children, outlineItem{Kind: "field", Label: m[1], Line: i + 1})
				}
			}
		}
		depth += strings.Count(code, "{") - strings.Count(code, "}")
		depth = max(depth, 0)
	}
	return out
}

// protoOutline lists a protobuf file's package, services with their
// methods, and top-level messages and enums.
func protoOutline(text string) []outlineItem {
	var out []outlineItem
	depth := 0
	inComment := false
	for i, line := range strings.Split(text, "\n") {
		code := line
		if inComment {
			end := strings.Index(code, "*/")
			if end < 0 {
				continue
			}
			code, inComment = code[end+2:], false
		}
		if j := strings.Index(code, "//"); j >= 0 {
			code = code[:j]
		}
		if j := strings.Index(code, "/*"); j >= 0 {
			if !strings.Contains(code[j:], "*/") {
				inComment = true
			}
			code = code[:j]
		}
		if depth == 0 {
			if m := protoDef.FindStringSubmatch(code); m != nil {
				out = append(out, outlineItem{Kind: m[1], Label: m[2], Line: i + 1})
			}
		} else if depth == 1 && len(out) > 0 && out[len(out)-1].Kind == "service" {
			if m := protoRPC.FindStringSubmatch(code); m != nil {
				label := fmt.Sprintf("%s(%s%s) → %s%s", m[1], streamMark(m[2]), m[3], streamMark(m[4]), m[5])
				last := &out[len(out)-1]
				last.Children = append(last.Children, outlineItem{Kind: "rpc", Label: label, Line: i + 1})
			}
		}
		depth += strings.Count(code, "{") - strings.Count(code, "}")
		depth = max(depth, 0)
	}
	return out
}

func streamMark(s string) string {
	if strings.TrimSpace(s) != "" {
		return "stream "
	}
	return ""
}

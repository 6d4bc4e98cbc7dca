package web

import (
	"html/template"
	"slices"
	"strconv"
	"strings"
)

// funcs are the template functions. They format; they never fetch.
func (r *renderer) funcs() template.FuncMap {
	return template.FuncMap{
		"icon":        icon,
		"num":         formatCount,
		"lower":       strings.ToLower,
		"plural":      plural,
		"add":         func(a, b int) int { return a + b },
		"tagAnchor":   tagAnchor,
		"apiTypeName": apiTypeName,
		"breakParts":  breakParts,
		"has":         slices.Contains[[]string],
		"min":         func(a, b int) int { return min(a, b) },
		"bytes":       formatBytes,
	}
}

// formatBytes writes a size (an int or int64) in bytes, KB, MB or GB,
// with one decimal above bytes: "812 bytes", "12.3 KB".
func formatBytes(n any) string {
	var v int64
	switch n := n.(type) {
	case int:
		v = int64(n)
	case int64:
		v = n
	}
	if v < 1024 {
		return strconv.FormatInt(v, 10) + " " + plural(int(v), "byte", "bytes")
	}
	f, unit := float64(v)/1024, "KB"
	for _, u := range []string{"MB", "GB", "TB"} {
		if f < 1024 {
			break
		}
		f, unit = f/1024, u
	}
	return strconv.FormatFloat(f, 'f', 1, 64) + " " + unit
}

// breakParts cuts s after each '.', ':' and '/', for the "wrappable"
// partial to join with <wbr>: long refs and action names then wrap at
// their separators rather than mid-word. The parts stay text, escaped
// like any other.
func breakParts(s string) []string {
	var parts []string
	for {
		i := strings.IndexAny(s, ".:/")
		if i < 0 || i == len(s)-1 {
			return append(parts, s)
		}
		parts = append(parts, s[:i+1])
		s = s[i+1:]
	}
}

// apiTypeNames spell the well-known API types.
var apiTypeNames = map[string]string{"openapi": "OpenAPI", "asyncapi": "AsyncAPI", "graphql": "GraphQL", "grpc": "gRPC", "trpc": "tRPC"}

// apiTypeName spells an API type for headings.
func apiTypeName(t string) string {
	if n, ok := apiTypeNames[strings.ToLower(t)]; ok {
		return n
	}
	return t
}

// formatCount writes n with thousands separators: 177,178.
func formatCount(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + formatCount(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// plural picks the word for a count.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// icons are the UI's icons: 24×24 outlines drawn in the text colour. They
// are ours, drawn for this UI, and inlined so that no image request or
// inline style is needed.
var icons = map[string]string{
	"home":     `<path d="M3 11.5 12 4l9 7.5"/><path d="M5.5 10v9.5h13V10"/><path d="M10 19.5v-5h4v5"/>`,
	"catalog":  `<rect x="4" y="4" width="7" height="7" rx="1.5"/><rect x="13" y="4" width="7" height="7" rx="1.5"/><rect x="4" y="13" width="7" height="7" rx="1.5"/><rect x="13" y="13" width="7" height="7" rx="1.5"/>`,
	"api":      `<path d="M8 5c-2 0-2.5 1-2.5 3v2c0 1-.5 2-2 2 1.5 0 2 1 2 2v2c0 2 .5 3 2.5 3"/><path d="M16 5c2 0 2.5 1 2.5 3v2c0 1 .5 2 2 2-1.5 0-2 1-2 2v2c0 2-.5 3-2.5 3"/>`,
	"docs":     `<path d="M5 4.5h9.5L19 9v10.5H5z"/><path d="M14 4.5V9h5"/><path d="M8 13h8M8 16.5h6"/>`,
	"create":   `<circle cx="12" cy="12" r="8.5"/><path d="M12 8v8M8 12h8"/>`,
	"search":   `<circle cx="10.5" cy="10.5" r="6"/><path d="m15 15 5 5"/>`,
	"settings": `<circle cx="12" cy="12" r="3"/><path d="M12 3.5v2.5M12 18v2.5M3.5 12H6M18 12h2.5M6 6l1.8 1.8M16.2 16.2 18 18M6 18l1.8-1.8M16.2 7.8 18 6"/>`,
	"register": `<path d="M12 15V4.5"/><path d="m7.5 9 4.5-4.5L16.5 9"/><path d="M4.5 14.5v5h15v-5"/>`,
	"logo":     `<path d="M4 20 12 4l8 16"/><path d="M7.5 13.5h9"/>`,
	"external": `<path d="M14 4.5h5.5V10"/><path d="M19.5 4.5 11 13"/><path d="M18 14v5.5H4.5V6H10"/>`,
	"edit":     `<path d="M4.5 19.5 5 16 15.5 5.5l3 3L8 19z"/><path d="m13.5 7.5 3 3"/>`,
	"refresh":  `<path d="M19.5 12a7.5 7.5 0 1 1-2.2-5.3"/><path d="M19.5 4.5v4h-4"/>`,
	"copy":     `<rect x="8.5" y="8.5" width="11" height="11" rx="1.5"/><path d="M15.5 8.5v-3a1 1 0 0 0-1-1h-9a1 1 0 0 0-1 1v9a1 1 0 0 0 1 1h3"/>`,
	"warning":  `<path d="M12 4 3 19.5h18z"/><path d="M12 10v4.5M12 17v.5"/>`,
	"link":     `<path d="M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1"/><path d="M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1"/>`,
	"trash":    `<path d="M4.5 7h15"/><path d="M9.5 7V4.5h5V7"/><path d="M6.5 7l1 12.5h9l1-12.5"/>`,
	"source":   `<path d="m8.5 7.5-5 4.5 5 4.5"/><path d="m15.5 7.5 5 4.5-5 4.5"/>`,
	"audit":    `<path d="M9 5H6.5a1 1 0 0 0-1 1v13.5a1 1 0 0 0 1 1h11a1 1 0 0 0 1-1V6a1 1 0 0 0-1-1H15"/><rect x="9" y="3.5" width="6" height="3" rx="1"/><path d="m9 13.5 2.2 2.2L15.5 11"/>`,
	"user":     `<circle cx="12" cy="8.5" r="3.8"/><path d="M4.5 20c.8-3.8 3.8-6 7.5-6s6.7 2.2 7.5 6"/>`,
	"signout":  `<path d="M10 4.5H5.5v15H10"/><path d="M9.5 12h10"/><path d="m16 8 4 4-4 4"/>`,
	"signin":   `<path d="M14 4.5h4.5v15H14"/><path d="M4.5 12h10"/><path d="m11 8 4 4-4 4"/>`,
	"shield":   `<path d="M12 3.5 5 6v5.5c0 4.3 3 7.6 7 9 4-1.4 7-4.7 7-9V6z"/><path d="m9 12 2.2 2.2L15.5 10"/>`,
	"history":  `<path d="M4.5 12a7.5 7.5 0 1 0 2.2-5.3"/><path d="M4.5 4.5v3.8h3.8"/><path d="M12 8v4.3l3 1.8"/>`,
	"folder":   `<path d="M3.5 6.5a1 1 0 0 1 1-1h4.8l2 2h8.2a1 1 0 0 1 1 1v9a1 1 0 0 1-1 1h-15a1 1 0 0 1-1-1z"/>`,
	"file":     `<path d="M6.5 3.5h7l4 4v13h-11z"/><path d="M13.5 3.5v4h4"/>`,
}

// icon returns the inline SVG of a named icon, hidden from screen readers
// (the link or button it decorates carries the text).
func icon(name string) template.HTML {
	paths, ok := icons[name]
	if !ok {
		paths = icons["catalog"]
	}
	// The paths are constants above, never data.
	return template.HTML(`<svg class="icon" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false" fill="none" stroke="currentColor" stroke-width="1.7" stroke-linecap="round" stroke-linejoin="round">` + paths + `</svg>`)
}

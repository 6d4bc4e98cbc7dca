package templating

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// builtinFilter gets the renderer so it can charge work and bound sizes.
type builtinFilter func(r *renderer, off int, in any, args []any) (any, error)

// builtinFilters are Nunjucks' built-in filters that templates use in
// practice, and Backstage's scaffolder filters.
var builtinFilters map[string]builtinFilter

func init() {
	builtinFilters = map[string]builtinFilter{
		// Backstage
		"parseRepoUrl":   filterParseRepoURL,
		"parseEntityRef": filterParseEntityRef,
		"pick":           filterPick,
		"projectSlug":    filterProjectSlug,
		// Nunjucks
		"abs":        filterAbs,
		"capitalize": stringFilter(capitalize),
		"d":          filterDefault,
		"default":    filterDefault,
		"dump":       filterDump,
		"first":      filterFirst,
		"float":      filterFloat,
		"indent":     filterIndent,
		"int":        filterInt,
		"join":       filterJoin,
		"last":       filterLast,
		"length":     filterLength,
		"list":       filterList,
		"lower":      stringFilter(strings.ToLower),
		"replace":    filterReplace,
		"reverse":    filterReverse,
		"round":      filterRound,
		"safe":       filterSafe,
		"sort":       filterSort,
		"string":     filterString,
		"title":      stringFilter(title),
		"trim":       stringFilter(func(s string) string { return strings.TrimFunc(s, unicode.IsSpace) }),
		"truncate":   filterTruncate,
		"upper":      stringFilter(strings.ToUpper),
		"urlencode":  filterURLEncode,
	}
}

func (r *renderer) filter(x *filterExpr) (any, error) {
	in, err := r.eval(x.in)
	if err != nil {
		return nil, err
	}
	args, err := r.evalArgs(x.args)
	if err != nil {
		return nil, err
	}
	if err := r.charge(x.pos, in); err != nil {
		return nil, err
	}
	var out any
	if f, ok := r.custom[x.name]; ok {
		var cin any
		if cin, err = r.jsonValue(x.pos, in); err != nil {
			return nil, err
		}
		cargs := make([]any, len(args))
		for i, a := range args {
			if cargs[i], err = r.jsonValue(x.pos, a); err != nil {
				return nil, err
			}
		}
		out, err = f(cin, cargs...)
		if err == nil {
			out, err = r.jsonValue(x.pos, out)
		}
	} else if fn, ok := builtinFilters[x.name]; ok {
		out, err = fn(r, x.pos, normalize(in), args)
	} else {
		// jsonify, with cookiecutterCompat: cookiecutter's name for dump.
		out, err = filterDump(r, x.pos, normalize(in), nil)
	}
	if err != nil {
		var te *Error
		if errors.As(err, &te) {
			return nil, err
		}
		e := newError(r.src, x.pos, fmt.Sprintf("filter '%s': %v", x.name, err))
		e.Err = err
		return nil, e
	}
	if s, ok := out.(string); ok {
		if err := r.checkLen(x.pos, len(s)); err != nil {
			return nil, err
		}
	}
	return out, r.charge(x.pos, out)
}

func arg(args []any, i int) any {
	if i < len(args) {
		return normalize(args[i])
	}
	return undefined
}

// stringFilter applies f to strings; as in Nunjucks, null and undefined
// become the empty string first.
func stringFilter(f func(string) string) builtinFilter {
	return func(_ *renderer, _ int, in any, _ []any) (any, error) {
		return f(outputString(in)), nil
	}
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	s = strings.ToLower(s)
	c, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(c)) + s[n:]
}

func title(s string) string {
	words := strings.Split(s, " ")
	for i, w := range words {
		words[i] = capitalize(w)
	}
	return strings.Join(words, " ")
}

func filterAbs(_ *renderer, _ int, in any, _ []any) (any, error) {
	return math.Abs(toNumber(in)), nil
}

// filterDefault: without the boolean argument only undefined is replaced
// (null is kept); with it, every falsy value.
func filterDefault(_ *renderer, _ int, in any, args []any) (any, error) {
	def := arg(args, 0)
	if truthy(arg(args, 1)) {
		if truthy(in) {
			return in, nil
		}
		return def, nil
	}
	if in == undefined {
		return def, nil
	}
	return in, nil
}

// filterDump is JSON.stringify(value, null, indent); keys come out sorted.
func filterDump(r *renderer, off int, in any, args []any) (any, error) {
	indent := ""
	switch x := arg(args, 0).(type) {
	case float64:
		indent = strings.Repeat(" ", int(math.Max(0, math.Min(10, x))))
	case string:
		indent = x
		if len(indent) > 10 {
			indent = indent[:10]
		}
	}
	if in == undefined {
		return undefined, nil
	}
	var b strings.Builder
	if err := r.writeJSON(off, &b, in, indent, 0); err != nil {
		return nil, err
	}
	return b.String(), nil
}

func (r *renderer) writeJSON(off int, b *strings.Builder, v any, indent string, depth int) error {
	if depth > maxValueDepth {
		return r.limitf(off, "value nested more than %d levels deep", maxValueDepth)
	}
	if err := r.checkLen(off, b.Len()); err != nil {
		return err
	}
	if err := r.step(off, 1); err != nil {
		return err
	}
	newline := func(d int) {
		if indent != "" {
			b.WriteByte('\n')
			for range d {
				b.WriteString(indent)
			}
		}
	}
	switch x := normalize(v).(type) {
	case nil, undefinedType:
		b.WriteString("null")
	case bool, float64:
		if f, ok := x.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
			b.WriteString("null")
		} else {
			b.WriteString(jsString(x))
		}
	case string:
		writeJSONString(b, x)
	case []any:
		if len(x) == 0 {
			b.WriteString("[]")
			return nil
		}
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			newline(depth + 1)
			if err := r.writeJSON(off, b, e, indent, depth+1); err != nil {
				return err
			}
		}
		newline(depth)
		b.WriteByte(']')
	case map[string]any:
		keys := sortedKeys(x)
		n := 0
		b.WriteByte('{')
		for _, k := range keys {
			e := normalize(x[k])
			if e == undefined {
				continue
			}
			if n > 0 {
				b.WriteByte(',')
			}
			n++
			newline(depth + 1)
			writeJSONString(b, k)
			b.WriteByte(':')
			if indent != "" {
				b.WriteByte(' ')
			}
			if err := r.writeJSON(off, b, e, indent, depth+1); err != nil {
				return err
			}
		}
		if n > 0 {
			newline(depth)
		}
		b.WriteByte('}')
	default:
		b.WriteString("null")
	}
	return nil
}

// writeJSONString quotes like JSON.stringify: no HTML escaping.
func writeJSONString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, c := range s {
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if c < 0x20 {
				fmt.Fprintf(b, `\u%04x`, c)
			} else {
				b.WriteRune(c)
			}
		}
	}
	b.WriteByte('"')
}

func filterFirst(_ *renderer, _ int, in any, _ []any) (any, error) {
	switch x := in.(type) {
	case []any:
		if len(x) > 0 {
			return normalize(x[0]), nil
		}
	case string:
		if x != "" {
			c, _ := utf8.DecodeRuneInString(x)
			return string(c), nil
		}
	}
	return undefined, nil
}

func filterLast(_ *renderer, _ int, in any, _ []any) (any, error) {
	switch x := in.(type) {
	case []any:
		if len(x) > 0 {
			return normalize(x[len(x)-1]), nil
		}
	case string:
		if x != "" {
			c, _ := utf8.DecodeLastRuneInString(x)
			return string(c), nil
		}
	}
	return undefined, nil
}

// parseNumberPrefix is JavaScript's parseFloat / parseInt(s, 10): the
// longest numeric prefix after leading whitespace.
func parseNumberPrefix(s string, integer bool) float64 {
	s = strings.TrimLeftFunc(s, unicode.IsSpace)
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && isDigit(s[i]) {
		i++
		digits++
	}
	if !integer {
		if i < len(s) && s[i] == '.' {
			i++
			for i < len(s) && isDigit(s[i]) {
				i++
				digits++
			}
		}
		if digits > 0 && i < len(s) && (s[i] == 'e' || s[i] == 'E') {
			j := i + 1
			if j < len(s) && (s[j] == '+' || s[j] == '-') {
				j++
			}
			if j < len(s) && isDigit(s[j]) {
				for j < len(s) && isDigit(s[j]) {
					j++
				}
				i = j
			}
		}
	}
	if digits == 0 {
		rest := strings.TrimLeft(s, "+-")
		if !integer && strings.HasPrefix(rest, "Infinity") {
			if strings.HasPrefix(s, "-") {
				return math.Inf(-1)
			}
			return math.Inf(1)
		}
		return math.NaN()
	}
	f, err := strconv.ParseFloat(strings.TrimSuffix(s[:i], "."), 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			return f
		}
		return math.NaN()
	}
	return f
}

func filterInt(_ *renderer, _ int, in any, args []any) (any, error) {
	f := parseNumberPrefix(jsString(in), true)
	if math.IsNaN(f) {
		if d := arg(args, 0); d != undefined {
			return d, nil
		}
		return 0.0, nil
	}
	return math.Trunc(f), nil
}

func filterFloat(_ *renderer, _ int, in any, args []any) (any, error) {
	f := parseNumberPrefix(jsString(in), false)
	if math.IsNaN(f) {
		if d := arg(args, 0); d != undefined {
			return d, nil
		}
		return 0.0, nil
	}
	return f, nil
}

// filterIndent indents every line but the first (unless the second
// argument is true) by width spaces.
func filterIndent(r *renderer, off int, in any, args []any) (any, error) {
	s := outputString(in)
	if s == "" {
		return "", nil
	}
	width := 4.0
	if w := arg(args, 0); w != undefined && w != nil {
		width = toNumber(w)
	}
	if math.IsNaN(width) || width < 0 {
		width = 0
	}
	lines := strings.Split(s, "\n")
	if err := r.checkLen(off, len(s)+int(math.Min(width, float64(r.maxOut+1)))*len(lines)); err != nil {
		return nil, err
	}
	sp := strings.Repeat(" ", int(width))
	first := truthy(arg(args, 1))
	for i, l := range lines {
		if i > 0 || first {
			lines[i] = sp + l
		}
	}
	return strings.Join(lines, "\n"), nil
}

// filterJoin joins a list with a separator (default ""), optionally taking
// an attribute of each element.
func filterJoin(r *renderer, off int, in any, args []any) (any, error) {
	l, ok := in.([]any)
	if !ok {
		return in, nil
	}
	sep := ""
	if s := arg(args, 0); s != undefined {
		sep = jsString(s)
	}
	if attr := arg(args, 1); attr != undefined {
		picked := make([]any, len(l))
		for i, e := range l {
			picked[i] = member(normalize(e), attr)
		}
		l = picked
	}
	if err := r.step(off, len(l)); err != nil {
		return nil, err
	}
	if err := r.checkDepth(off, l, 0); err != nil {
		return nil, err
	}
	if err := r.checkLen(off, len(sep)*len(l)); err != nil {
		return nil, err
	}
	return joinList(l, sep), nil
}

func filterLength(_ *renderer, _ int, in any, _ []any) (any, error) {
	switch x := in.(type) {
	case []any:
		return float64(len(x)), nil
	case string:
		return float64(utf8.RuneCountInString(x)), nil
	case map[string]any:
		return float64(len(x)), nil
	}
	return 0.0, nil
}

// filterList turns a string into its characters and an object into
// [{key, value}] entries.
func filterList(r *renderer, off int, in any, _ []any) (any, error) {
	switch x := in.(type) {
	case []any:
		return x, nil
	case string:
		if err := r.step(off, len(x)); err != nil {
			return nil, err
		}
		l := make([]any, 0, len(x))
		for _, c := range x {
			l = append(l, string(c))
		}
		return l, nil
	case map[string]any:
		l := make([]any, 0, len(x))
		for _, k := range sortedKeys(x) {
			l = append(l, map[string]any{"key": k, "value": x[k]})
		}
		return l, nil
	}
	return nil, fmt.Errorf("list filter: %s is not iterable", typeName(in))
}

// filterReplace replaces occurrences of a string (all, or the first n).
func filterReplace(r *renderer, off int, in any, args []any) (any, error) {
	var s string
	switch x := in.(type) {
	case string:
		s = x
	case float64:
		s = jsString(x)
	default:
		return in, nil
	}
	var old string
	switch o := arg(args, 0).(type) {
	case string:
		old = o
	case float64:
		old = jsString(o)
	default:
		return s, nil
	}
	repl := jsString(arg(args, 1))
	n := -1
	if m := arg(args, 2); m != undefined {
		n = int(math.Max(-1, math.Min(toNumber(m), float64(math.MaxInt32))))
	}
	count := strings.Count(s, old)
	if old == "" {
		count = utf8.RuneCountInString(s) + 1
	}
	if n >= 0 && n < count {
		count = n
	}
	if err := r.checkLen(off, len(s)+count*len(repl)); err != nil {
		return nil, err
	}
	return strings.Replace(s, old, repl, n), nil
}

func filterReverse(_ *renderer, _ int, in any, _ []any) (any, error) {
	switch x := in.(type) {
	case string:
		runes := []rune(x)
		for i, j := 0, len(runes)-1; i < j; i, j = i+1, j-1 {
			runes[i], runes[j] = runes[j], runes[i]
		}
		return string(runes), nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[len(x)-1-i] = e
		}
		return out, nil
	}
	return in, nil
}

// filterRound rounds to precision digits; method is "common", "ceil" or
// "floor".
func filterRound(_ *renderer, _ int, in any, args []any) (any, error) {
	f := toNumber(in)
	prec := 0.0
	if p := arg(args, 0); p != undefined {
		prec = math.Max(0, math.Min(toNumber(p), 15))
	}
	factor := math.Pow(10, math.Trunc(prec))
	switch jsString(arg(args, 1)) {
	case "ceil":
		return math.Ceil(f*factor) / factor, nil
	case "floor":
		return math.Floor(f*factor) / factor, nil
	}
	return math.Round(f*factor) / factor, nil
}

func filterSafe(_ *renderer, _ int, in any, _ []any) (any, error) { return in, nil }

// filterSort sorts a copy: sort(reverse=false, caseSensitive=false, attribute).
func filterSort(r *renderer, off int, in any, args []any) (any, error) {
	l, ok := in.([]any)
	if !ok {
		return nil, fmt.Errorf("sort expects a list, got %s", typeName(in))
	}
	if err := r.step(off, len(l)); err != nil {
		return nil, err
	}
	reverse, caseSens := truthy(arg(args, 0)), truthy(arg(args, 1))
	attr := arg(args, 2)
	key := func(v any) any {
		v = normalize(v)
		if attr != undefined {
			v = member(v, attr)
		}
		if s, ok := v.(string); ok && !caseSens {
			return strings.ToLower(s)
		}
		return v
	}
	out := append([]any(nil), l...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := key(out[i]), key(out[j])
		if reverse {
			a, b = b, a
		}
		return compare("<", a, b)
	})
	return out, nil
}

func filterString(r *renderer, off int, in any, _ []any) (any, error) {
	if err := r.checkDepth(off, in, 0); err != nil {
		return nil, err
	}
	return jsString(in), nil
}

// filterTruncate: truncate(length=255, killwords=false, end="...").
func filterTruncate(_ *renderer, _ int, in any, args []any) (any, error) {
	s := outputString(in)
	length := 255
	if l := arg(args, 0); l != undefined && l != nil {
		length = int(math.Max(0, math.Min(toNumber(l), float64(math.MaxInt32))))
	}
	runes := []rune(s)
	if len(runes) <= length {
		return s, nil
	}
	cut := length
	if !truthy(arg(args, 1)) {
		if i := lastIndexRune(runes[:min(length+1, len(runes))], ' '); i >= 0 {
			cut = i
		}
	}
	end := "..."
	if e := arg(args, 2); e != undefined && e != nil {
		end = jsString(e)
	}
	return string(runes[:cut]) + end, nil
}

func lastIndexRune(rs []rune, c rune) int {
	for i := len(rs) - 1; i >= 0; i-- {
		if rs[i] == c {
			return i
		}
	}
	return -1
}

// filterURLEncode is encodeURIComponent for strings; objects and lists of
// pairs become a query string.
func filterURLEncode(_ *renderer, _ int, in any, _ []any) (any, error) {
	switch x := in.(type) {
	case string:
		return encodeURIComponent(x), nil
	case map[string]any:
		parts := make([]string, 0, len(x))
		for _, k := range sortedKeys(x) {
			parts = append(parts, encodeURIComponent(k)+"="+encodeURIComponent(jsString(x[k])))
		}
		return strings.Join(parts, "&"), nil
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			pair, _ := e.([]any)
			if len(pair) < 2 {
				continue
			}
			parts = append(parts, encodeURIComponent(jsString(pair[0]))+"="+encodeURIComponent(jsString(pair[1])))
		}
		return strings.Join(parts, "&"), nil
	}
	return encodeURIComponent(jsString(in)), nil
}

// encodeURIComponent escapes everything but A-Z a-z 0-9 - _ . ! ~ * ' ( ).
func encodeURIComponent(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("-_.!~*'()", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// Backstage filters.

// filterParseRepoURL parses Backstage's RepoUrlPicker format
// "host?owner=o&repo=r" into {host, owner, repo, organization, workspace,
// project}; absent parts are omitted. Backstage also checks the host
// against the configured SCM integrations; that check belongs to the caller.
func filterParseRepoURL(_ *renderer, _ int, in any, _ []any) (any, error) {
	s, ok := in.(string)
	if !ok {
		return nil, fmt.Errorf("expected a repository URL string, got %s", typeName(in))
	}
	return parseRepoURL(s)
}

func parseRepoURL(s string) (map[string]any, error) {
	u, err := url.Parse("https://" + s)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("invalid repo URL %q", s)
	}
	q := u.Query()
	out := map[string]any{"host": u.Host}
	for _, k := range []string{"owner", "repo", "organization", "workspace", "project"} {
		if q.Has(k) {
			out[k] = q.Get(k)
		}
	}
	if q.Get("repo") == "" {
		return nil, fmt.Errorf("invalid repo URL %q: missing repo", s)
	}
	if q.Get("owner") == "" && q.Get("workspace") == "" && q.Get("project") == "" {
		return nil, fmt.Errorf("invalid repo URL %q: missing owner", s)
	}
	return out, nil
}

// filterParseEntityRef parses "[kind:][namespace/]name" into {kind,
// namespace, name}, with defaults from an optional {defaultKind,
// defaultNamespace} argument (or, as older Backstage accepted, the two as
// strings). Without a default the namespace is "default"; a missing kind
// with no default is an error.
func filterParseEntityRef(_ *renderer, _ int, in any, args []any) (any, error) {
	ref, ok := in.(string)
	if !ok {
		return nil, fmt.Errorf("entity reference must be a string, got %s", typeName(in))
	}
	var defKind, defNS string
	switch a := arg(args, 0).(type) {
	case map[string]any:
		defKind, _ = a["defaultKind"].(string)
		defNS, _ = a["defaultNamespace"].(string)
	case string:
		defKind = a
		defNS, _ = arg(args, 1).(string)
	}
	kind, rest, hasKind := strings.Cut(ref, ":")
	if !hasKind {
		kind, rest = defKind, ref
	}
	ns, name, hasNS := strings.Cut(rest, "/")
	if !hasNS {
		ns, name = defNS, rest
		if ns == "" {
			ns = "default"
		}
	}
	switch {
	case kind == "":
		return nil, fmt.Errorf("entity reference %q had missing or empty kind (e.g. did not start with \"component:\" or similar)", ref)
	case ns == "":
		return nil, fmt.Errorf("entity reference %q had missing or empty namespace", ref)
	case name == "":
		return nil, fmt.Errorf("entity reference %q had missing or empty name", ref)
	}
	return map[string]any{"kind": kind, "namespace": ns, "name": name}, nil
}

// filterPick is lodash get(obj, path): "a.b[0].c".
func filterPick(_ *renderer, _ int, in any, args []any) (any, error) {
	path := jsString(arg(args, 0))
	v := in
	for _, part := range strings.FieldsFunc(path, func(c rune) bool { return c == '.' || c == '[' || c == ']' }) {
		v = member(v, part)
		if v == undefined {
			return undefined, nil
		}
	}
	return v, nil
}

// filterProjectSlug gives "owner/repo" for a repository URL.
func filterProjectSlug(_ *renderer, _ int, in any, _ []any) (any, error) {
	s, ok := in.(string)
	if !ok {
		return nil, fmt.Errorf("expected a repository URL string, got %s", typeName(in))
	}
	p, err := parseRepoURL(s)
	if err != nil {
		return nil, err
	}
	return jsString(member(p, "owner")) + "/" + jsString(member(p, "repo")), nil
}

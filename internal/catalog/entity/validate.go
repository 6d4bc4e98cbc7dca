package entity

import (
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// formatDocURL ends every field-format message, as in Backstage.
const formatDocURL = "To learn more about catalog file format, visit: https://github.com/backstage/backstage/blob/master/docs/architecture-decisions/adr002-default-catalog-file-format.md"

// Expectations, worded as Backstage's FieldFormatEntityPolicy words them.
const (
	expectObjectName = "a string that is sequences of [a-zA-Z0-9] separated by any of [-_.], at most 63 characters in total"
	expectPrefixed   = "a valid prefix and/or suffix"
	expectDNSLabel   = "a string that is sequences of [a-z0-9] separated by [-], at most 63 characters in total"
	expectTag        = "a string that is sequences of [a-z0-9+#] separated by [-], at most 63 characters in total"
	expectKind       = "a string that is a sequence of [a-zA-Z][a-z0-9A-Z], at most 63 characters in total"
	expectURL        = "a string that is a valid url"
	expectNonEmpty   = "a non empty string"
)

// The patterns of Backstage's KubernetesValidatorFunctions,
// CommonValidatorFunctions and makeValidator.
var (
	objectNameRe = regexp.MustCompile(`^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`)
	dnsLabelRe   = regexp.MustCompile(`^[a-z0-9]+(?:-+[a-z0-9]+)*$`)
	kindRe       = regexp.MustCompile(`^[a-zA-Z][a-z0-9A-Z]*$`)
	versionRe    = regexp.MustCompile(`^[a-z0-9A-Z]+$`)
	tagRe        = regexp.MustCompile(`^[a-z0-9:+#]+(-[a-z0-9:+#]+)*$`)
)

// IsValidObjectName reports whether s is a valid metadata.name (and label
// value, and the name part of label and annotation keys): 1 to 63
// characters, [a-zA-Z0-9] runs separated by any of [-_.].
func IsValidObjectName(s string) bool {
	return len(s) >= 1 && len(s) <= 63 && objectNameRe.MatchString(s)
}

// IsValidDNSLabel reports whether s is an RFC 1123 DNS label as Backstage
// checks it (the rule for metadata.namespace): 1 to 63 characters, [a-z0-9]
// runs separated by hyphens.
func IsValidDNSLabel(s string) bool {
	return len(s) >= 1 && len(s) <= 63 && dnsLabelRe.MatchString(s)
}

// IsValidDNSSubdomain reports whether s is at most 253 characters of
// dot-separated DNS labels (the prefix of apiVersion and of label keys).
func IsValidDNSSubdomain(s string) bool {
	if len(s) < 1 || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if !IsValidDNSLabel(label) {
			return false
		}
	}
	return true
}

// IsValidKind reports whether s is a valid entity kind: a letter followed
// by letters and digits, at most 63 characters.
func IsValidKind(s string) bool {
	return len(s) >= 1 && len(s) <= 63 && kindRe.MatchString(s)
}

// IsValidAPIVersion reports whether s is "[<dns-subdomain>/]<version>"
// with a version of 1 to 63 letters and digits.
func IsValidAPIVersion(s string) bool {
	return validPrefixAndOrSuffix(s, IsValidDNSSubdomain, func(v string) bool {
		return len(v) >= 1 && len(v) <= 63 && versionRe.MatchString(v)
	})
}

// IsValidLabelKey reports whether s is a valid label or annotation key:
// "[<dns-subdomain>/]<object-name>".
func IsValidLabelKey(s string) bool {
	return validPrefixAndOrSuffix(s, IsValidDNSSubdomain, IsValidObjectName)
}

// IsValidLabelValue reports whether s is a valid label value: empty or an
// object name.
func IsValidLabelValue(s string) bool { return s == "" || IsValidObjectName(s) }

// IsValidTag reports whether s is a valid tag: 1 to 63 characters,
// [a-z0-9:+#] runs separated by single hyphens (the ':' is allowed by
// Backstage's makeValidator, though its error message does not say so).
func IsValidTag(s string) bool {
	return len(s) >= 1 && len(s) <= 63 && tagRe.MatchString(s)
}

// validPrefixAndOrSuffix is CommonValidatorFunctions.isValidPrefixAndOrSuffix
// with '/' as separator: one part is the suffix, two are prefix and suffix,
// more is invalid.
func validPrefixAndOrSuffix(s string, prefix, suffix func(string) bool) bool {
	before, after, found := strings.Cut(s, "/")
	if !found {
		return suffix(s)
	}
	if strings.Contains(after, "/") {
		return false
	}
	return prefix(before) && suffix(after)
}

// specialSchemes are the WHATWG URL schemes that require a host.
var specialSchemes = map[string]bool{"http": true, "https": true, "ws": true, "wss": true, "ftp": true}

// IsValidURL approximates what `new URL(s)` accepts in a browser, which is
// Backstage's check for metadata.links[].url: an absolute URL with a valid
// scheme; http(s), ws(s) and ftp URLs also need a parseable host. Like
// Backstage it accepts any scheme, javascript: included, so whatever renders
// links must still refuse unsafe schemes.
func IsValidURL(s string) bool {
	// WHATWG trims C0 controls and spaces at both ends and drops tabs and
	// newlines anywhere.
	s = strings.TrimFunc(s, func(r rune) bool { return r <= 0x20 })
	s = strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(s)
	scheme, rest, ok := strings.Cut(s, ":")
	if !ok || scheme == "" || !isASCIIAlpha(scheme[0]) {
		return false
	}
	for i := 1; i < len(scheme); i++ {
		c := scheme[i]
		if !isASCIIAlpha(c) && !('0' <= c && c <= '9') && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	scheme = strings.ToLower(scheme)
	if scheme == "file" || !specialSchemes[scheme] {
		return true
	}
	rest = strings.TrimLeft(rest, `/\`)
	u, err := url.Parse(scheme + "://" + strings.ReplaceAll(rest, `\`, "/"))
	return err == nil && u.Host != "" && u.Hostname() != ""
}

func isASCIIAlpha(c byte) bool { return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') }

// builtinRegistry is the registry Validate and EmitRelations use; built
// once because the built-in kinds never change.
var builtinRegistry = sync.OnceValue(BuiltinKinds)

// Validate is ValidateWith with the built-in kinds.
func Validate(e *Entity) Problems {
	return ValidateWith(e, builtinRegistry())
}

// ValidateWith checks an entity read by FromMap the way Backstage's
// processing does, after the envelope schema: it applies the default
// namespace, then the field formats of FieldFormatEntityPolicy, then the
// spec rules of the entity's kind as registered in kinds (nil means the
// built-in kinds).
//
// ValidateWith mutates e: an empty metadata.namespace is set to "default",
// as Backstage's DefaultNamespaceEntityPolicy does, so that the stored
// entity names its namespace.
//
// Unlike Backstage, which stops at the first broken rule, it reports every
// problem it finds. An apiVersion/kind pair that no registered kind accepts
// is itself a problem ("No processor recognized the entity ..."), because
// Backstage rejects entities no processor validates.
func ValidateWith(e *Entity, kinds *KindRegistry) Problems {
	if e == nil {
		return Problems{{Message: "entity must not be null"}}
	}
	if kinds == nil {
		kinds = builtinRegistry()
	}
	if e.Metadata.Namespace == "" {
		e.Metadata.Namespace = DefaultNamespace
	}
	probs := validateFormats(e)
	def, ok := kinds.Lookup(e.APIVersion, e.Kind)
	if !ok {
		probs = append(probs, Problem{
			Path: "kind",
			Message: fmt.Sprintf("No processor recognized the entity %s as valid, possibly caused by a foreign kind or apiVersion",
				e.Ref().Key()),
		})
		return probs
	}
	if def.ValidateSpec != nil {
		probs = append(probs, def.ValidateSpec(e.Spec)...)
	}
	if len(probs) == 0 {
		return nil
	}
	return probs
}

// formatCheck collects FieldFormatEntityPolicy problems.
type formatCheck struct {
	probs Problems
}

// check records a problem at path unless valid. field is the name
// Backstage uses in its message (it omits "metadata." for labels,
// annotations, tags and links).
func (c *formatCheck) check(valid bool, path, field, expectation, value string) {
	if valid {
		return
	}
	c.probs = append(c.probs, Problem{
		Path: path,
		Message: fmt.Sprintf("%q is not valid; expected %s but found %s. %s",
			field, expectation, quoteFound(value), formatDocURL),
	})
}

// maxFoundLen caps how much of an offending value a message repeats, so a
// megabyte-long name does not produce a megabyte-long error.
const maxFoundLen = 200

// quoteFound quotes a value for a message as Backstage does ("value"),
// truncated and with invalid UTF-8 replaced.
func quoteFound(s string) string {
	if len(s) > maxFoundLen {
		cut := maxFoundLen
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…(" + strconv.Itoa(len(s)) + " bytes)"
	}
	return `"` + strings.ToValidUTF8(s, "\uFFFD") + `"`
}

func validateFormats(e *Entity) Problems {
	c := &formatCheck{}
	m := &e.Metadata
	c.check(IsValidAPIVersion(e.APIVersion), "apiVersion", "apiVersion", expectPrefixed, e.APIVersion)
	c.check(IsValidKind(e.Kind), "kind", "kind", expectKind, e.Kind)
	c.check(IsValidObjectName(m.Name), "metadata.name", "metadata.name", expectObjectName, m.Name)
	c.check(IsValidDNSLabel(m.Namespace), "metadata.namespace", "metadata.namespace", expectDNSLabel, m.Namespace)
	for _, k := range slices.Sorted(maps.Keys(m.Labels)) {
		v := m.Labels[k]
		c.check(IsValidLabelKey(k), "metadata.labels."+k, "labels."+k, expectPrefixed, k)
		c.check(IsValidLabelValue(v), "metadata.labels."+k, "labels."+k, expectObjectName, v)
	}
	for _, k := range slices.Sorted(maps.Keys(m.Annotations)) {
		// Annotation values are any string; only keys have a format.
		c.check(IsValidLabelKey(k), "metadata.annotations."+k, "annotations."+k, expectPrefixed, k)
	}
	for i, t := range m.Tags {
		f := "tags." + strconv.Itoa(i)
		c.check(IsValidTag(t), "metadata."+f, f, expectTag, t)
	}
	for i, l := range m.Links {
		f := "links." + strconv.Itoa(i)
		c.check(IsValidURL(l.URL), "metadata."+f+".url", f+".url", expectURL, l.URL)
		// Empty means absent here; FromMap rejects an explicit "".
		c.check(l.Title == "" || strings.TrimSpace(l.Title) != "", "metadata."+f+".title", f+".title", expectNonEmpty, l.Title)
		c.check(l.Icon == "" || strings.TrimSpace(l.Icon) != "", "metadata."+f+".icon", f+".icon", expectNonEmpty, l.Icon)
	}
	return c.probs
}

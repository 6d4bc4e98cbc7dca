// Package templating owns the "${{ }}" templating of Backstage software
// templates (scaffolder.backstage.io/v1beta3): a sandboxed, pure Go
// implementation of the Nunjucks subset that templates use, Backstage's
// template filters (parseRepoUrl, parseEntityRef, pick, projectSlug), and
// the type-preserving rendering of step inputs.
//
// Rendering does no I/O, never reflects into Go values, and is bounded in
// work (Options.MaxSteps), output and string size (Options.MaxOutputBytes)
// and nesting depth, so templates from untrusted authors can be rendered in
// the server process.
package templating

import (
	"errors"
	"fmt"
	"strings"
)

// Default limits, used when the Options field is zero.
const (
	DefaultMaxSteps       = 1_000_000
	DefaultMaxOutputBytes = 10 << 20
)

// MaxTemplateBytes is the largest template source accepted.
const MaxTemplateBytes = 10 << 20

// Options configures a render. The zero value is ready to use.
type Options struct {
	// MaxSteps bounds evaluation work: every expression evaluated, loop
	// iteration, filter call and output node counts one step; work that
	// grows with a value's size costs more (range() a step per element,
	// filters a step per list element or 256 bytes of string). Zero means
	// DefaultMaxSteps.
	MaxSteps int
	// MaxOutputBytes bounds the rendered text and every string built while
	// rendering (concatenations, filter results). Zero means
	// DefaultMaxOutputBytes.
	MaxOutputBytes int
	// Filters adds filters to the built-in ones, or replaces a built-in of
	// the same name. Filters receive and must return JSON-like values.
	Filters map[string]Filter
	// CookiecutterCompat renders as Backstage's fetch:template does with
	// cookiecutterCompat: output is written "{{ }}" (Nunjucks' default),
	// not "${{ }}", and the jsonify filter (JSON text, like dump) exists.
	CookiecutterCompat bool
}

// Filter is a template filter: `${{ input | name(args...) }}`. Values are
// JSON-like: map[string]any, []any, string, float64, bool or nil (a missing
// value is passed as nil).
type Filter func(input any, args ...any) (any, error)

// ErrLimit is wrapped by errors for templates that exceed MaxSteps,
// MaxOutputBytes or a size limit.
var ErrLimit = errors.New("template exceeds a limit")

// Error is a template error at a position in the template source.
type Error struct {
	Line, Column int // 1-based; Column counts runes
	Message      string
	Err          error // the underlying error, if any (ErrLimit, a filter's error)
}

func (e *Error) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

func newError(src string, off int, msg string) *Error {
	l, c := position(src, off)
	return &Error{Line: l, Column: c, Message: msg}
}

// Render renders a template string against ctx (a map of JSON-like values:
// map[string]any, []any, string, float64, bool, nil). When the whole string
// is exactly one ${{ expression }} (surrounding whitespace allowed), the
// value is returned with its type preserved, as Backstage does for step
// inputs (an undefined value gives nil); otherwise the rendered text as a
// string.
func Render(src string, ctx map[string]any, opts Options) (any, error) {
	return newRenderer(ctx, opts).render(src)
}

// RenderString always renders to text, as for skeleton files.
func RenderString(src string, ctx map[string]any, opts Options) (string, error) {
	r := newRenderer(ctx, opts)
	nodes, err := r.parse(src)
	if err != nil {
		return "", err
	}
	return r.text(src, nodes)
}

// RenderValue walks a JSON-like value (a step input) and renders every
// string in it with Render; map keys are left as they are. The limits apply
// to the walk as a whole.
func RenderValue(v any, ctx map[string]any, opts Options) (any, error) {
	r := newRenderer(ctx, opts)
	return r.value(v, 0)
}

func (r *renderer) value(v any, depth int) (any, error) {
	if depth > maxValueDepth {
		return nil, fmt.Errorf("input nested more than %d levels deep: %w", maxValueDepth, ErrLimit)
	}
	switch x := v.(type) {
	case string:
		return r.render(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			rv, err := r.value(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = rv
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			rv, err := r.value(e, depth+1)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			out[k] = rv
		}
		return out, nil
	}
	return v, nil
}

func (r *renderer) parse(src string) ([]node, error) {
	r.src = src
	if len(src) > MaxTemplateBytes {
		return nil, fmt.Errorf("template is %d bytes, more than the %d allowed: %w", len(src), MaxTemplateBytes, ErrLimit)
	}
	open := varOpen
	if r.cookiecutter {
		open = cookiecutterVarOpen
	}
	return parse(src, open, r.hasFilter)
}

func (r *renderer) render(src string) (any, error) {
	nodes, err := r.parse(src)
	if err != nil {
		return nil, err
	}
	if out := singleOutput(nodes); out != nil {
		r.out.Reset()
		r.scopes = r.scopes[:1]
		clear(r.scopes[0])
		v, err := r.eval(out.x)
		if err != nil {
			return nil, err
		}
		return r.jsonValue(out.pos, v)
	}
	return r.text(src, nodes)
}

// singleOutput returns the output node when nodes are one ${{ }} with only
// whitespace around it.
func singleOutput(nodes []node) *outputNode {
	var out *outputNode
	for _, n := range nodes {
		switch x := n.(type) {
		case *textNode:
			if strings.TrimSpace(x.text) != "" {
				return nil
			}
		case *outputNode:
			if out != nil {
				return nil
			}
			out = x
		default:
			return nil
		}
	}
	return out
}

func (r *renderer) text(src string, nodes []node) (string, error) {
	r.out.Reset()
	r.scopes = r.scopes[:1]
	clear(r.scopes[0])
	if err := r.exec(nodes); err != nil {
		return "", err
	}
	return r.out.String(), nil
}

package catalog

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/catalog/source"
	"github.com/atrium-dev/atrium/internal/store"
)

// maxLocationDepth bounds how deep Location entities may nest inside one
// processing pass (dry runs and analysis recurse; ingestion goes one level
// per pass).
const maxLocationDepth = 16

// refArrays are the spec fields holding entity refs, which Backstage
// sorts during processing.
var refArrays = []string{"providesApis", "consumesApis", "dependsOn", "dependencyOf", "memberOf", "children", "members"}

// process runs one claimed entity through validation, relation emission
// and, for Location entities, reading of its targets. It never returns an
// error: failures become the result's status items.
func (s *Service) process(ctx context.Context, w store.Work) store.Result {
	res := store.Result{Work: w}
	fail := func(items []entity.StatusItem) store.Result {
		res.OK = false
		res.Errors = mustJSON(items)
		res.ResultHash = hashOf(res.Errors)
		return res
	}
	if len(w.EmitProblems) > 0 && string(w.EmitProblems) != "null" {
		var msgs []string
		if err := json.Unmarshal(w.EmitProblems, &msgs); err != nil {
			msgs = []string{"unreadable problem list: " + err.Error()}
		}
		return fail(inputErrors(msgs))
	}
	var doc map[string]any
	if err := json.Unmarshal(w.Unprocessed, &doc); err != nil {
		return fail(inputErrors([]string{"stored entity is not valid JSON: " + err.Error()}))
	}
	e, edges, problems := s.check(doc)
	if len(problems) > 0 {
		return fail(inputErrors(problemMessages(problems)))
	}
	if e.Kind == "Template" {
		// The stored document keeps the spec's order (see emit).
		var raw struct {
			Spec json.RawMessage `json:"spec"`
		}
		if json.Unmarshal(w.Unprocessed, &raw) == nil {
			e.KeepSpecOrder(raw.Spec)
		}
	}
	return s.complete(ctx, res, e, edges, nil)
}

// complete finishes processing a valid entity: sorts its ref arrays, reads
// a Location's targets, and hashes the result so that an unchanged one
// writes nothing. encoded, if not nil, is e already encoded with its ref
// arrays sorted.
func (s *Service) complete(ctx context.Context, res store.Result, e *entity.Entity, edges []entity.Edge, encoded []byte) store.Result {
	sortRefArrays(e)
	var warnings []entity.StatusItem
	var children []store.Child

	if e.Kind == "Location" {
		out, err := s.readLocation(ctx, e, 0)
		if err != nil {
			// The Location itself is valid: serve it with the error, and
			// keep the children of its last good read.

			warnings = []entity.StatusItem{statusError(err)}
			res.KeepChildren = true
			s.log.Warn("cannot read location", "entityRef", e.Ref().String(), "err", err)
		} else {
			warnings = out.warnings
			for _, c := range out.children {
				children = append(children, c.child)
			}
		}
	}
	processed, err := encoded, error(nil)
	if processed == nil || e.Kind == "Location" {
		processed, err = json.Marshal(e)
	}
	if err != nil {
		res.Errors = mustJSON(inputErrors([]string{"cannot encode entity: " + err.Error()}))
		res.ResultHash = hashOf(res.Errors)
		return res
	}
	res.OK = true
	res.Processed = processed
	res.Relations = edges
	res.Children = children
	if len(warnings) > 0 {
		res.Errors = mustJSON(warnings)
	}
	h := sha1.New()
	h.Write(processed)
	h.Write(res.Errors)
	// In a fixed order: the edges come in the order of the arrays they were
	// read from, which processing sorts (an entity processed as its
	// location emits it and one processed again from what was stored
	// must hash the same).
	lines := make([]string, len(edges))
	for i, ed := range edges {
		lines[i] = fmt.Sprintf("\x00%s %s %s", ed.Source.String(), ed.Type, ed.Target.String())
	}
	slices.Sort(lines)
	for _, l := range lines {
		h.Write([]byte(l))
	}
	for _, c := range children {
		fmt.Fprintf(h, "\x00%s\x00%s\x00%s\x00", c.Ref, c.LocationKey, c.EmitProblems)
		h.Write(c.Entity)
	}
	res.ResultHash = hex.EncodeToString(h.Sum(nil))
	return res
}

// check converts a document into an entity and runs every rule on it:
// envelope, field formats, the kind's spec, and its relations.
func (s *Service) check(doc map[string]any) (*entity.Entity, []entity.Edge, entity.Problems) {
	return check(s.kinds, doc)
}

func check(kinds *entity.KindRegistry, doc map[string]any) (*entity.Entity, []entity.Edge, entity.Problems) {
	e, problems := entity.FromMap(doc)
	if len(problems) > 0 || e == nil {
		return e, nil, problems
	}
	if problems := entity.ValidateWith(e, kinds); len(problems) > 0 {
		return e, nil, problems
	}
	edges, problems := entity.EmitRelations(e, kinds)
	return e, edges, problems
}

// emitted is one entity found while reading a location.
type emitted struct {
	child  store.Child
	entity *entity.Entity
}

// locationOutput is what reading a Location entity's targets produced.
type locationOutput struct {
	children []emitted
	warnings []entity.StatusItem
}

// readLocation reads every target of a Location entity and turns each YAML
// document into a child entity. A target that cannot be read or parsed is
// an error, so the location keeps its last good children; a document that
// is not a valid entity becomes a child that fails its own processing
// (keeping its last good version) and a warning on the location.
func (s *Service) readLocation(ctx context.Context, loc *entity.Entity, depth int) (locationOutput, error) {
	var out locationOutput
	self := loc.Annotation(entity.AnnotationManagedByLocation)
	selfType, selfTarget, _ := strings.Cut(self, ":")
	origin := loc.Annotation(entity.AnnotationManagedByOriginLocation)
	if origin == "" {
		origin = self
	}
	typ, _ := loc.Spec["type"].(string)
	if typ == "" {
		typ = selfType
	}
	var targets []string
	if t, ok := loc.Spec["target"].(string); ok && t != "" {
		targets = append(targets, t)
	}
	if ts, ok := loc.Spec["targets"].([]any); ok {
		for _, t := range ts {
			if str, ok := t.(string); ok && str != "" {
				targets = append(targets, str)
			}
		}
	}
	optional := loc.Spec["presence"] == "optional"
	for _, target := range targets {
		resolved := target
		if selfTarget != "" && typ == selfType {
			r, err := source.ResolveTarget(selfTarget, target)
			if err != nil {
				return out, fmt.Errorf("target %q: %w", target, err)
			}
			resolved = r
		}
		files, err := s.readTarget(ctx, typ, resolved)
		if err != nil {
			if optional && errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return out, err
		}
		for _, f := range files {
			locRef := typ + ":" + f.Path
			docs, err := source.Parse(f.Path, f.Data)
			if err != nil {
				return out, err
			}
			for _, d := range docs {
				c, warn, err := s.emit(ctx, d, typ, f.Path, locRef, origin)
				if err != nil {
					return out, err
				}
				if warn != nil {
					out.warnings = append(out.warnings, *warn)
				}
				if c != nil {
					out.children = append(out.children, *c)
				}
			}
		}
	}
	return out, nil
}

// readTarget reads one location target with the reader for its type.
func (s *Service) readTarget(ctx context.Context, typ, target string) ([]source.File, error) {
	r, ok := s.readers[typ]
	if !ok {
		return nil, fmt.Errorf("no reader for location type %q", typ)
	}
	return r.Read(ctx, target)
}

// emit turns one document read at locRef into a child entity. Problems
// with the document are reported with file, line and column.
func (s *Service) emit(ctx context.Context, d *source.Document, typ, file, locRef, origin string) (*emitted, *entity.StatusItem, error) {
	e, edges, problems := s.check(d.Data)
	if e != nil && e.Kind == "Template" {
		// A template's form follows the order its parameters are written in.
		e.KeepSpecOrder(d.OrderedJSON("spec"))
	}
	if e == nil || e.Kind == "" || e.Metadata.Name == "" {
		// Without a kind and name there is no entity to attach the problem to.
		return nil, nil, &source.ParseError{File: file, Line: d.Line, Column: d.Column,
			Message: positioned(d, problems)}
	}
	if e.Metadata.Namespace == "" {
		e.Metadata.Namespace = entity.DefaultNamespace
	}
	if !s.rules.allowed(e.Kind, specType(e), locRef, origin) {
		return nil, nil, derrorsNotAllowed(e, locRef, origin)
	}
	e.SetAnnotation(entity.AnnotationManagedByLocation, locRef)
	e.SetAnnotation(entity.AnnotationManagedByOriginLocation, origin)
	if typ == "url" {
		setURLAnnotations(e, file)
	}
	// Sorted before encoding, the emitted entity is already the processed
	// one of an entity processed below, which then needs no second
	// encoding; and an input that only reorders them is unchanged.
	sortRefArrays(e)
	body, err := json.Marshal(e)
	if err != nil {
		return nil, nil, fmt.Errorf("encode %s: %w", e.Ref(), err)
	}
	c := &emitted{entity: e, child: store.Child{Ref: e.Ref().Key(), Entity: body, LocationKey: locRef}}
	if len(problems) == 0 {
		if e.Kind != "Location" {
			// Processing an entity other than a Location is a pure function
			// of what was just validated, so do it now and save the store a
			// second round trip; a periodic refresh later gets the same result.
			r := s.complete(ctx, store.Result{}, e, edges, body)
			c.child.Result = &r
		}
		return c, nil, nil
	}
	msgs := make([]string, len(problems))
	for i, p := range problems {
		line, col := d.Pos(p.Path)
		msgs[i] = fmt.Sprintf("%s:%d:%d: %s", file, line, col, p.Error())
	}
	c.child.EmitProblems = mustJSON(msgs)
	warn := entity.StatusItem{
		Type:    entity.StatusTypeProcessing,
		Level:   "warning",
		Message: fmt.Sprintf("%s is invalid and keeps its last valid version: %s", e.Ref(), strings.Join(msgs, "; ")),
	}
	return c, &warn, nil
}

func positioned(d *source.Document, problems entity.Problems) string {
	if len(problems) == 0 {
		return "document is not an entity"
	}
	msgs := make([]string, len(problems))
	for i, p := range problems {
		line, col := d.Pos(p.Path)
		msgs[i] = fmt.Sprintf("%d:%d: %s", line, col, p.Error())
	}
	return strings.Join(msgs, "; ")
}

func derrorsNotAllowed(e *entity.Entity, locRef, origin string) error {
	return &notAllowedError{msg: fmt.Sprintf("Entity %s at %s, originated at %s, is not of an allowed kind for that location",
		e.Ref(), locRef, origin)}
}

type notAllowedError struct{ msg string }

func (e *notAllowedError) Error() string { return e.msg }

// setURLAnnotations adds the annotations Backstage derives for entities
// read from a URL, keeping values the entity already has.
func setURLAnnotations(e *entity.Entity, url string) {
	set := func(k, v string) {
		if e.Annotation(k) == "" {
			e.SetAnnotation(k, v)
		}
	}
	set(entity.AnnotationViewURL, url)
	if edit := editURL(url); edit != "" {
		set(entity.AnnotationEditURL, edit)
	}
	if i := strings.LastIndexByte(url, '/'); i >= 0 {
		set(entity.AnnotationSourceLocation, "url:"+url[:i+1])
	}
}

// pinnedCommit matches a full commit hash in a URL path: such a file can
// no longer be edited, so Backstage derives no edit URL for it.
var pinnedCommit = regexp.MustCompile(`/[0-9a-f]{40,}(/|$)`)

// editURL derives the URL that edits a file from the URL that shows it, for
// the hosting services whose URLs say so (GitHub's and GitLab's "blob"
// paths); "" when it cannot be derived.
func editURL(view string) string {
	if pinnedCommit.MatchString(view) {
		return ""
	}
	switch {
	case strings.Contains(view, "/-/blob/"): // GitLab
		return strings.Replace(view, "/-/blob/", "/-/edit/", 1)
	case strings.HasPrefix(view, "https://github.com/") && strings.Contains(view, "/blob/"):
		return strings.Replace(view, "/blob/", "/edit/", 1)
	}
	return ""
}

func sortRefArrays(e *entity.Entity) {
	for _, k := range refArrays {
		arr, ok := e.Spec[k].([]any)
		if !ok {
			continue
		}
		strs := make([]string, 0, len(arr))
		for _, v := range arr {
			s, ok := v.(string)
			if !ok {
				strs = nil
				break
			}
			strs = append(strs, s)
		}
		if strs == nil {
			continue
		}
		sort.Strings(strs)
		for i, s := range strs {
			arr[i] = s
		}
	}
}

func inputErrors(msgs []string) []entity.StatusItem {
	items := make([]entity.StatusItem, len(msgs))
	for i, m := range msgs {
		items[i] = entity.StatusItem{
			Type: entity.StatusTypeProcessing, Level: "error", Message: "InputError: " + m,
			Error: &entity.StatusError{Name: "InputError", Message: m},
		}
	}
	return items
}

func statusError(err error) entity.StatusItem {
	name := "InputError"
	var na *notAllowedError
	switch {
	case errors.As(err, &na):
		name = "NotAllowedError"
	case errors.Is(err, fs.ErrNotExist):
		name = "NotFoundError"
	}
	return entity.StatusItem{
		Type: entity.StatusTypeProcessing, Level: "error", Message: name + ": " + err.Error(),
		Error: &entity.StatusError{Name: name, Message: err.Error()},
	}
}

func problemMessages(ps entity.Problems) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Error()
	}
	return out
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("catalog: encode %T: %v", v, err))
	}
	return b
}

func hashOf(b []byte) string {
	sum := sha1.Sum(b)
	return hex.EncodeToString(sum[:])
}

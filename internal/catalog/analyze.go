package catalog

import (
	"context"
	"errors"
	"io/fs"
	"net/url"
	"path"
	"regexp"
	"strings"

	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/catalog/source"
	"github.com/atrium-dev/atrium/internal/derrors"
	"github.com/atrium-dev/atrium/internal/store"
)

// defaultCatalogFilename is the file analysis looks for in a repository.
const defaultCatalogFilename = "catalog-info.yaml"

var nonName = regexp.MustCompile(`[^a-z0-9]+`)

// AnalyzeLocation looks at a URL before it is registered: a catalog file's
// entities, or, where the URL holds none, a proposed Component for it.
func (s *Service) AnalyzeLocation(ctx context.Context, typ, target, catalogFilename string) (AnalyzeResult, error) {
	if typ == "" {
		typ = "url"
	}
	if err := s.checkLocationInput(typ, target); err != nil {
		return AnalyzeResult{}, err
	}
	if catalogFilename == "" {
		catalogFilename = defaultCatalogFilename
	}
	fileTarget := target
	if ext := strings.ToLower(path.Ext(target)); ext != ".yaml" && ext != ".yml" {
		fileTarget = strings.TrimSuffix(target, "/") + "/" + catalogFilename
	}
	out := AnalyzeResult{ExistingEntityFiles: []AnalyzedFile{}, GenerateEntities: []GeneratedEntity{}}
	files, err := s.readTarget(ctx, typ, fileTarget)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		out.GenerateEntities = append(out.GenerateEntities, proposeComponent(target))
		return out, nil
	case err != nil:
		return AnalyzeResult{}, derrors.Wrap(derrors.ErrInvalid, err, "%s", publicReadError(err))
	}
	_, regErr := s.st.LocationByTarget(ctx, typ, fileTarget)
	registered := regErr == nil
	if regErr != nil && !errors.Is(regErr, store.ErrNotFound) {
		return AnalyzeResult{}, regErr
	}
	for _, f := range files {
		docs, err := source.Parse(f.Path, f.Data)
		if err != nil {
			return AnalyzeResult{}, derrors.Wrap(derrors.ErrInvalid, err, "%s", err.Error())
		}
		for _, d := range docs {
			e, _, problems := s.check(d.Data)
			if e == nil || len(problems) > 0 {
				return AnalyzeResult{}, derrors.Invalid("%s:%d:%d: %s", f.Path, d.Line, d.Column, positioned(d, problems))
			}
			out.ExistingEntityFiles = append(out.ExistingEntityFiles, AnalyzedFile{
				Entity: e, IsRegistered: registered,
				Location: Location{Type: typ, Target: fileTarget},
			})
		}
	}
	return out, nil
}

// proposeComponent suggests a Component for a repository URL that has no
// catalog file, named after its last path segment.
func proposeComponent(target string) GeneratedEntity {
	name := "component"
	if u, err := url.Parse(target); err == nil {
		if base := path.Base(strings.TrimSuffix(u.Path, "/")); base != "." && base != "/" && base != "" {
			name = strings.Trim(nonName.ReplaceAllString(strings.ToLower(strings.TrimSuffix(base, ".git")), "-"), "-")
		}
	}
	if name == "" || !entity.IsValidObjectName(name) {
		name = "component"
	}
	return GeneratedEntity{
		Entity: map[string]any{
			"apiVersion": "backstage.io/v1alpha1",
			"kind":       "Component",
			"metadata":   map[string]any{"name": name, "annotations": map[string]any{}},
			"spec":       map[string]any{"type": "other", "lifecycle": "unknown"},
		},
		Fields: []any{map[string]any{
			"field": "spec.owner", "state": "needsUserInput", "description": "Entity owner",
			"value": nil,
		}},
	}
}

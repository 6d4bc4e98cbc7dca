package techdocs

import (
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/derrors"
	"github.com/atrium-dev/atrium/internal/githost"
)

// docsEntity is what the service reads of an entity.
type docsEntity struct {
	Ref      entity.Ref
	Title    string
	DocsRef  string // the techdocs-ref annotation
	Location string // backstage.io/managed-by-location
	raw      json.RawMessage
}

func parseEntity(raw json.RawMessage) (*docsEntity, error) {
	var e struct {
		Kind     string `json:"kind"`
		Metadata struct {
			Name, Namespace, Title string
			Annotations            map[string]string `json:"annotations"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(raw, &e); err != nil {
		return nil, fmt.Errorf("read entity: %w", err)
	}
	ns := e.Metadata.Namespace
	if ns == "" {
		ns = entity.DefaultNamespace
	}
	d := &docsEntity{Ref: entity.Ref{Kind: e.Kind, Namespace: ns, Name: e.Metadata.Name}, Title: e.Metadata.Title,
		DocsRef: e.Metadata.Annotations[RefAnnotation], Location: e.Metadata.Annotations["backstage.io/managed-by-location"], raw: raw}
	if d.Title == "" {
		d.Title = e.Metadata.Name
	}
	return d, nil
}

// source is where an entity's docs are read from: a local directory, or a
// folder of a repository on Atrium's own git host.
type source struct {
	Dir string
	Git *githost.Location
}

func (s source) String() string {
	if s.Git != nil {
		return fmt.Sprintf("%s/%s at %s, folder /%s", s.Git.Owner, s.Git.Repo, s.Git.Ref, s.Git.Path)
	}
	return s.Dir
}

// resolveSource finds e's docs source from its techdocs-ref annotation,
// relative to the location that declares it, as Backstage does:
// "dir:<path>" is a folder relative to the catalog file, "url:<target>"
// a repository folder.
func (s *Service) resolveSource(e *docsEntity) (source, error) {
	kind, target, ok := strings.Cut(e.DocsRef, ":")
	if e.DocsRef == "" {
		return source{}, derrors.NotFound("%s has no %s annotation", e.Ref, RefAnnotation)
	}
	if !ok || target == "" {
		return source{}, derrors.Invalid("%s: %s %q must be dir:<path> or url:<location>", e.Ref, RefAnnotation, e.DocsRef)
	}
	switch kind {
	case "dir":
		locType, locTarget, _ := strings.Cut(e.Location, ":")
		switch locType {
		case "file":
			if filepath.IsAbs(target) {
				return source{}, derrors.Invalid("%s: %s %q must be relative to the catalog file", e.Ref, RefAnnotation, e.DocsRef)
			}
			return source{Dir: filepath.Join(filepath.Dir(locTarget), filepath.FromSlash(target))}, nil
		case "url":
			base, err := url.Parse(locTarget)
			if err != nil {
				return source{}, derrors.Invalid("%s: location %q is not a URL", e.Ref, locTarget)
			}
			rel, err := url.Parse(strings.TrimSuffix(target, "/") + "/")
			if err != nil || rel.IsAbs() || rel.Host != "" {
				return source{}, derrors.Invalid("%s: %s %q must be a relative path", e.Ref, RefAnnotation, e.DocsRef)
			}
			return s.urlSource(e, base.ResolveReference(rel).String())
		}
		return source{}, derrors.Invalid("%s: docs next to a %q location cannot be read; use url:<location>", e.Ref, locType)
	case "url":
		return s.urlSource(e, target)
	}
	return source{}, derrors.Invalid("%s: %s %q must start with dir: or url:", e.Ref, RefAnnotation, e.DocsRef)
}

// urlSource reads docs from a repository URL: one on Atrium's own git
// host. Other hosts need an integration Atrium does not have; their docs
// are built in CI and published.
func (s *Service) urlSource(e *docsEntity, target string) (source, error) {
	if s.opts.Git != nil {
		loc, ok, err := s.opts.Git.Parse(target)
		if ok {
			if err != nil {
				return source{}, err
			}
			if loc.Ref == "" {
				loc.Ref = "HEAD"
			}
			return source{Git: &loc}, nil
		}
	}
	return source{}, derrors.Invalid("%s: Atrium cannot read docs from %s: build them in CI (atrium docs build, atrium docs publish) and set techdocs.builder to external", e.Ref, redactURL(target))
}

func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	return s
}

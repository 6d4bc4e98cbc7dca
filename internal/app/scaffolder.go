package app

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/atrium-dev/atrium/internal/audit"
	"github.com/atrium-dev/atrium/internal/auth"
	"github.com/atrium-dev/atrium/internal/catalog"
	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/scaffolder/action"
)

// taskCatalog gives the catalog:* actions the catalog, acting for the
// task's creator: with sign-in on, the creator's identity (and so the
// creator's permissions) is rebuilt from the task's createdBy.
type taskCatalog struct {
	c          *catalog.Service
	createdBy  string
	transitive bool
}

// as returns ctx acting for the task's creator.
func (t taskCatalog) as(ctx context.Context) (context.Context, error) {
	actor := audit.ParseActor(t.createdBy)
	switch actor.Kind {
	case "user":
		ref := "user:" + actor.ID
		own, err := t.c.Ownership(ctx, ref, t.transitive)
		if err != nil {
			return nil, err
		}
		return auth.WithIdentity(ctx, auth.User(ref, own)), nil
	case "service":
		return auth.WithIdentity(ctx, auth.Service(actor.ID)), nil
	}
	return audit.WithActor(ctx, actor), nil
}

func (t taskCatalog) EntityByRef(ctx context.Context, ref string) (json.RawMessage, error) {
	r, err := entity.ParseRef(ref, entity.RefDefaults{})
	if err != nil {
		return nil, err
	}
	ctx, err = t.as(ctx)
	if err != nil {
		return nil, err
	}
	return t.c.EntityByRef(ctx, r)
}

// RegisterLocation registers a url location and returns the refs of what
// it emits: read first without registering, as the register page does,
// since registering reports only the location itself.
func (t taskCatalog) RegisterLocation(ctx context.Context, target string) ([]string, error) {
	ctx, err := t.as(ctx)
	if err != nil {
		return nil, err
	}
	preview, err := t.c.AddLocation(ctx, "url", target, catalog.AddLocationOptions{DryRun: true})
	if err != nil {
		return nil, err
	}
	if _, err := t.c.AddLocation(ctx, "url", target, catalog.AddLocationOptions{}); err != nil {
		return nil, err
	}
	var refs []string
	for _, e := range preview.Entities {
		refs = append(refs, strings.ToLower(e.Ref().String()))
	}
	return refs, nil
}

var _ action.Catalog = taskCatalog{}

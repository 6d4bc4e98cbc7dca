package catalog_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/atrium-dev/atrium/internal/catalog"
	"github.com/atrium-dev/atrium/internal/derrors"
	"github.com/atrium-dev/atrium/internal/store/storetest"
)

const orgYAML = `apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: engineering}
spec: {type: department, children: [platform]}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: platform}
spec: {type: team, parent: engineering, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: jane}
spec:
  profile: {email: Jane.Doe@Acme.example}
  memberOf: [platform]
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: twin-a}
spec: {profile: {email: twin@acme.example}, memberOf: []}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: twin-b}
spec: {profile: {email: twin@acme.example}, memberOf: []}
`

func TestFindUserAndOwnership(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng, catalog.Options{})
		e.write("org.yaml", orgYAML)
		e.fileRoot("org.yaml")
		e.sync()
		ctx := context.Background()
		for _, tt := range []struct {
			by, value, want string
			ok              bool
		}{
			{"email", "jane.doe@acme.example", "user:default/jane", true},
			{"email", "JANE.DOE@ACME.EXAMPLE", "user:default/jane", true},
			{"email", "nobody@acme.example", "", false},
			{"name", "Jane", "user:default/jane", true},
			{"name", "platform", "", false}, // a group, not a user
		} {
			ref, ok, err := e.svc.FindUser(ctx, tt.by, tt.value)
			if err != nil || ok != tt.ok || ref != tt.want {
				t.Errorf("FindUser(%s, %s) = %q %v %v, want %q %v", tt.by, tt.value, ref, ok, err, tt.want, tt.ok)
			}
		}
		if _, _, err := e.svc.FindUser(ctx, "email", "twin@acme.example"); !errors.Is(err, derrors.ErrConflict) {
			t.Errorf("two users with one email: err = %v, want a conflict", err)
		}
		got, err := e.svc.Ownership(ctx, "user:default/jane", true)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"group:default/engineering", "group:default/platform", "user:default/jane"}; !cmp.Equal(got, want) {
			t.Errorf("transitive ownership = %v, want %v", got, want)
		}
		got, _ = e.svc.Ownership(ctx, "user:default/jane", false)
		if want := []string{"group:default/platform", "user:default/jane"}; !cmp.Equal(got, want) {
			t.Errorf("direct ownership = %v, want %v", got, want)
		}
	})
}

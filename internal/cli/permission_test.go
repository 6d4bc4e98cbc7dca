package cli_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atrium-dev/atrium/internal/app"
	"github.com/atrium-dev/atrium/internal/config"
)

func TestPermissionCheck(t *testing.T) {
	dir := t.TempDir()
	policy := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(policy, []byte(`rules:
  - name: owners delete
    principals: ["user:*"]
    permissions: [catalog.entity.delete]
    decision: conditional
    conditions: {isEntityOwner: {}}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "app-config.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`backend:
  database: {client: sqlite, connection: {directory: %q}}
catalog:
  rules: [{allow: [Component, API, System, Domain, Resource, Location, User, Group, Template]}]
  locations: [{type: file, target: %q}]
permission: {policy: %q}
`, filepath.Join(dir, "data"), filepath.Join(examplesDir(t), "all.yaml"), policy)), 0o644); err != nil {
		t.Fatal(err)
	}
	// The catalog must hold the example organisation: load it once.
	ingestExamples(t, cfg)

	// liam-oconnor is in storefront-team; shipment-service belongs to shipping-team.
	code, out, errOut := run("permission", "check", "--config", cfg, "--user", "user:default/liam-oconnor",
		"--permission", "catalog.entity.delete", "--entity", "component:default/shipment-service")
	if code != 0 {
		t.Fatalf("check = %d: %s", code, errOut)
	}
	for _, w := range []string{"group:default/storefront-team", "rule:       owners delete", "decision:   CONDITIONAL",
		"on component:default/shipment-service: DENY"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	code, out, _ = run("permission", "check", "--config", cfg, "--service", "ci", "--permission", "catalog.location.create")
	if code != 0 || !strings.Contains(out, "decision:   DENY") || !strings.Contains(out, "none applied; the default decides") {
		t.Errorf("a service with no rule: %d\n%s", code, out)
	}
	if code, _, errOut := run("permission", "check", "--config", cfg, "--user", "user:default/x", "--permission", "catalog.everything"); code == 0 || !strings.Contains(errOut, "not a permission Atrium checks") {
		t.Errorf("an unknown permission: %d %s", code, errOut)
	}
}

// ingestExamples loads the catalog cfg configures, to completion.
func ingestExamples(t *testing.T, cfgPath string) {
	t.Helper()
	ctx := context.Background()
	cfg, err := config.Load([]string{cfgPath}, os.LookupEnv)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.Catalog.SyncConfigLocations(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Catalog.Sync(ctx); err != nil {
		t.Fatal(err)
	}
}

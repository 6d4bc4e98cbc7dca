package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTemplateDryRun(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("template.yaml", `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata: {name: hello}
spec:
  owner: group:default/team-a
  type: service
  parameters:
    - required: [name]
      properties:
        name: {type: string}
  steps:
    - id: fetch
      action: fetch:template
      input:
        url: ./skeleton
        values: {name: "${{ parameters.name }}"}
    - id: publish
      action: publish:git
      input: {repoUrl: "github.com?owner=acme&repo=${{ parameters.name }}"}
    - id: register
      action: catalog:register
      input:
        repoContentsUrl: ${{ steps.publish.output.repoContentsUrl }}
  output:
    links:
      - title: Repository
        url: ${{ steps.publish.output.remoteUrl }}
`)
	write("skeleton/README.md", "# ${{ values.name }}\n")
	write("values.yaml", "name: billing-api\n")

	code, out, errOut := run("template", "dry-run", dir, "--values", filepath.Join(dir, "values.yaml"), "--show-files")
	if code != 0 {
		t.Fatalf("dry-run = %d\n%s%s", code, out, errOut)
	}
	for _, w := range []string{"README.md (", "| # billing-api", "https://github.com/acme/billing-api.git",
		"would register https://github.com/acme/billing-api/tree/main/catalog-info.yaml"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	// A missing required value fails with the field named.
	write("empty.yaml", "{}\n")
	code, _, errOut = run("template", "dry-run", dir, "--values", filepath.Join(dir, "empty.yaml"))
	if code != 1 || !strings.Contains(errOut, "name") {
		t.Errorf("without a required value: %d %s", code, errOut)
	}
}

// TestExampleTemplateDryRun keeps the example template runnable: its
// skeleton renders, and publishing and registering say what they would do.
func TestExampleTemplateDryRun(t *testing.T) {
	values := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(values, []byte(`name: billing-api
description: Bills customers.
owner: group:default/payments-team
system: system:default/shipment-tracking
lifecycle: experimental
repoUrl: github.com?owner=acme-logistics&repo=billing-api
`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run("template", "dry-run", filepath.Join(examplesDir(t), "templates", "service"), "--values", values, "--show-files")
	if code != 0 {
		t.Fatalf("dry-run of the example = %d\n%s%s", code, out, errOut)
	}
	for _, w := range []string{"| metadata:", "|   name: billing-api", "|   owner: group:default/payments-team",
		"would push to git remote remote=https://github.com/acme-logistics/billing-api.git",
		"would register https://github.com/acme-logistics/billing-api/tree/main/catalog-info.yaml"} {
		if !strings.Contains(out, w) {
			t.Errorf("the example's dry run lacks %q:\n%s", w, out)
		}
	}
}

package cli

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/atrium-dev/atrium/internal/githost"
	"github.com/atrium-dev/atrium/internal/scaffolder"
)

func templateCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "template", Short: "Work with software templates"}
	var valuesFile string
	var showFiles bool
	var configs []string
	dryRun := &cobra.Command{
		Use:   "dry-run DIR",
		Short: "Run a template without publishing anything, and show its log, output and files",
		Long: `Run the template in DIR (DIR/template.yaml and the files beside it) with the
values in --values, as a dry run: actions are told so, and publish and
register steps only say what they would do. Prints the log, the output
and the files the template produced; exits 1 if a step fails. For the CI
of repositories that hold templates. With --config, publish:git knows the
portal's own git host (scaffolder.localGit) as serve would.`,
		Example: `  atrium template dry-run examples/templates/service --values values.yaml`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			tmplYAML, err := os.ReadFile(filepath.Join(dir, "template.yaml"))
			if err != nil {
				return err
			}
			var tmpl any
			if err := yaml.Unmarshal(tmplYAML, &tmpl); err != nil {
				return fmt.Errorf("%s: %w", filepath.Join(dir, "template.yaml"), err)
			}
			templateJSON, err := json.Marshal(tmpl)
			if err != nil {
				return err
			}
			values := map[string]any{}
			if valuesFile != "" {
				b, err := os.ReadFile(valuesFile)
				if err != nil {
					return err
				}
				if err := yaml.Unmarshal(b, &values); err != nil {
					return fmt.Errorf("%s: %w", valuesFile, err)
				}
			}
			files := map[string][]byte{}
			err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err != nil || !d.Type().IsRegular() {
					return err
				}
				rel, err := filepath.Rel(dir, p)
				if err != nil || rel == "template.yaml" {
					return err
				}
				b, err := os.ReadFile(p)
				files[filepath.ToSlash(rel)] = b
				return err
			})
			if err != nil {
				return err
			}
			svc := scaffolder.NewService(nil, nil)
			if len(configs) > 0 {
				cfg, err := loadConfig(configs)
				if err != nil {
					return err
				}
				if cfg.Scaffolder.LocalGit.Enabled {
					// A dry run creates nothing: the host only names URLs.
					h, err := githost.New(cfg.LocalGitHost(), cfg.LocalGitDir(), strings.TrimSuffix(cfg.Backend.BaseURL, "/")+"/git")
					if err != nil {
						return err
					}
					svc.SetGit(h)
				}
			}
			res, runErr := svc.DryRun(cmd.Context(), templateJSON, values, files)
			w := cmd.OutOrStdout()
			if res != nil {
				for _, l := range res.Log {
					prefix := l.StepID
					if l.Status != "" {
						prefix += " [" + l.Status + "]"
					}
					fmt.Fprintf(w, "%-24s %s\n", prefix, l.Message)
				}
				if res.Output != nil {
					out, _ := json.MarshalIndent(res.Output, "", "  ")
					fmt.Fprintf(w, "\noutput:\n%s\n", out)
				}
				names := make([]string, 0, len(res.Files))
				for n := range res.Files {
					names = append(names, n)
				}
				sort.Strings(names)
				fmt.Fprintf(w, "\nfiles (%d):\n", len(names))
				for _, n := range names {
					fmt.Fprintf(w, "  %s (%d bytes)\n", n, len(res.Files[n]))
					if showFiles {
						for line := range strings.SplitSeq(strings.TrimRight(string(res.Files[n]), "\n"), "\n") {
							fmt.Fprintf(w, "    | %s\n", line)
						}
					}
				}
			}
			if runErr != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), "atrium: the dry run failed:", runErr)
				return exitError{1}
			}
			return nil
		},
	}
	dryRun.Flags().StringVar(&valuesFile, "values", "", "YAML file of the form's values")
	dryRun.Flags().StringArrayVar(&configs, "config", nil, "app-config.yaml file, as given to serve (repeatable)")
	dryRun.Flags().BoolVar(&showFiles, "show-files", false, "print the produced files' contents too")
	cmd.AddCommand(dryRun)
	return cmd
}

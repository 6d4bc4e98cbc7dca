package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/atrium-dev/atrium/internal/app"
	"github.com/atrium-dev/atrium/internal/techdocs"
	"github.com/atrium-dev/atrium/internal/techdocs/build"
	"github.com/atrium-dev/atrium/internal/techdocs/publish"
)

// docsCmd is the CI side of TechDocs, as techdocs-cli's generate and
// publish: build a site from mkdocs.yml and Markdown, and publish it where
// the portal (techdocs.builder: external) reads it.
func docsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "docs", Short: "Build and publish TechDocs sites (the CI side of techdocs.builder: external)"}

	var sourceDir, outputDir, siteName, etag string
	var quiet bool
	buildCmd := &cobra.Command{
		Use:   "build",
		Short: "Build a docs site from mkdocs.yml and Markdown, without Python",
		Long: `Build the docs in --source-dir (mkdocs.yml and its docs_dir, or docs/index.md,
or README.md) into --output-dir, in the layout the portal serves: one
folder per page, techdocs_metadata.json and the search index. The same
build the portal runs with techdocs.builder: local.`,
		Example: `  atrium docs build --source-dir examples/docs/shipment-service --output-dir ./site`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			start := time.Now()
			log := func(string) {}
			if !quiet {
				log = func(l string) { fmt.Fprintln(cmd.ErrOrStderr(), l) }
			}
			res, err := build.Build(cmd.Context(), sourceDir, outputDir, build.Options{
				Renderer: techdocs.Renderer, SiteName: siteName, Etag: etag, Log: log,
			})
			if err != nil {
				return err
			}
			if quiet { // otherwise the build's log has shown them
				for _, w := range res.Warnings {
					fmt.Fprintln(cmd.ErrOrStderr(), "warning:", w)
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Built %q: %d pages, %d files in %s (etag %s) in %s\n",
				res.Site.SiteName, res.Pages, res.Files, outputDir, res.Etag, time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
	buildCmd.Flags().StringVar(&sourceDir, "source-dir", ".", "the folder holding mkdocs.yml (or docs/)")
	buildCmd.Flags().StringVar(&outputDir, "output-dir", "./site", "where to write the site (replaced)")
	buildCmd.Flags().StringVar(&siteName, "site-name", "", "the site's name when there is no mkdocs.yml")
	buildCmd.Flags().StringVar(&etag, "etag", "", "identifies the source, e.g. the commit hash (default: a digest of the sources)")
	buildCmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print only the result")

	var entityName, directory, publisherType string
	var configs []string
	publishCmd := &cobra.Command{
		Use:   "publish",
		Short: "Publish a built site to the configured techdocs.publisher",
		Long: `Upload the site in --directory for --entity (namespace/Kind/name) to the
store techdocs.publisher configures (read from --config, as serve reads
it), then remove files a previous publish left. The portal serves it at
once.`,
		Example: `  atrium docs publish --entity default/Component/shipment-service --directory ./site --config app-config.yaml`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			parts := strings.Split(entityName, "/")
			if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
				return fmt.Errorf("--entity: want namespace/Kind/name, got %q", entityName)
			}
			cfg, err := loadConfig(configs)
			if err != nil {
				return err
			}
			pc := app.PublisherConfig(cfg)
			if publisherType != "" {
				pc.Type = publisherType
			}
			pub, err := publish.New(cmd.Context(), pc)
			if err != nil {
				return err
			}
			defer pub.Close()
			bar := newProgressBar(cmd.ErrOrStderr(), "Publishing")
			ctx := publish.WithProgress(cmd.Context(), bar.set)
			res, err := pub.Publish(ctx, publish.Entity{Namespace: parts[0], Kind: parts[1], Name: parts[2]}, directory)
			bar.done()
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Published %s: %d files, %d bytes, %d stale files removed\n", entityName, res.Uploaded, res.Bytes, res.Deleted)
			return nil
		},
	}
	publishCmd.Flags().StringVar(&entityName, "entity", "", "the entity the docs belong to: namespace/Kind/name (required)")
	publishCmd.Flags().StringVar(&directory, "directory", "./site", "the built site")
	publishCmd.Flags().StringVar(&publisherType, "publisher-type", "", "override techdocs.publisher.type: local, awsS3, googleGcs or azureBlobStorage")
	publishCmd.Flags().StringArrayVar(&configs, "config", nil, "app-config.yaml file, as given to serve (repeatable)")
	_ = publishCmd.MarkFlagRequired("entity")

	cmd.AddCommand(buildCmd, publishCmd)
	return cmd
}

// progressBar draws "Publishing [=====>    ] 12/40" on one line of w.
type progressBar struct {
	mu    sync.Mutex
	w     io.Writer
	label string
	drawn bool
	tty   bool
	last  [2]int
}

// newProgressBar draws on w when it is a terminal; elsewhere (a CI log)
// it prints the final count only.
func newProgressBar(w io.Writer, label string) *progressBar {
	p := &progressBar{w: w, label: label}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

const progressWidth = 30

func (p *progressBar) set(done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if total <= 0 {
		return
	}
	p.last = [2]int{done, total}
	if !p.tty {
		return
	}
	filled := progressWidth * done / total
	bar := strings.Repeat("=", filled)
	if filled < progressWidth {
		bar += ">" + strings.Repeat(" ", progressWidth-filled-1)
	}
	fmt.Fprintf(p.w, "\r%s [%s] %d/%d", p.label, bar, done, total)
	p.drawn = true
}

// done ends the bar's line.
func (p *progressBar) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.drawn:
		fmt.Fprintln(p.w)
	case p.last[1] > 0:
		fmt.Fprintf(p.w, "%s: %d/%d files\n", p.label, p.last[0], p.last[1])
	}
}

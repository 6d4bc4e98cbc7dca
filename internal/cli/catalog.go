package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/spf13/cobra"

	"github.com/atrium-dev/atrium/internal/catalog"
	"github.com/atrium-dev/atrium/internal/catalog/source"
)

// maxValidateFile bounds a file read by catalog validate.
const maxValidateFile = 10 << 20

func catalogCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "catalog", Short: "Work with catalog files"}
	cmd.AddCommand(&cobra.Command{
		Use:   "validate PATH...",
		Short: "Validate catalog files offline, as ingestion would",
		Long: `Validate catalog-info.yaml files (or every .yaml/.yml file under a
directory) with the rules ingestion applies. Prints file:line:col: message for
each problem and exits 1 if there is any. In a directory, YAML files with no
document that has both apiVersion and kind (mkdocs.yml, app-config.yaml) are
not catalog files and are skipped.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			files, err := expand(args)
			if err != nil {
				return err
			}
			problems, checked := 0, 0
			for _, f := range files {
				data, err := readLimited(f.path)
				if err != nil {
					fmt.Fprintf(cmd.OutOrStdout(), "%s:1:1: %v\n", f.path, err)
					problems++
					continue
				}
				if !f.named && !looksLikeCatalogFile(f.path, data) {
					continue
				}
				checked++
				for _, d := range catalog.ValidateFile(nil, f.path, data) {
					fmt.Fprintln(cmd.OutOrStdout(), d.String())
					problems++
				}
			}
			if problems > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "%d problem(s) in %d file(s)\n", problems, checked)
				return exitError{code: 1}
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%d file(s) valid\n", checked)
			return nil
		},
	})
	return cmd
}

// inputFile is a file to validate; named files were given on the command
// line, the others found in a directory.
type inputFile struct {
	path  string
	named bool
}

// expand turns directories into the YAML files below them.
func expand(args []string) ([]inputFile, error) {
	var out []inputFile
	for _, a := range args {
		info, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			out = append(out, inputFile{path: a, named: true})
			continue
		}
		err = filepath.WalkDir(a, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if ext := filepath.Ext(p); !d.IsDir() && (ext == ".yaml" || ext == ".yml") {
				out = append(out, inputFile{path: p})
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out, nil
}

// looksLikeCatalogFile reports whether a file found in a directory holds
// entities: some document with both apiVersion and kind. A file that does
// not parse is treated as one, so its syntax error is reported, unless it
// holds template expressions: then it is a software template's skeleton
// (catalog-info.yaml with ${{ values.name }}), a catalog file only once
// rendered.
func looksLikeCatalogFile(path string, data []byte) bool {
	docs, err := source.Parse(path, data)
	if err != nil {
		return !bytes.Contains(data, []byte("${{")) && !bytes.Contains(data, []byte("{%"))
	}
	for _, d := range docs {
		_, hasAPI := d.Data["apiVersion"]
		_, hasKind := d.Data["kind"]
		if hasAPI && hasKind {
			return true
		}
	}
	return false
}

func readLimited(path string) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if info.Size() > maxValidateFile {
		return nil, fmt.Errorf("file is %d bytes, over the limit of %d", info.Size(), maxValidateFile)
	}
	return os.ReadFile(path)
}

package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/spf13/cobra"

	"github.com/atrium-dev/atrium/internal/catalog"
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
each problem and exits 1 if there is any.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			files, err := expand(args)
			if err != nil {
				return err
			}
			problems := 0
			for _, f := range files {
				data, err := readLimited(f)
				if err != nil {
					fmt.Fprintf(cmd.OutOrStdout(), "%s:1:1: %v\n", f, err)
					problems++
					continue
				}
				for _, d := range catalog.ValidateFile(nil, f, data) {
					fmt.Fprintln(cmd.OutOrStdout(), d.String())
					problems++
				}
			}
			if problems > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "%d problem(s) in %d file(s)\n", problems, len(files))
				return exitError{code: 1}
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%d file(s) valid\n", len(files))
			return nil
		},
	})
	return cmd
}

// expand turns directories into the YAML files below them.
func expand(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		info, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			out = append(out, a)
			continue
		}
		err = filepath.WalkDir(a, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if ext := filepath.Ext(p); !d.IsDir() && (ext == ".yaml" || ext == ".yml") {
				out = append(out, p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(out)
	return out, nil
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

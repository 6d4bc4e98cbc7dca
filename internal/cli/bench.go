package cli

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/atrium-dev/atrium/internal/bench"
)

func benchCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "bench", Short: "Benchmark ingestion and queries on a synthetic organisation"}
	var components, iterations int
	var seed int64
	var dir, cpuProfile, pgURL string
	var replicas int
	var verbose bool
	auditOn := true
	ingest := func(cmd *cobra.Command) (string, error) {
		d := dir
		if d == "" {
			tmp, err := os.MkdirTemp("", "atrium-bench-")
			if err != nil {
				return "", err
			}
			d = tmp
		} else if entries, err := os.ReadDir(d); err == nil && len(entries) > 0 {
			return "", fmt.Errorf("--dir %s is not empty", d)
		}
		opts := bench.IngestOptions{Components: components, Seed: seed, Dir: d, Progress: cmd.ErrOrStderr(),
			Postgres: pgURL, Replicas: replicas, NoAudit: !auditOn}
		if verbose {
			opts.Logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelDebug}))
		}
		rep, err := bench.Ingest(cmd.Context(), opts)
		if err != nil {
			return d, err
		}
		w := cmd.OutOrStdout()
		if pgURL != "" {
			fmt.Fprintf(w, "database:              PostgreSQL, %d replica(s)\n", max(replicas, 1))
		} else {
			fmt.Fprintf(w, "database:              SQLite\n")
		}
		fmt.Fprintf(w, "components:            %d\n", rep.Components)
		fmt.Fprintf(w, "entities:              %d\n", rep.Entities)
		fmt.Fprintf(w, "queryable after:       %.2f s\n", rep.QueryableSeconds)
		fmt.Fprintf(w, "entities/s:            %.0f\n", rep.EntitiesPerSec)
		fmt.Fprintf(w, "peak RSS:              %.0f MiB\n", rep.PeakRSSMiB)
		fmt.Fprintf(w, "audit events:          %d\n", rep.AuditEvents)
		return d, nil
	}
	ingestCmd := &cobra.Command{
		Use:   "ingest",
		Short: "Generate an organisation and time its ingestion into a fresh database (SQLite, or PostgreSQL with --postgres)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return err
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return err
				}
				defer pprof.StopCPUProfile()
			}
			d, err := ingest(cmd)
			if dir == "" && d != "" {
				defer os.RemoveAll(d)
			}
			return err
		},
	}
	queryCmd := &cobra.Command{
		Use:   "query",
		Short: "Time by-name, by-query, relation-filter and facet requests (ingesting first unless --dir holds a database)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d := dir
			if pgURL != "" {
				// Ingest when asked to size the catalog, else reuse the last one.
				if cmd.Flags().Changed("components") {
					var err error
					if d, err = ingest(cmd); err != nil {
						return err
					}
					if dir == "" {
						defer os.RemoveAll(d)
					}
				}
			} else if _, err := os.Stat(filepath.Join(dir, "atrium.sqlite")); dir == "" || err != nil {
				var err error
				if d, err = ingest(cmd); err != nil {
					return err
				}
				if dir == "" {
					defer os.RemoveAll(d)
				}
			}
			res, err := bench.Query(cmd.Context(), bench.QueryOptions{Dir: d, Postgres: pgURL, Iterations: iterations, Seed: seed})
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "query\tfirst (cold)\tp50\tp99\tmax")
			for _, r := range res {
				fmt.Fprintf(tw, "%s\t%.2f ms\t%.2f ms\t%.2f ms\t%.2f ms\n", r.Name, ms(r.First), ms(r.P50), ms(r.P99), ms(r.Max))
			}
			return tw.Flush()
		},
	}
	for _, c := range []*cobra.Command{ingestCmd, queryCmd} {
		c.Flags().IntVar(&components, "components", 10000, "number of components to generate")
		c.Flags().Int64Var(&seed, "seed", 1, "random seed of the generated organisation")
		c.Flags().BoolVar(&verbose, "verbose", false, "log the duration of every processing and stitching round to stderr")
		c.Flags().StringVar(&dir, "dir", "", "folder for the generated files and database (default: a temporary folder, removed afterwards)")
		c.Flags().StringVar(&pgURL, "postgres", "", "PostgreSQL URL to benchmark instead of SQLite; works in the schema "+bench.BenchSchema+", which ingest empties first")
	}
	ingestCmd.Flags().IntVar(&replicas, "replicas", 1, "catalog services sharing the PostgreSQL database, each with its own connection pool")
	ingestCmd.Flags().BoolVar(&auditOn, "audit", true, "record changes in the audit log (--audit=false measures ingestion without it)")
	ingestCmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file")
	queryCmd.Flags().IntVar(&iterations, "iterations", 1000, "requests per query kind")
	var events int
	auditCmd := &cobra.Command{
		Use:   "audit",
		Short: "Fill an audit log with synthetic events and time filtered pages and histories",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d := dir
			if d == "" {
				tmp, err := os.MkdirTemp("", "atrium-bench-")
				if err != nil {
					return err
				}
				defer os.RemoveAll(tmp)
				d = tmp
			}
			rep, err := bench.Audit(cmd.Context(), bench.AuditOptions{Events: events, Seed: seed, Dir: d, Postgres: pgURL,
				Iterations: iterations, Progress: cmd.ErrOrStderr()})
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "events:                %d\n", rep.Events)
			fmt.Fprintf(w, "appended in:           %.1f s (%.0f events/s)\n", rep.AppendSeconds, rep.EventsPerSec)
			fmt.Fprintf(w, "chain verified in:     %.1f s\n", rep.VerifySeconds)
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "query\tfirst (cold)\tp50\tp99\tmax")
			for _, r := range rep.Queries {
				fmt.Fprintf(tw, "%s\t%.2f ms\t%.2f ms\t%.2f ms\t%.2f ms\n", r.Name, ms(r.First), ms(r.P50), ms(r.P99), ms(r.Max))
			}
			return tw.Flush()
		},
	}
	auditCmd.Flags().IntVar(&events, "events", 1000000, "number of audit events to generate")
	auditCmd.Flags().Int64Var(&seed, "seed", 1, "random seed")
	auditCmd.Flags().StringVar(&dir, "dir", "", "folder for the database (default: a temporary folder, removed afterwards)")
	auditCmd.Flags().StringVar(&pgURL, "postgres", "", "PostgreSQL URL to benchmark instead of SQLite; works in the schema "+bench.BenchSchema+", which it empties first")
	auditCmd.Flags().IntVar(&iterations, "iterations", 200, "requests per query kind")
	cmd.AddCommand(ingestCmd, queryCmd, auditCmd)
	return cmd
}

func ms(d interface{ Seconds() float64 }) float64 { return d.Seconds() * 1000 }

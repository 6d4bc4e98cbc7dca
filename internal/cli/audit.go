package cli

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/atrium-dev/atrium/internal/app"
	"github.com/atrium-dev/atrium/internal/audit"
)

func auditCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Check and export the audit log"}
	var configs, expects []string
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Walk the audit log's hash chain and report the first broken link",
		Long: `Walk the audit log's hash chain, from its oldest event to its head, and
report the first broken link: an event changed, deleted, inserted or
reordered since it was written. Give it the same --config files as serve.

--expect SEQ:HASH (repeatable) also checks that the chain still passes
through a signed checkpoint taken from the logs ("audit checkpoint" lines),
which proves that nothing before it was rewritten, chain and all.

Exits 1 if the chain is broken.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			expect := map[int64]string{}
			for _, x := range expects {
				seq, hash, ok := strings.Cut(x, ":")
				n, err := strconv.ParseInt(seq, 10, 64)
				if !ok || err != nil || n < 1 || len(hash) != 64 {
					return fmt.Errorf("--expect %q: want SEQ:HASH, e.g. 1200:%s", x, strings.Repeat("ab", 32))
				}
				expect[n] = strings.ToLower(hash)
			}
			cfg, err := loadConfig(configs)
			if err != nil {
				return err
			}
			st, err := app.OpenStore(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer st.Close()
			v, err := audit.Verify(cmd.Context(), st, expect)
			var br *audit.Break
			if errors.As(err, &br) {
				fmt.Fprintf(cmd.ErrOrStderr(), "audit log BROKEN at event %d: %s\n", br.Seq, br.Reason)
				fmt.Fprintf(cmd.ErrOrStderr(), "(events %d to %d verified before it)\n", v.From, v.To)
				return exitError{1}
			}
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if v.Events == 0 {
				fmt.Fprintln(w, "audit log verified: it holds no events")
				return nil
			}
			fmt.Fprintf(w, "audit log verified: %d events, %d to %d, head %s\n", v.Events, v.From, v.To, v.Head)
			if len(expect) > 0 {
				fmt.Fprintf(w, "the chain passes through all %d checkpoints given\n", len(expect))
			}
			return nil
		},
	}
	verify.Flags().StringArrayVar(&expects, "expect", nil, "SEQ:HASH of a checkpoint the chain must still pass through (repeatable)")

	var after int64
	var out string
	export := &cobra.Command{
		Use:   "export",
		Short: "Write the audit log as JSON lines, oldest first",
		Long: `Write every audit event with a seq above --after as one JSON object per
line, oldest first, to stdout or --out (appended to). Give it the same
--config files as serve. For a continuous feed, configure audit.sink.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(configs)
			if err != nil {
				return err
			}
			st, err := app.OpenStore(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer st.Close()
			var w io.Writer = cmd.OutOrStdout()
			if out != "" {
				f, err := audit.OpenFileSink(out)
				if err != nil {
					return err
				}
				defer f.Close()
				w = f
			}
			last, err := audit.Export(cmd.Context(), st, after, w)
			if err != nil {
				return err
			}
			if out != "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "wrote events up to %d to %s\n", last, out)
			}
			return nil
		},
	}
	export.Flags().Int64Var(&after, "after", 0, "export only events with a greater seq")
	export.Flags().StringVar(&out, "out", "", "append to this file instead of writing to stdout")
	for _, c := range []*cobra.Command{verify, export} {
		c.Flags().StringArrayVar(&configs, "config", nil, "app-config.yaml file, as given to serve (repeatable)")
	}
	cmd.AddCommand(verify, export)
	return cmd
}

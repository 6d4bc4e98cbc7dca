package cli

import (
	"github.com/spf13/cobra"

	"github.com/atrium-dev/atrium/internal/app"
)

func serveCmd() *cobra.Command {
	var configs []string
	var logFormat, logLevel string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run Atrium: the catalog API and its ingestion loop",
		Long: `Run Atrium. With no --config it uses SQLite in ./data, loads the example
catalog from ./examples and listens on :7007. Several --config files
deep-merge, later ones winning; ${VAR} is substituted from the environment.
SIGTERM or Ctrl-C shuts down gracefully.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := newLogger(cmd.ErrOrStderr(), logFormat, logLevel)
			if err != nil {
				return err
			}
			cfg, err := loadConfig(configs)
			if err != nil {
				return err
			}
			a, err := app.New(cmd.Context(), cfg, log)
			if err != nil {
				return err
			}
			return a.Run(cmd.Context(), nil)
		},
	}
	cmd.Flags().StringArrayVar(&configs, "config", nil, "app-config.yaml file (repeatable; later files win)")
	cmd.Flags().StringVar(&logFormat, "log-format", "text", "log format: text or json")
	cmd.Flags().StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error")
	return cmd
}

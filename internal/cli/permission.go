package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

	"github.com/atrium-dev/atrium/internal/app"
	"github.com/atrium-dev/atrium/internal/auth"
	"github.com/atrium-dev/atrium/internal/catalog"
	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/derrors"
	"github.com/atrium-dev/atrium/internal/permission"
)

func permissionCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "permission", Short: "Explain permission decisions"}
	var configs []string
	var user, service, perm, ref string
	check := &cobra.Command{
		Use:   "check",
		Short: "Say what the policy decides for a user or service, and which rule decided",
		Long: `Say what the permission policy (permission.policy, or the default policy)
decides for a user or a service token's subject, and which rule decided.
A user's ownership refs are read from the catalog, as sign-in computes
them. With --entity, a conditional decision is evaluated on that entity.
Give it the same --config files as serve.`,
		Example: `  atrium permission check --config app-config.yaml --user user:default/jane --permission catalog.entity.delete --entity component:default/shipment-service`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, ok := permission.Lookup(perm)
			if !ok {
				var names []string
				for _, r := range permission.Registered() {
					names = append(names, r.Name)
				}
				return fmt.Errorf("--permission %q is not a permission Atrium checks; known: %s", perm, strings.Join(names, ", "))
			}
			if (user == "") == (service == "") {
				return errors.New("give exactly one of --user user:<namespace>/<name> and --service <subject>")
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
			svc := catalog.New(st, catalog.Options{Logger: slog.New(slog.DiscardHandler)})
			ctx := cmd.Context()
			var id auth.Identity
			if user != "" {
				r, err := entity.ParseRef(user, entity.RefDefaults{Kind: "user", Namespace: entity.DefaultNamespace})
				if err != nil {
					return fmt.Errorf("--user: %w", err)
				}
				own, err := svc.Ownership(ctx, r.Key(), cfg.Auth.TransitiveGroups)
				if err != nil {
					return err
				}
				id = auth.User(r.Key(), own)
			} else {
				id = auth.Service(service)
			}
			var pol *permission.Policy
			if cfg.Permission.Policy != "" {
				if pol, err = permission.Load(cfg.Permission.Policy); err != nil {
					return err
				}
			}
			d := pol.Decide(id, p)
			w := cmd.OutOrStdout()
			who := id.Actor().String()
			if id.Kind == auth.KindUser {
				who += " (owns through " + strings.Join(id.OwnershipRefs, ", ") + ")"
			}
			fmt.Fprintf(w, "principal:  %s\n", who)
			fmt.Fprintf(w, "permission: %s\n", p.Name)
			policyName := "the default policy"
			if pol != nil {
				policyName = cfg.Permission.Policy
			}
			rule := d.Rule
			if rule == permission.DefaultRule {
				rule = "none applied; the default decides"
			}
			fmt.Fprintf(w, "rule:       %s (%s)\n", rule, policyName)
			fmt.Fprintf(w, "decision:   %s\n", d.Result)
			if d.Reason != "" {
				fmt.Fprintf(w, "why:        %s\n", d.Reason)
			}
			if d.Result != permission.Conditional {
				return nil
			}
			cond, _ := json.Marshal(d.Conditions)
			fmt.Fprintf(w, "conditions: %s\n", cond)
			if ref == "" {
				fmt.Fprintln(w, "give --entity to evaluate them on an entity")
				return nil
			}
			r, err := entity.ParseRef(ref, entity.RefDefaults{Namespace: entity.DefaultNamespace})
			if err != nil {
				return fmt.Errorf("--entity: %w", err)
			}
			body, err := svc.EntityByRef(ctx, r)
			if errors.Is(err, derrors.ErrNotFound) {
				return fmt.Errorf("--entity %s is not in the catalog", r.Key())
			}
			if err != nil {
				return err
			}
			var e entity.Entity
			if err := json.Unmarshal(body, &e); err != nil {
				return err
			}
			ok, err = d.Conditions.Matches(id, &e)
			if err != nil {
				return err
			}
			result := permission.Deny
			if ok {
				result = permission.Allow
			}
			fmt.Fprintf(w, "on %s: %s (the conditions %s)\n", r.Key(), result, map[bool]string{true: "hold", false: "do not hold"}[ok])
			return nil
		},
	}
	check.Flags().StringArrayVar(&configs, "config", nil, "app-config.yaml file, as given to serve (repeatable)")
	check.Flags().StringVar(&user, "user", "", "the user, e.g. user:default/jane")
	check.Flags().StringVar(&service, "service", "", "a service token's subject (backend.auth.externalAccess)")
	check.Flags().StringVar(&perm, "permission", "", "the permission, e.g. catalog.entity.delete")
	check.Flags().StringVar(&ref, "entity", "", "the entity a conditional decision is evaluated on")
	_ = check.MarkFlagRequired("permission")
	cmd.AddCommand(check)
	return cmd
}

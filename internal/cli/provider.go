package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/slickenv/slickenv/internal/config"
	"github.com/slickenv/slickenv/internal/provider/postgres"
	"github.com/slickenv/slickenv/internal/secret"
)

func newProviderCommand(a *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "provider",
		Short: "Prepare a provider's source for rotation",
	}
	cmd.AddCommand(newProviderSetupCommand(a))
	return cmd
}

func newProviderSetupCommand(a *App) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "setup postgres [NAME]",
		Short: "Create the roles a provider rotates between (idempotent)",
		Long: `setup postgres creates, with the admin connection of secrets.NAME.with.admin_url,
the group role and the two login roles of secrets.NAME.with (NOLOGIN, members of
the group), and makes an existing role a member of the group. It never sets a
password and never grants privileges on tables. Running it again changes
nothing. NAME may be left out when one secret uses the postgres provider.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if args[0] != postgres.Kind {
				return usageErrorf("provider setup supports postgres only, not %q", args[0])
			}
			name := ""
			if len(args) == 2 {
				name = args[1]
			}
			return runProviderSetupPostgres(cmd, a, name, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print what was created as JSON")
	return cmd
}

func runProviderSetupPostgres(cmd *cobra.Command, a *App, name string, asJSON bool) error {
	ctx := cmd.Context()
	cfg, err := a.Config()
	if err != nil {
		return err
	}
	if name == "" {
		var found []string
		for _, n := range cfg.SecretNames() {
			if cfg.Secrets[n].Provider == postgres.Kind {
				found = append(found, n)
			}
		}
		if len(found) != 1 {
			return usageErrorf("name the secret to set up: %d secrets use provider postgres (%s)", len(found), strings.Join(found, ", "))
		}
		name = found[0]
	}
	sec, ok := cfg.Secrets[name]
	if !ok || sec.Provider != postgres.Kind {
		return usageErrorf("secrets.%s in %s does not use provider postgres", name, config.FileName)
	}
	env, err := a.OpenEnv(ctx, true)
	if err != nil {
		return err
	}
	settings := sec.With
	if refs := config.SettingsRefs(sec.With); len(refs) > 0 {
		vals := map[string]string{}
		for _, ref := range refs {
			v, _, err := env.Get(ctx, ref, 0)
			if err != nil {
				return fmt.Errorf("secrets.%s.with refers to ${%s}: %w", name, ref, err)
			}
			vals[ref] = v.Reveal()
		}
		settings, err = config.ExpandSettings(sec.With, func(n string) (string, bool) { v, ok := vals[n]; return v, ok })
		if err != nil {
			return fmt.Errorf("secrets.%s.with: %w", name, err)
		}
	}
	// Validate every setting the way rotate will, then use the ones setup needs.
	p, err := postgres.New(settings)
	if err != nil {
		return fmt.Errorf("secrets.%s: %w", name, err)
	}
	adminURL, _ := settings["admin_url"].(string)
	group, _ := settings["group"].(string)
	roles := p.(*postgres.Provider).Roles()
	res, err := postgres.Setup(ctx, secret.New(adminURL), group, roles)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(a.Stdout, map[string]any{"env": env.Name(), "name": name, "group": group, "roles": roles,
			"created": nonNil(res.Created), "granted": nonNil(res.Granted)})
	}
	for _, r := range res.Created {
		fmt.Fprintf(a.Stdout, "created role %s\n", r)
	}
	for _, r := range res.Granted {
		fmt.Fprintf(a.Stdout, "granted %s to %s\n", group, r)
	}
	if len(res.Created) == 0 && len(res.Granted) == 0 {
		fmt.Fprintf(a.Stdout, "roles %s and %s are ready: nothing to do\n", roles[0], roles[1])
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

package forgecli

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/catalyst-forge/forge/adapters/onprem/oidcauth"
	"github.com/catalyst-forge/forge/domain/identity"
)

func newDev(s streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Tools for running the platform on one machine",
	}
	cmd.AddCommand(newDevToken(s))
	return cmd
}

// defaultDevKey is where the local profile keeps its development signing key.
func defaultDevKey() string {
	if v := os.Getenv("FORGE_DEV_KEY"); v != "" {
		return v
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		dir = "."
	}
	return filepath.Join(dir, "forge", "dev-key.pem")
}

func newDevToken(s streams) *cobra.Command {
	var keyFile, subject string
	var roles []string
	var ttl time.Duration
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Print a token signed by the development issuer",
		Long: `token signs a bearer token with the development key that
'forge-api serve --auth dev --dev-key FILE' trusts (the key is created if
FILE does not exist). Use it for a server on this machine:

  export FORGE_TOKEN=$(forge dev token --role operator --subject alice)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var rs []identity.Role
			for _, r := range roles {
				role := identity.Role(r)
				if !role.Valid() {
					return &exitError{code: ExitUsage, msg: fmt.Sprintf("unknown role %q (use developer, approver, operator or service-account)", r)}
				}
				rs = append(rs, role)
			}
			if ttl <= 0 || ttl > 30*24*time.Hour {
				return &exitError{code: ExitUsage, msg: "--ttl must be between 1s and 720h"}
			}
			issuer, err := oidcauth.LoadOrCreateDevKey(keyFile)
			if err != nil {
				return failed("%v", err)
			}
			tok, err := issuer.Token(subject, rs, ttl)
			if err != nil {
				return failed("%v", err)
			}
			fmt.Fprintln(s.out, tok)
			return nil
		},
	}
	cmd.Flags().StringVar(&keyFile, "dev-key", defaultDevKey(), "development signing key (env FORGE_DEV_KEY); created if missing")
	cmd.Flags().StringSliceVar(&roles, "role", []string{"developer"}, "platform role(s): developer, approver, operator, service-account")
	cmd.Flags().StringVar(&subject, "subject", envOr("USER", "developer"), "who the token names")
	cmd.Flags().DurationVar(&ttl, "ttl", 12*time.Hour, "how long the token is valid")
	return cmd
}

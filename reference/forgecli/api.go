package forgecli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/reference/envdefault"
	httptransport "github.com/catalyst-forge/forge/transport/http"
)

// DefaultServer is the API address when neither --server nor FORGE_SERVER
// says otherwise: where 'forge-api serve' and 'forge dev up' listen.
const DefaultServer = "http://127.0.0.1:8080"

// apiOptions are the flags every command that talks to the API shares.
type apiOptions struct {
	server    string
	tokenFile string
	output    string
}

func (o *apiOptions) flags(f *pflag.FlagSet) {
	f.StringVar(&o.server, "server", envdefault.String("FORGE_SERVER", DefaultServer), "API address (env FORGE_SERVER)")
	f.StringVar(&o.tokenFile, "token-file", os.Getenv("FORGE_TOKEN_FILE"), "file holding the bearer token (env FORGE_TOKEN_FILE); FORGE_TOKEN holds the token itself")
	f.StringVarP(&o.output, "output", "o", "table", "output format: table or json")
}

// client builds the API client from the flags and the environment.
func (o *apiOptions) client() (*httptransport.Client, error) {
	if err := checkOutput(o.output, "table", "json"); err != nil {
		return nil, err
	}
	token := strings.TrimSpace(os.Getenv("FORGE_TOKEN"))
	if o.tokenFile != "" {
		b, err := os.ReadFile(o.tokenFile)
		if err != nil {
			return nil, failed("reading the token file: %v", err)
		}
		token = strings.TrimSpace(string(b))
	}
	if token == "" {
		return nil, failed("no token: set FORGE_TOKEN or pass --token-file (for a local server: forge dev token --role developer)")
	}
	return &httptransport.Client{BaseURL: o.server, Token: token}, nil
}

// repoClient is client for commands about one repository: it first
// checks that the repository is known.
func (o *apiOptions) repoClient(repo string) (*httptransport.Client, error) {
	if repo == "" {
		return nil, &exitError{code: ExitUsage, msg: "which repository? pass --repository owner/name or set FORGE_REPOSITORY"}
	}
	return o.client()
}

// apiError prints what the API said and exits 1.
func apiError(err error) error {
	var fe *fault.Error
	if errors.As(err, &fe) {
		msg := fe.Error()
		if c, ok := fe.Details["candidates"].([]any); ok {
			for _, x := range c {
				msg += fmt.Sprintf("\n  candidate: %v", x)
			}
		}
		return failed("%s (%s)", msg, fe.Kind)
	}
	return failed("%v", err)
}

// print writes v as JSON, or calls table for the table form.
func (o *apiOptions) print(w io.Writer, v any, table func(*tabwriter.Writer)) error {
	if o.output == "json" {
		return writeJSON(w, v)
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	table(tw)
	return tw.Flush()
}

// repositoryFlag adds --repository with its FORGE_REPOSITORY fallback.
func repositoryFlag(cmd *cobra.Command, into *string) {
	cmd.Flags().StringVarP(into, "repository", "r", os.Getenv("FORGE_REPOSITORY"), "repository as owner/name (env FORGE_REPOSITORY)")
}

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

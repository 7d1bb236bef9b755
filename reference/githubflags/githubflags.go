// Package githubflags holds the command-line flags that point forge-api and
// forge-dispatcher at GitHub for commit statuses and pull request
// summaries (adapters/onprem/githubstatus), and builds the reporter from
// them: a token or a GitHub App key, each read from a secret reference.
package githubflags

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/catalyst-forge/forge/adapters/onprem/githubstatus"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/ports"
	"github.com/catalyst-forge/forge/reference/envdefault"
	"github.com/catalyst-forge/forge/reference/secretflags"
)

// Options say where GitHub is and how to authenticate to it. With neither
// TokenRef nor AppKeyRef, no statuses are sent.
type Options struct {
	API       string // GitHub's API; empty: api.github.com
	TokenRef  string // a secret reference (JSON) to a token
	AppID     string // a GitHub App's ID, with AppKeyRef and InstallationID
	AppKeyRef string // a secret reference (JSON) to the App's private key (PEM)
	// InstallationID is the App's installation on the repositories.
	InstallationID string
	// TargetURL is the link of statuses and summaries; {run_id},
	// {workflow}, {repository} and {commit} are filled in.
	TargetURL string
}

// Flags registers the flags, with FORGE_GITHUB_* environment defaults.
func Flags(f *pflag.FlagSet, o *Options) {
	f.StringVar(&o.API, "github-api", envdefault.String("FORGE_GITHUB_API", ""), "GitHub's API for commit statuses (default https://api.github.com; GitHub Enterprise: https://HOST/api/v3)")
	f.StringVar(&o.TokenRef, "github-token-ref", envdefault.String("FORGE_GITHUB_TOKEN_REF", ""), `secret reference (JSON) to a GitHub token that may set commit statuses and comment on pull requests, e.g. {"provider":"env","name":"GITHUB_TOKEN"}; empty: no GitHub statuses`)
	f.StringVar(&o.AppID, "github-app-id", envdefault.String("FORGE_GITHUB_APP_ID", ""), "report as this GitHub App instead of a token (with --github-app-key-ref and --github-installation-id)")
	f.StringVar(&o.AppKeyRef, "github-app-key-ref", envdefault.String("FORGE_GITHUB_APP_KEY_REF", ""), "secret reference (JSON) to the GitHub App's private key (PEM)")
	f.StringVar(&o.InstallationID, "github-installation-id", envdefault.String("FORGE_GITHUB_INSTALLATION_ID", ""), "the GitHub App's installation on the repositories")
	f.StringVar(&o.TargetURL, "github-target-url", envdefault.String("FORGE_GITHUB_TARGET_URL", ""), "link of the statuses and summaries: {run_id}, {workflow}, {repository}, {commit} are filled in, e.g. https://argo.example.com/workflows/forge/{workflow}")
}

// Reporter returns the GitHub reporter the options describe, or nil when
// they name no credentials. Errors: Validation (half an App, a reference
// that is not JSON, a key that is not one), the secret provider's.
func Reporter(ctx context.Context, o Options, log *slog.Logger) (ports.StatusReporter, error) {
	app := o.AppID != "" || o.AppKeyRef != "" || o.InstallationID != ""
	if o.TokenRef == "" && !app {
		return nil, nil
	}
	var creds githubstatus.Credentials
	switch {
	case o.TokenRef != "" && app:
		return nil, fault.New(fault.Validation, "give --github-token-ref or a GitHub App (--github-app-id ...), not both")
	case o.TokenRef != "":
		token, err := resolve(ctx, "--github-token-ref", o.TokenRef)
		if err != nil {
			return nil, err
		}
		creds = githubstatus.Token(token)
	default:
		appID, err1 := strconv.ParseInt(o.AppID, 10, 64)
		inst, err2 := strconv.ParseInt(o.InstallationID, 10, 64)
		if err1 != nil || err2 != nil || o.AppKeyRef == "" {
			return nil, fault.New(fault.Validation, "a GitHub App needs --github-app-id and --github-installation-id (numbers) and --github-app-key-ref")
		}
		pemKey, err := resolve(ctx, "--github-app-key-ref", o.AppKeyRef)
		if err != nil {
			return nil, err
		}
		key, err := githubstatus.ParseAppKey([]byte(pemKey))
		if err != nil {
			return nil, fmt.Errorf("--github-app-key-ref: %w", err)
		}
		creds = &githubstatus.App{AppID: appID, InstallationID: inst, Key: key, API: o.API}
	}
	return githubstatus.New(githubstatus.Options{API: o.API, Credentials: creds, TargetURL: o.TargetURL, Log: log})
}

// resolve reads the secret a flag's reference names, with a registry that
// reads exactly that secret.
func resolve(ctx context.Context, flag, refJSON string) (string, error) {
	value, _, _, err := secretflags.ReadOwn(ctx, secretflags.Options{}, flag, refJSON, nil)
	return strings.TrimSpace(value), err
}

// Alongside returns a reporter that tells base, then github when it is
// not nil.
func Alongside(base, github ports.StatusReporter) ports.StatusReporter {
	if github == nil {
		return base
	}
	return both{base, github}
}

type both [2]ports.StatusReporter

func (b both) Report(ctx context.Context, run *pipeline.Run, point ports.StatusPoint, description string) error {
	err := b[0].Report(ctx, run, point, description)
	if err2 := b[1].Report(ctx, run, point, description); err == nil {
		err = err2
	}
	return err
}

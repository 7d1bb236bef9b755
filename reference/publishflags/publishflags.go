// Package publishflags declares the flags that say where a worker
// publishes artifacts and tracking images and how it signs them, and
// builds the publishing service from them, so that forge-worker and the
// forge dev commands configure artifact jobs the same way.
package publishflags

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/catalyst-forge/forge/adapters/aws/ecrauth"
	"github.com/catalyst-forge/forge/adapters/aws/s3blob"
	"github.com/catalyst-forge/forge/adapters/onprem/githubreleases"
	"github.com/catalyst-forge/forge/adapters/onprem/ociregistry"
	"github.com/catalyst-forge/forge/application/publishing"
	"github.com/catalyst-forge/forge/application/resolving"
	"github.com/catalyst-forge/forge/application/signing"
	"github.com/catalyst-forge/forge/application/working"
	"github.com/catalyst-forge/forge/domain/config"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
	"github.com/catalyst-forge/forge/reference/envdefault"
	"github.com/catalyst-forge/forge/reference/objstore"
	"github.com/catalyst-forge/forge/reference/secretflags"
)

// Options configure artifact publishing.
type Options struct {
	// Tracking is where tracking images go: host[/path].
	Tracking string
	// SigningKey is a PEM file holding the ECDSA P-256 key tracking images
	// are signed with; empty leaves them unsigned.
	SigningKey string
	// SigningKeyRef is a secret reference, in JSON, to that key instead
	// ({"provider": "kubernetes", "namespace": "forge", ...}); the command
	// resolves it (secretflags.Own) and sets SigningKeyPEM.
	SigningKeyRef string
	// SigningKeyPEM is the key itself, when the command resolved it.
	SigningKeyPEM []byte `json:"-"`
	// Override, when set, is the one registry every docker publisher
	// pushes to instead of its own (one machine).
	Override string
	// DockerConfig is a docker config.json with registry credentials
	// (default: docker's own).
	DockerConfig string
	// Insecure lists registry hosts that may be spoken to over plain HTTP
	// besides loopback ones.
	Insecure []string
	// GitHubAPI is the REST API github publishers use (github.com's by
	// default; a GitHub Enterprise server's /api/v3).
	GitHubAPI string
	// DocsDir, when set, is where docs publishers write instead of their
	// buckets, one directory per bucket (one machine).
	DocsDir string
	// ECR gets the credentials of Amazon ECR hosts from ECR's
	// GetAuthorizationToken (the AWS default chain: IRSA on EKS), kept
	// until they expire, instead of a docker config.
	ECR bool
}

// Flags declares --tracking-registry, --signing-key, --docker-config and
// --insecure-registry into o, with FORGE_* environment variables.
func Flags(f *pflag.FlagSet, o *Options) {
	f.StringVar(&o.Tracking, "tracking-registry", envdefault.String("FORGE_TRACKING_REGISTRY", ""), "where tracking images of artifacts go: HOST[/PATH] (required to take artifact jobs)")
	f.StringVar(&o.SigningKey, "signing-key", envdefault.String("FORGE_SIGNING_KEY", ""), "PEM file of the ECDSA P-256 key that signs tracking images (cosign-verifiable); empty: unsigned")
	f.StringVar(&o.SigningKeyRef, "signing-key-ref", envdefault.String("FORGE_SIGNING_KEY_REF", ""), `that key as a secret reference in JSON, e.g. {"provider":"kubernetes","namespace":"forge","secretName":"cosign","key":"cosign.key"}`)
	f.StringVar(&o.DockerConfig, "docker-config", envdefault.String("FORGE_DOCKER_CONFIG", ""), "docker config.json with registry credentials (default: docker's own)")
	f.StringVar(&o.GitHubAPI, "github-api", envdefault.String("FORGE_GITHUB_API", githubreleases.DefaultAPI), "GitHub REST API that github publishers use (GitHub Enterprise: https://HOST/api/v3)")
	f.BoolVar(&o.ECR, "ecr-auth", envdefault.String("FORGE_ECR_AUTH", "") == "true", "log in to Amazon ECR registries with ecr:GetAuthorizationToken (AWS default credentials, IRSA on EKS), tokens kept until they expire (env FORGE_ECR_AUTH=true)")
	f.StringSliceVar(&o.Insecure, "insecure-registry", nil, "registry hosts spoken to over plain HTTP besides loopback ones (env FORGE_INSECURE_REGISTRIES)")
	if v := envdefault.String("FORGE_INSECURE_REGISTRIES", ""); v != "" {
		o.Insecure = strings.Split(v, ",")
	}
}

// Service builds the publishing service: script producers run by steps,
// registries reached with ociregistry, publisher credentials resolved
// through secrets (the same allow-lists as step secrets, since a
// repository chooses both the credential and the host it is sent to).
func Service(o Options, steps ports.StepExecutor, secrets *resolving.Registry) (*publishing.Service, error) {
	if o.Tracking == "" {
		return nil, fault.New(fault.Validation, "artifact jobs need --tracking-registry HOST[/PATH]")
	}
	signer, err := Signer(o)
	if err != nil {
		return nil, err
	}
	base, err := registryOptions(o)
	if err != nil {
		return nil, err
	}
	svc := &publishing.Service{Steps: steps, Tracking: o.Tracking, Override: o.Override, Signer: signer}
	svc.Registry = func(ctx context.Context, host string, creds *config.SecretRef) (ports.Registry, error) {
		opts := base
		if creds != nil && o.Override == "" {
			value, err := secrets.Resolve(ctx, *creds)
			if err != nil {
				return nil, fmt.Errorf("the publisher's credentials: %w", err)
			}
			user, pass, err := credential(value)
			if err != nil {
				return nil, err
			}
			opts.Credentials = map[string]ociregistry.Credential{host: {Username: user, Password: pass}}
		}
		return ociregistry.New(opts)
	}
	svc.Objects = func(ctx context.Context, p config.Publisher) (ports.ObjectStore, func(), error) {
		bucket, _ := p.Settings["bucket"].(string)
		if o.DocsDir != "" {
			return objstore.Open(ctx, objstore.Options{Dir: filepath.Join(o.DocsDir, filepath.Base(filepath.Clean("/"+bucket)))})
		}
		cfg := s3blob.Config{Bucket: bucket}
		cfg.Region, _ = p.Settings["region"].(string)
		cfg.Endpoint, _ = p.Settings["endpoint"].(string)
		cfg.PathStyle = cfg.Endpoint != ""
		if p.Credentials != nil {
			value, err := secrets.Resolve(ctx, *p.Credentials)
			if err != nil {
				return nil, nil, fmt.Errorf("the publisher's credentials: %w", err)
			}
			var keys struct {
				AccessKeyID     string `json:"access_key_id"`
				SecretAccessKey string `json:"secret_access_key"`
			}
			if json.Unmarshal([]byte(value), &keys) != nil || keys.AccessKeyID == "" {
				return nil, nil, fault.New(fault.Validation, `the publisher's credentials are not {"access_key_id": ..., "secret_access_key": ...}`)
			}
			cfg.AccessKeyID, cfg.SecretAccessKey = keys.AccessKeyID, keys.SecretAccessKey
		}
		return objstore.Open(ctx, objstore.Options{S3: cfg})
	}
	svc.GitHub = func(ctx context.Context, creds *config.SecretRef) (ports.GitHubReleases, error) {
		client := &githubreleases.Client{API: o.GitHubAPI}
		if creds != nil {
			value, err := secrets.Resolve(ctx, *creds)
			if err != nil {
				return nil, fmt.Errorf("the publisher's credentials: %w", err)
			}
			client.Token = token(value)
		}
		return client, nil
	}
	return svc, nil
}

// Signer loads the key images are signed with (--signing-key, or the
// key --signing-key-ref resolved to); nil when none is configured.
func Signer(o Options) (*signing.Signer, error) {
	switch {
	case o.SigningKey != "" && o.SigningKeyRef != "":
		return nil, fault.New(fault.Validation, "give --signing-key or --signing-key-ref, not both")
	case len(o.SigningKeyPEM) > 0:
		s, err := signing.NewSigner(o.SigningKeyPEM)
		if err != nil {
			return nil, fmt.Errorf("--signing-key-ref: %w", err)
		}
		return s, nil
	case o.SigningKeyRef != "":
		return nil, fault.New(fault.Validation, "--signing-key-ref was not resolved")
	case o.SigningKey != "":
		pem, err := os.ReadFile(o.SigningKey)
		if err != nil {
			return nil, fault.New(fault.Validation, "--signing-key %s cannot be read", o.SigningKey)
		}
		s, err := signing.NewSigner(pem)
		if err != nil {
			return nil, fmt.Errorf("--signing-key %s: %w", o.SigningKey, err)
		}
		return s, nil
	}
	return nil, nil
}

// Releaser builds what a worker makes releases with: it registers them
// with releases, pushes their images to the registry the platform names
// (forge-api's --registry) with the worker's own registry
// credentials (--docker-config), and signs them with the key tracking
// images are signed with.
func Releaser(o Options, releases ports.ReleaseRegistrar) (*working.Releaser, error) {
	signer, err := Signer(o)
	if err != nil {
		return nil, err
	}
	opts, err := registryOptions(o)
	if err != nil {
		return nil, err
	}
	reg, err := ociregistry.New(opts)
	if err != nil {
		return nil, err
	}
	return &working.Releaser{Releases: releases, Signer: signer,
		Registry: func(context.Context, string) (ports.Registry, error) { return reg, nil }}, nil
}

// registryOptions are the registry client's options every push of a
// worker shares: the docker config, the insecure hosts and, with ECR, one
// ECR token source, so its tokens are kept across pushes.
func registryOptions(o Options) (ociregistry.Options, error) {
	opts := ociregistry.Options{DockerConfig: o.DockerConfig, Insecure: o.Insecure}
	if o.ECR {
		src, err := ecrauth.New(context.Background(), ecrauth.Config{})
		if err != nil {
			return opts, fmt.Errorf("--ecr-auth: %w", err)
		}
		opts.Sources = []ociregistry.CredentialSource{src}
	}
	return opts, nil
}

// OwnSigningKey resolves --signing-key-ref into o.SigningKeyPEM through
// the secret providers of secrets, and returns the secret options and
// denied paths that builds get: the key stays out of their reach.
func OwnSigningKey(ctx context.Context, o *Options, secrets secretflags.Options, deny []string) (secretflags.Options, []string, error) {
	key, builds, buildDeny, err := secretflags.ReadOwn(ctx, secrets, "--signing-key-ref", o.SigningKeyRef, deny)
	if err != nil {
		return secretflags.Options{}, nil, err
	}
	o.SigningKeyPEM = []byte(key)
	return builds, buildDeny, nil
}

// token reads a GitHub token: the value itself, or a JSON object's token.
func token(value string) string {
	var t struct{ Token string }
	if json.Unmarshal([]byte(value), &t) == nil && t.Token != "" {
		return t.Token
	}
	return strings.TrimSpace(value)
}

// credential reads a registry credential: a JSON object with username and
// password, or "username:password".
func credential(value string) (string, string, error) {
	var c struct{ Username, Password string }
	if json.Unmarshal([]byte(value), &c) == nil && c.Username != "" {
		return c.Username, c.Password, nil
	}
	if user, pass, ok := strings.Cut(value, ":"); ok && user != "" && !strings.HasPrefix(strings.TrimSpace(value), "{") {
		return user, pass, nil
	}
	return "", "", fault.New(fault.Validation, `the publisher's credentials are neither {"username": ..., "password": ...} nor username:password`)
}

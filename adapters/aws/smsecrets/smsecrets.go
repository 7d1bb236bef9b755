// Package smsecrets is the "aws" secret provider: a reference
// {provider: "aws", secretName: "ci/npm", region?: "eu-west-1", key?: "token"}
// resolves through AWS Secrets Manager's GetSecretValue, with credentials
// from the AWS default chain (so IRSA works on EKS). "path" is accepted as
// an alias of secretName, since the spec's configuration examples write
// it that way; key selects one field of a secret stored as a JSON object.
// It is in the adapters layer (adapters/aws) and implements
// ports.SecretProvider.
package smsecrets

import (
	"context"
	"encoding/json"
	"errors"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	"github.com/catalyst-forge/forge/adapters/aws/awsconfig"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
)

// Config configures the provider. Everything is optional.
type Config struct {
	// Region is used when a reference names none (default: the AWS
	// configuration's, such as AWS_REGION).
	Region string
	// Endpoint overrides the service URL (a VPC endpoint, or a test
	// server).
	Endpoint string
	// AccessKeyID and SecretAccessKey are static credentials; empty means
	// the default chain (environment, IRSA web identity, instance role).
	AccessKeyID, SecretAccessKey string
	// MaxAttempts bounds the SDK's retries (0: its default).
	MaxAttempts int
}

// Provider is the AWS Secrets Manager provider.
type Provider struct {
	base aws.Config
	cfg  Config

	mu      sync.Mutex
	clients map[string]*secretsmanager.Client // by region
}

var _ ports.SecretProvider = (*Provider)(nil)

// New loads the AWS configuration. Errors: Validation (it cannot be
// loaded).
func New(ctx context.Context, cfg Config) (*Provider, error) {
	base, err := awsconfig.Load(ctx, "smsecrets", awsconfig.Options{Region: cfg.Region, AccessKeyID: cfg.AccessKeyID,
		SecretAccessKey: cfg.SecretAccessKey, MaxAttempts: cfg.MaxAttempts})
	if err != nil {
		return nil, err
	}
	return &Provider{base: base, cfg: cfg, clients: map[string]*secretsmanager.Client{}}, nil
}

// Name is "aws".
func (p *Provider) Name() string { return "aws" }

// Schema: secretName or its alias path, an optional region and key.
func (p *Provider) Schema() string {
	return `secretName?: string & != "", path?: string & != "", region?: string & =~"^[a-z0-9-]+$", key?: string & != ""`
}

func (p *Provider) client(region string) *secretsmanager.Client {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.clients[region]; ok {
		return c
	}
	c := secretsmanager.NewFromConfig(p.base, func(o *secretsmanager.Options) {
		if region != "" {
			o.Region = region
		}
		if p.cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(p.cfg.Endpoint)
		}
	})
	p.clients[region] = c
	return c
}

// Resolve returns the secret's string (or binary) value, or its field
// key. Errors: Validation (no name, both secretName and path, key on a
// secret that is not a JSON object), NotFound (no such secret or key),
// PermissionDenied (the worker's role may not read it), Unavailable, the
// context's error.
func (p *Provider) Resolve(ctx context.Context, cfg map[string]any) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	for k := range cfg {
		switch k {
		case "secretName", "path", "region", "key":
		default:
			return "", fault.New(fault.Validation, "aws secret: field %s is not allowed (secretName or path, region, key)", k)
		}
	}
	name, _ := cfg["secretName"].(string)
	alias, _ := cfg["path"].(string)
	switch {
	case name != "" && alias != "":
		return "", fault.New(fault.Validation, "aws secret: give field secretName or its alias path, not both")
	case name == "":
		name = alias
	}
	if name == "" {
		return "", fault.New(fault.Validation, "aws secret: field secretName (or its alias path) is required")
	}
	region, _ := cfg["region"].(string)
	if region == "" && p.base.Region == "" {
		return "", fault.New(fault.Validation, "aws secret %s: no region: give the reference a region, or the worker AWS_REGION", name)
	}
	out, err := p.client(region).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)})
	if err != nil {
		return "", translate(ctx, err, name)
	}
	value := aws.ToString(out.SecretString)
	if out.SecretString == nil {
		value = string(out.SecretBinary)
	}
	key, ok := cfg["key"].(string)
	if !ok {
		return value, nil
	}
	var fields map[string]any
	if json.Unmarshal([]byte(value), &fields) != nil || fields == nil {
		return "", fault.New(fault.Validation, "aws secret %s: key %s is given, and the secret is not a JSON object", name, key)
	}
	v, ok := fields[key]
	if !ok {
		return "", fault.New(fault.NotFound, "aws secret %s has no key %s", name, key)
	}
	if s, ok := v.(string); ok {
		return s, nil
	}
	b, _ := json.Marshal(v)
	return string(b), nil
}

// translate maps the SDK's error to a fault that says what failed in the
// user's terms; the service's own message is left out.
func translate(ctx context.Context, err error, name string) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		return fault.New(fault.NotFound, "aws secret %s does not exist", name)
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch code := api.ErrorCode(); {
		case awsconfig.Denied(code):
			return fault.New(fault.PermissionDenied, "aws secret %s: this worker may not read it (%s)", name, api.ErrorCode())
		case code == "InvalidParameterException" || code == "InvalidRequestException" || code == "ValidationException":
			return fault.New(fault.Validation, "aws secret %s: Secrets Manager refused the request (%s)", name, api.ErrorCode())
		}
		return fault.New(fault.Unavailable, "aws secret %s: Secrets Manager answered %s", name, api.ErrorCode())
	}
	return fault.New(fault.Unavailable, "aws secret %s: Secrets Manager cannot be reached", name)
}

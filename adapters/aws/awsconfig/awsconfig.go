// Package awsconfig loads the AWS SDK configuration every AWS adapter
// starts from: the default chain (environment, shared files, IRSA web
// identity, instance role), with an optional region, static credentials
// and retry bound. It is in the adapters layer (adapters/aws).
package awsconfig

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/catalyst-forge/forge/domain/fault"
)

// Options adjust the default chain. Everything is optional.
type Options struct {
	// Region replaces the configuration's (AWS_REGION...).
	Region string
	// AccessKeyID and SecretAccessKey are static credentials; empty means
	// the default chain.
	AccessKeyID, SecretAccessKey string
	// MaxAttempts bounds the SDK's retries (0: its default).
	MaxAttempts int
}

// Load loads the configuration; who names the adapter in the error.
// Errors: Validation (the configuration cannot be loaded).
func Load(ctx context.Context, who string, o Options) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if o.Region != "" {
		opts = append(opts, config.WithRegion(o.Region))
	}
	if o.AccessKeyID != "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(o.AccessKeyID, o.SecretAccessKey, "")))
	}
	if o.MaxAttempts > 0 {
		opts = append(opts, config.WithRetryMaxAttempts(o.MaxAttempts))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fault.Wrap(fault.Validation, err, "%s: loading the AWS configuration", who)
	}
	return cfg, nil
}

// Denied reports whether an AWS error code means the caller's identity was
// refused (no permission, unknown or expired credentials, a bad
// signature): what every AWS adapter maps to PermissionDenied.
func Denied(code string) bool {
	switch code {
	case "AccessDeniedException", "AccessDenied", "UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException":
		return true
	}
	return false
}

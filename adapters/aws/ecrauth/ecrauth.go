// Package ecrauth gives the registry client (adapters/onprem/ociregistry)
// credentials for Amazon ECR registries: for a host
// <account>.dkr.ecr.<region>.amazonaws.com it calls ECR's
// GetAuthorizationToken in that region, with credentials from the AWS
// default chain (IRSA on EKS), and keeps the token (valid 12 hours) until
// five minutes before it expires, so a worker pushing all day asks ECR
// twice a day per region. Other hosts are not its business. It is in the
// adapters layer (adapters/aws).
package ecrauth

import (
	"context"
	"encoding/base64"
	"errors"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/smithy-go"

	"github.com/catalyst-forge/forge/adapters/aws/awsconfig"
	"github.com/catalyst-forge/forge/domain/fault"
)

// Config configures the source. Everything is optional.
type Config struct {
	// Endpoint overrides ECR's URL (a VPC endpoint, or a test server).
	Endpoint string
	// AccessKeyID and SecretAccessKey are static credentials; empty means
	// the default chain (environment, IRSA web identity, instance role).
	AccessKeyID, SecretAccessKey string
	// MaxAttempts bounds the SDK's retries (0: its default).
	MaxAttempts int
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// renewBefore is how long before its expiry a token is replaced.
const renewBefore = 5 * time.Minute

// host matches an ECR registry host and captures its region.
var host = regexp.MustCompile(`^[0-9]{12}\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$`)

// Source answers registry credentials for ECR hosts. Safe for concurrent
// use.
type Source struct {
	base aws.Config
	cfg  Config

	mu     sync.Mutex
	tokens map[string]token // by region
}

type token struct {
	username, password string
	expires            time.Time
}

// New loads the AWS configuration. Errors: Validation.
func New(ctx context.Context, cfg Config) (*Source, error) {
	base, err := awsconfig.Load(ctx, "ecrauth", awsconfig.Options{AccessKeyID: cfg.AccessKeyID, SecretAccessKey: cfg.SecretAccessKey,
		MaxAttempts: cfg.MaxAttempts})
	if err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Source{base: base, cfg: cfg, tokens: map[string]token{}}, nil
}

// Region returns the region of an ECR registry host; ok is false for a
// host that is not ECR's.
func Region(registryHost string) (region string, ok bool) {
	m := host.FindStringSubmatch(strings.ToLower(registryHost))
	if m == nil {
		return "", false
	}
	return m[1], true
}

// Credential returns the username and password for an ECR host (ok
// false for another host), from the kept token of its region or a new
// one. Errors: PermissionDenied (the role may not call
// GetAuthorizationToken), Unavailable, Internal (an answer without a
// token).
func (s *Source) Credential(ctx context.Context, registryHost string) (username, password string, ok bool, err error) {
	region, ok := Region(registryHost)
	if !ok {
		return "", "", false, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, kept := s.tokens[region]; kept && s.cfg.Now().Add(renewBefore).Before(t.expires) {
		return t.username, t.password, true, nil
	}
	client := ecr.NewFromConfig(s.base, func(o *ecr.Options) {
		o.Region = region
		if s.cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(s.cfg.Endpoint)
		}
	})
	out, err := client.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		return "", "", true, mapError(err, region)
	}
	if len(out.AuthorizationData) == 0 || out.AuthorizationData[0].AuthorizationToken == nil {
		return "", "", true, fault.New(fault.Internal, "ecrauth: ECR in %s answered no authorization token", region)
	}
	d := out.AuthorizationData[0]
	raw, err := base64.StdEncoding.DecodeString(*d.AuthorizationToken)
	user, pass, found := strings.Cut(string(raw), ":")
	if err != nil || !found {
		return "", "", true, fault.New(fault.Internal, "ecrauth: ECR's authorization token in %s is not base64 user:password", region)
	}
	t := token{username: user, password: pass, expires: s.cfg.Now().Add(12 * time.Hour)}
	if d.ExpiresAt != nil {
		t.expires = *d.ExpiresAt
	}
	s.tokens[region] = t
	return user, pass, true, nil
}

// mapError translates ECR's errors into the fault taxonomy.
func mapError(err error, region string) error {
	var api smithy.APIError
	if errors.As(err, &api) {
		switch code := api.ErrorCode(); {
		case awsconfig.Denied(code):
			return fault.Wrap(fault.PermissionDenied, err, "ecrauth: GetAuthorizationToken in %s refused (%s): the role needs ecr:GetAuthorizationToken", region, api.ErrorCode())
		case code == "InvalidParameterException":
			return fault.Wrap(fault.Validation, err, "ecrauth: GetAuthorizationToken in %s", region)
		}
	}
	return fault.Wrap(fault.Unavailable, err, "ecrauth: GetAuthorizationToken in %s", region)
}

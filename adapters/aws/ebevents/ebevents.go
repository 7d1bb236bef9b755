// Package ebevents is the EventPublisher of the AWS profile: each lifecycle
// event (spec 06: pipeline.run.created, release.created, ...) goes to an
// Amazon EventBridge bus with PutEvents, its detail-type the event type,
// its source "catalyst-forge" and its detail the spec's JSON envelope (the
// document NATS subscribers get), so that rules can route it to SNS, SQS,
// Lambda or another bus. Credentials come from the AWS default chain (IRSA
// on EKS). It is in the adapters layer (adapters/aws).
package ebevents

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"

	"github.com/catalyst-forge/forge/adapters/aws/awsconfig"
	"github.com/catalyst-forge/forge/domain/event"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
)

// DefaultSource is the source of the events.
const DefaultSource = "catalyst-forge"

// maxEntryBytes is EventBridge's limit on one entry.
const maxEntryBytes = 256 << 10

// Config configures the publisher.
type Config struct {
	// Bus is the event bus's name or ARN (default: the account's
	// "default" bus).
	Bus string
	// Source replaces DefaultSource.
	Source string
	// Region is the bus's region (default: the AWS configuration's).
	Region string
	// Endpoint overrides EventBridge's URL (a VPC endpoint, or a test
	// server).
	Endpoint string
	// AccessKeyID and SecretAccessKey are static credentials; empty means
	// the default chain.
	AccessKeyID, SecretAccessKey string
	// MaxAttempts bounds the SDK's retries (0: its default).
	MaxAttempts int
}

// Publisher puts events on an EventBridge bus. Safe for concurrent use.
type Publisher struct {
	client *eventbridge.Client
	cfg    Config
}

var _ ports.EventPublisher = (*Publisher)(nil)

// New loads the AWS configuration. Errors: Validation.
func New(ctx context.Context, cfg Config) (*Publisher, error) {
	base, err := awsconfig.Load(ctx, "ebevents", awsconfig.Options{Region: cfg.Region, AccessKeyID: cfg.AccessKeyID,
		SecretAccessKey: cfg.SecretAccessKey, MaxAttempts: cfg.MaxAttempts})
	if err != nil {
		return nil, err
	}
	if cfg.Source == "" {
		cfg.Source = DefaultSource
	}
	client := eventbridge.NewFromConfig(base, func(o *eventbridge.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
	})
	return &Publisher{client: client, cfg: cfg}, nil
}

// Publish puts e on the bus. Errors: Validation (an event over
// EventBridge's 256 KB), PermissionDenied (the role may not
// events:PutEvents on the bus), NotFound (no such bus), Unavailable
// (throttled, EventBridge failing or unreachable; the SDK has retried).
func (p *Publisher) Publish(ctx context.Context, e event.Event) error {
	detail, err := json.Marshal(e)
	if err != nil {
		return fault.Wrap(fault.Internal, err, "ebevents: encoding event %s", e.Type)
	}
	if len(detail) > maxEntryBytes {
		return fault.New(fault.Validation, "ebevents: event %s is %d bytes, over EventBridge's 256 KB", e.Type, len(detail))
	}
	entry := types.PutEventsRequestEntry{Source: aws.String(p.cfg.Source), DetailType: aws.String(string(e.Type)),
		Detail: aws.String(string(detail))}
	if !e.Timestamp.IsZero() {
		entry.Time = aws.Time(e.Timestamp)
	}
	if p.cfg.Bus != "" {
		entry.EventBusName = aws.String(p.cfg.Bus)
	}
	out, err := p.client.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{entry}})
	if err != nil {
		return mapError(err, e.Type)
	}
	if out.FailedEntryCount > 0 && len(out.Entries) > 0 {
		r := out.Entries[0]
		code, msg := aws.ToString(r.ErrorCode), aws.ToString(r.ErrorMessage)
		kind := fault.Unavailable
		switch {
		case awsconfig.Denied(code), code == "NotAuthorizedForSourceException":
			kind = fault.PermissionDenied
		case code == "InvalidArgument", code == "MalformedDetail":
			kind = fault.Validation
		}
		return fault.New(kind, "ebevents: EventBridge refused event %s: %s %s", e.Type, code, msg)
	}
	return nil
}

// mapError translates EventBridge's errors into the fault taxonomy.
func mapError(err error, t event.Type) error {
	var api smithy.APIError
	if errors.As(err, &api) {
		switch code := api.ErrorCode(); {
		case awsconfig.Denied(code):
			return fault.Wrap(fault.PermissionDenied, err, "ebevents: putting event %s refused (%s): the role needs events:PutEvents on the bus", t, api.ErrorCode())
		case code == "ResourceNotFoundException":
			return fault.Wrap(fault.NotFound, err, "ebevents: putting event %s: no such event bus", t)
		case code == "ValidationException":
			return fault.Wrap(fault.Validation, err, "ebevents: putting event %s", t)
		}
	}
	return fault.Wrap(fault.Unavailable, err, "ebevents: putting event %s", t)
}

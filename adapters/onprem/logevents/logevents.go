// Package logevents is the EventPublisher of the local profile: it writes
// each lifecycle event as one structured log line. It is in the adapters
// layer (adapters/onprem).
package logevents

import (
	"context"

	"github.com/sirupsen/logrus"

	"github.com/catalyst-forge/forge/domain/event"
	"github.com/catalyst-forge/forge/ports"
)

// Publisher logs events through a logrus logger.
type Publisher struct {
	Log logrus.FieldLogger
}

var _ ports.EventPublisher = (*Publisher)(nil)

// New returns a publisher that logs to log.
func New(log logrus.FieldLogger) *Publisher { return &Publisher{Log: log} }

// Publish logs e at info level with its type and data as fields. It never fails.
func (p *Publisher) Publish(_ context.Context, e event.Event) error {
	fields := logrus.Fields{"event_type": string(e.Type), "event_time": e.Timestamp}
	for k, v := range e.Data {
		fields["data."+k] = v
	}
	p.Log.WithFields(fields).Info("event")
	return nil
}

// Package natsevents is the EventPublisher of the on-premises and AWS
// profiles' NATS deployments: each event is published as the spec's JSON
// envelope on the subject forge.events.<event type>. It is in the adapters
// layer (adapters/onprem).
package natsevents

import (
	"context"
	"encoding/json"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/catalyst-forge/forge/domain/event"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
)

// flushTimeout bounds the wait for the server's acknowledgement.
const flushTimeout = 5 * time.Second

// SubjectPrefix is prepended to the event type to form the subject.
const SubjectPrefix = "forge.events."

// Publisher publishes events on a NATS connection.
type Publisher struct {
	conn   *nats.Conn
	prefix string
}

var _ ports.EventPublisher = (*Publisher)(nil)

// New returns a publisher on conn. prefix replaces SubjectPrefix when not
// empty (tests use a unique one).
func New(conn *nats.Conn, prefix string) *Publisher {
	if prefix == "" {
		prefix = SubjectPrefix
	}
	return &Publisher{conn: conn, prefix: prefix}
}

// Subject returns the subject an event type is published on.
func (p *Publisher) Subject(t event.Type) string { return p.prefix + string(t) }

// Publish sends e and flushes, so an error means the server did not get
// it: fault.Unavailable.
func (p *Publisher) Publish(ctx context.Context, e event.Event) error {
	data, err := json.Marshal(e)
	if err != nil {
		return fault.Wrap(fault.Internal, err, "encoding event %s", e.Type)
	}
	msg := nats.NewMsg(p.Subject(e.Type))
	msg.Data = data
	msg.Header.Set("Content-Type", "application/json")
	if err := p.conn.PublishMsg(msg); err != nil {
		return fault.Wrap(fault.Unavailable, err, "publishing event %s", e.Type)
	}
	// FlushWithContext needs a deadline; bound the wait when ctx has none.
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, flushTimeout)
		defer cancel()
	}
	if err := p.conn.FlushWithContext(ctx); err != nil {
		return fault.Wrap(fault.Unavailable, err, "publishing event %s", e.Type)
	}
	return nil
}

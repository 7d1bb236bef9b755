package ports

import (
	"context"

	"github.com/catalyst-forge/forge/domain/event"
)

// EventPublisher announces lifecycle events to whoever listens (a log,
// a NATS subject, EventBridge).
type EventPublisher interface {
	// Publish sends e. Delivery is at least once where the transport allows
	// it; an error is fault.Unavailable. Safe for concurrent use.
	Publish(ctx context.Context, e event.Event) error
}

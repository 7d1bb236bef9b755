// Package announcing publishes lifecycle events for the use cases. An event
// that cannot be published never fails the operation that caused it (the
// operation already happened); the failure goes to the error hook, which
// services wire to their log. It is in the application layer.
package announcing

import (
	"context"

	"github.com/catalyst-forge/forge/domain/event"
	"github.com/catalyst-forge/forge/ports"
)

// Announcer publishes events through a publisher; a nil publisher drops them.
type Announcer struct {
	Publisher ports.EventPublisher
	Clock     ports.Clock
	// OnError receives publishing failures; nil ignores them.
	OnError func(event.Event, error)
}

// Announce publishes an event of type t with data, stamped with the clock.
func (a *Announcer) Announce(ctx context.Context, t event.Type, data map[string]any) {
	if a == nil || a.Publisher == nil {
		return
	}
	e := event.Event{Type: t, Timestamp: a.Clock.Now(), Data: data}
	if err := a.Publisher.Publish(ctx, e); err != nil && a.OnError != nil {
		a.OnError(e, err)
	}
}

package githubapp

import (
	"context"
	"fmt"
	"sort"
)

// Event is one webhook delivery taken from the queue.
type Event struct {
	Type       string // X-GitHub-Event
	DeliveryID string // X-GitHub-Delivery
	Payload    []byte
}

// EventHandler handles the event types it names.
type EventHandler interface {
	Handles() []string
	Handle(ctx context.Context, e Event) error
}

// Dispatcher routes events to the handler of their type.
type Dispatcher struct {
	handlers map[string]EventHandler
}

// NewDispatcher routes to handlers; two handlers for one type is an error.
func NewDispatcher(handlers ...EventHandler) (*Dispatcher, error) {
	d := &Dispatcher{handlers: map[string]EventHandler{}}
	for _, h := range handlers {
		for _, t := range h.Handles() {
			if _, dup := d.handlers[t]; dup {
				return nil, fmt.Errorf("two handlers for event %q", t)
			}
			d.handlers[t] = h
		}
	}
	return d, nil
}

// Handles reports whether some handler takes events of type t.
func (d *Dispatcher) Handles(t string) bool {
	_, ok := d.handlers[t]
	return ok
}

// Events lists the handled event types.
func (d *Dispatcher) Events() []string {
	out := make([]string, 0, len(d.handlers))
	for t := range d.handlers {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Dispatch hands e to its handler; an unhandled type is a permanent error.
func (d *Dispatcher) Dispatch(ctx context.Context, e Event) error {
	h, ok := d.handlers[e.Type]
	if !ok {
		return Permanent(fmt.Errorf("no handler for event %q", e.Type))
	}
	return h.Handle(ctx, e)
}

package events_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/atrium-dev/atrium/internal/events"
)

// A subscriber that keeps a cache applies each event, and on a Lost
// event forgets everything, because it cannot know what it missed.
func Example() {
	const entityChanged events.Topic = "catalog.entity"
	ctx := context.Background()
	bus := events.NewLocal(events.WithBuffer(2))
	defer bus.Close()
	sub := bus.Subscribe(entityChanged)
	defer sub.Close()

	// Three changes while the subscriber is busy: one more than it buffers.
	for _, ref := range []string{"component:default/a", "component:default/b", "component:default/c"} {
		payload, _ := json.Marshal(map[string]string{"ref": ref})
		if err := bus.Publish(ctx, events.Event{Topic: entityChanged, Payload: payload}); err != nil {
			fmt.Println(err)
		}
	}
	for range 3 {
		e := <-sub.Events()
		if e.Lost {
			fmt.Println("events lost: drop the whole cache")
			continue
		}
		fmt.Printf("invalidate %s\n", e.Payload)
	}
	fmt.Println("dropped:", sub.Dropped())
	// Output:
	// invalidate {"ref":"component:default/a"}
	// invalidate {"ref":"component:default/b"}
	// events lost: drop the whole cache
	// dropped: 1
}

package action

import (
	"context"
	"encoding/json"
	"time"

	"github.com/atrium-dev/atrium/internal/derrors"
)

// maxWait is the longest debug:wait may pause, as in Backstage.
const maxWait = 10 * time.Minute

func init() {
	Register(Action{
		ID:          "debug:wait",
		Description: "Waits for a certain period of time.",
		Input: json.RawMessage(`{
  "type": "object",
  "properties": {
    "minutes": {"title": "Waiting period in minutes.", "type": "number"},
    "seconds": {"title": "Waiting period in seconds.", "type": "number"},
    "milliseconds": {"title": "Waiting period in milliseconds.", "type": "number"}
  }
}`),
		Examples: []Example{{
			Description: "Wait for 50 seconds.",
			Example: `steps:
  - id: wait
    action: debug:wait
    name: Waiting for 50 seconds
    input:
      seconds: 50
`,
		}},
		Run: runDebugWait,
	})
}

func runDebugWait(ctx context.Context, rc *RunContext) error {
	const id = "debug:wait"
	var total float64
	for _, u := range []struct {
		key  string
		unit time.Duration
	}{{"minutes", time.Minute}, {"seconds", time.Second}, {"milliseconds", time.Millisecond}} {
		n, err := inputNumber(rc.Input, u.key)
		if err != nil {
			return errorf(id, "%w", err)
		}
		if n < 0 {
			return errorf(id, "%w", derrors.Invalid("%s: must not be negative", u.key))
		}
		total += n * float64(u.unit)
	}
	if total > float64(maxWait) {
		return errorf(id, "%w", derrors.Invalid("waiting duration is longer than the maximum of %s", maxWait))
	}
	d := time.Duration(total)
	if rc.IsDryRun {
		rc.logger().Info("Dry run: not waiting", "duration", d.String())
		return nil
	}
	rc.logger().Info("Waiting", "duration", d.String())
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

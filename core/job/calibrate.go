package job

import (
	"fmt"
	"time"

	"pretune/core/ops"
	"pretune/core/runspec"
)

// TimeSteps measures the spec's pretraining on dev: the milliseconds one training step takes,
// averaged over n steps after one untimed step (the first allocates and compiles what the others
// reuse). The page multiplies it by a run's steps to say how long the run would take on this
// device before starting it. Nothing is kept: the model is freed.
func TimeSteps(spec runspec.Spec, dev ops.Device, n int) (float64, error) {
	if n < 1 {
		return 0, fmt.Errorf("job: timing needs at least one step")
	}
	c, err := spec.Resolve()
	if err != nil {
		return 0, err
	}
	pre := spec.Pretraining()
	// Enough steps that none of the timed ones is the last (which evaluates).
	pre.Config.Steps = max(pre.Config.Steps, n+2)
	tr, err := newPretrainer(dev, pre, c)
	if err != nil {
		return 0, err
	}
	defer tr.Model.Free()
	if _, err := tr.Step(); err != nil {
		return 0, err
	}
	start := time.Now()
	for range n {
		if _, err := tr.Step(); err != nil {
			return 0, err
		}
	}
	return float64(time.Since(start).Microseconds()) / 1000 / float64(n), nil
}

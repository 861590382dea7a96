// Package bench measures a device where it runs: matrix products in GFLOP/s and a training step
// in tokens per second. The browser worker answers the app's bench page with it, so a learner
// sees the speed of their own machine; go test -bench gives the same figures natively.
package bench

import (
	"fmt"
	"strings"
	"time"

	"pretune/core"
	"pretune/core/ops"
)

// Reporter receives one figure.
type Reporter func(name string, value float64, unit string)

// minTime is how long each figure is measured for at least.
const minTime = 300 * time.Millisecond

// MatMul measures square n×n×n products in the NN, NT and TN layouts a training step uses.
func MatMul(d ops.Device, sizes []int, report Reporter) error {
	for _, n := range sizes {
		a, b, c := d.Alloc(n*n), d.Alloc(n*n), d.Alloc(n*n)
		host := make([]float32, n*n)
		for i := range host {
			host[i] = float32(i%7) * 0.25
		}
		d.Upload(a, host)
		d.Upload(b, host)
		for _, layout := range []struct {
			name        string
			transA, trB bool
		}{{"NN", false, false}, {"NT", false, true}, {"TN", true, false}} {
			p := ops.MatMulArgs{M: n, N: n, K: n, TransA: layout.transA, TransB: layout.trB}
			reps, secs, err := timed(d, c, func() { d.MatMul(c, a, b, p) })
			if err != nil {
				return err
			}
			report(fmt.Sprintf("matmul %s %d", layout.name, n), 2*float64(n)*float64(n)*float64(n)*float64(reps)/secs/1e9, "GFLOP/s")
		}
		d.Free(a)
		d.Free(b)
		d.Free(c)
	}
	return nil
}

// timed repeats op until minTime has passed, waiting for the device (a download of out) at the
// end of each round, and returns the repetitions and seconds.
func timed(d ops.Device, out ops.Buf, op func()) (int, float64, error) {
	sink := make([]float32, out.Len())
	op() // warm up: pipelines, caches
	if err := d.Download(out, sink); err != nil {
		return 0, 0, err
	}
	reps, batch := 0, 1
	start := time.Now()
	for time.Since(start) < minTime {
		for i := 0; i < batch; i++ {
			op()
		}
		if err := d.Download(out, sink); err != nil {
			return 0, 0, err
		}
		reps += batch
		batch *= 2
	}
	return reps, time.Since(start).Seconds(), nil
}

// TrainStep measures training steps of a size preset on a generated text of about a hundred
// distinct characters, in tokens per second and milliseconds per step.
func TrainStep(d ops.Device, preset string, report Reporter) error {
	p, err := core.SizePreset(preset)
	if err != nil {
		return err
	}
	cfg := p.Config
	cfg.Steps, cfg.EvalEvery = core.MaxSteps, core.MaxSteps
	text := SampleText()
	tr, err := core.NewTrainer(d, cfg, text, text[:2000])
	if err != nil {
		return err
	}
	defer tr.Model.Free()
	if _, err := tr.Step(); err != nil {
		return err
	}
	steps := 0
	start := time.Now()
	for time.Since(start) < minTime || steps < 3 {
		if _, err := tr.Step(); err != nil {
			return err
		}
		steps++
	}
	secs := time.Since(start).Seconds()
	report("train step "+preset, float64(steps*cfg.Batch*cfg.Context)/secs, "tokens/s")
	report("train step "+preset+" time", 1000*secs/float64(steps), "ms/step")
	return nil
}

// SampleText repeats every printable ASCII character in a varying order: the text TrainStep
// trains on (the browser benchmark's peer trains on it too).
func SampleText() string {
	var sb strings.Builder
	for i := 0; sb.Len() < 20000; i++ {
		for r := rune(32); r < 127; r++ {
			sb.WriteRune(32 + (r-32+rune(i*7))%95)
		}
		sb.WriteByte('\n')
	}
	return sb.String()
}

// All runs the bench page's figures: matmul at 64, 128 and 256, and training steps of the tiny
// and small presets.
func All(d ops.Device, report Reporter) error {
	if err := MatMul(d, []int{64, 128, 256}, report); err != nil {
		return err
	}
	for _, p := range []string{"tiny", "small"} {
		if err := TrainStep(d, p, report); err != nil {
			return err
		}
	}
	return nil
}

package job

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core"
	"pretune/core/fingerprint"
	"pretune/core/ops"
	"pretune/core/runspec"
)

// failingDevice computes like the CPU device but claims to be a GPU and fails every download
// after the first failAfter, as a lost GPU does.
type failingDevice struct {
	*ops.CPU
	failAfter, downloads int
}

func (d *failingDevice) Name() string { return "webgpu/fake adapter" }

func (d *failingDevice) Download(b ops.Buf, dst []float32) error {
	d.downloads++
	if d.downloads > d.failAfter {
		return errors.New("device lost")
	}
	return d.CPU.Download(b, dst)
}

func tinySpec(t *testing.T) runspec.Spec {
	p, err := runspec.PresetByName("en-tiny")
	require.NoError(t, err)
	return p.Spec
}

// TestLostDeviceFallsBackToCPUExactly loses the "GPU" mid-run: the run must continue on the CPU
// from the last evaluation's snapshot, say so, mark itself mixed, and (because this fake GPU
// computes exactly like the CPU) end with the very weights and losses of a pure CPU run.
func TestLostDeviceFallsBackToCPUExactly(t *testing.T) {
	spec := tinySpec(t)
	cpuRun, err := Run(context.Background(), spec, ops.NewCPU(), Options{})
	require.NoError(t, err)

	var events []Event
	dev := &failingDevice{CPU: ops.NewCPU(), failAfter: 350} // fails between the evaluations at steps 20 and 40
	res, err := Run(context.Background(), spec, dev, Options{FallbackToCPU: true, OnEvent: func(e Event) { events = append(events, e) }})
	require.NoError(t, err)
	var deviceEvents []Event
	for _, e := range events {
		if e.Event == "device" {
			deviceEvents = append(deviceEvents, e)
		}
	}
	require.Len(t, deviceEvents, 1)
	require.Contains(t, deviceEvents[0].Note, "device lost")
	require.Equal(t, 20, deviceEvents[0].Step, "resumes from the evaluation at step 20")
	require.Equal(t, MixedDevice, res.Final.Device)

	_, cpuHash, err := fingerprint.Parse(cpuRun.Final.Fingerprint)
	require.NoError(t, err)
	class, mixedHash, err := fingerprint.Parse(res.Final.Fingerprint)
	require.NoError(t, err)
	require.Equal(t, MixedDevice, class)
	require.Equal(t, cpuHash, mixedHash, "resuming from the snapshot must replay the CPU run exactly")
}

func TestLostDeviceWithoutFallbackFails(t *testing.T) {
	dev := &failingDevice{CPU: ops.NewCPU(), failAfter: 10}
	_, err := Run(context.Background(), tinySpec(t), dev, Options{})
	require.ErrorContains(t, err, "device lost")
}

func TestCancelledRunStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	steps := 0
	_, err := Run(ctx, tinySpec(t), ops.NewCPU(), Options{BetweenSteps: func() {
		steps++
		if steps == 5 {
			cancel()
		}
	}})
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, 5, steps)
}

// TestMaskedObjective: a version-3 spec with the masked objective pretrains a bidirectional
// model through the job, reports the fill-in-the-blank probe like a causal run does, and resumes
// exactly from a snapshot.
func TestMaskedObjective(t *testing.T) {
	p, err := runspec.PresetByName("en-tiny")
	require.NoError(t, err)
	spec := p.Spec
	spec.Objective = runspec.ObjectiveMasked
	var snaps []*Resume
	res, err := Run(context.Background(), spec, ops.NewCPU(), Options{OnSnapshot: func(r *Resume) { snaps = append(snaps, r) }})
	require.NoError(t, err)
	require.Equal(t, ops.Bidirectional, res.Trainer.Model.Mask)
	require.NotNil(t, res.Final.FillBlank)
	require.NotEmpty(t, snaps)

	causal, err := Run(context.Background(), p.Spec, ops.NewCPU(), Options{})
	require.NoError(t, err)
	require.Equal(t, ops.Causal, causal.Trainer.Model.Mask)
	require.NotNil(t, causal.Final.FillBlank)
	require.NotEqual(t, causal.Final.Fingerprint, res.Final.Fingerprint)

	resumed, err := Run(context.Background(), spec, ops.NewCPU(), Options{Resume: snaps[0]})
	require.NoError(t, err)
	require.Equal(t, res.Final.Fingerprint, resumed.Final.Fingerprint)
}

// TestAfterEvalSeesEveryEvaluation: the hook runs once per evaluation, after its event, with
// the trainer at that step; and it does not change the run (same fingerprint as without it).
func TestAfterEvalSeesEveryEvaluation(t *testing.T) {
	spec := tinySpec(t)
	plain, err := Run(context.Background(), spec, ops.NewCPU(), Options{})
	require.NoError(t, err)

	var evalSteps, hookSteps []int
	res, err := Run(context.Background(), spec, ops.NewCPU(), Options{
		OnEvent: func(e Event) {
			if e.Event == "eval" {
				evalSteps = append(evalSteps, e.Step)
			}
		},
		AfterEval: func(tr *core.Trainer) {
			hookSteps = append(hookSteps, tr.StepsDone())
			// The worker writes a sample here: generating must not disturb training.
			_, err := tr.Model.Generate(tr.Tok, "The ", core.SampleOptions{Tokens: 8, Temperature: 0.8, TopK: 5, Seed: 1})
			require.NoError(t, err)
		},
	})
	require.NoError(t, err)
	require.Equal(t, evalSteps, hookSteps)
	require.Equal(t, []int{20, 40, 60}, hookSteps)
	require.Equal(t, plain.Final.Fingerprint, res.Final.Fingerprint)
}

// TestResumeIsExact interrupts a run at an evaluation, encodes its state as the browser keeps
// it, and resumes in a new run: the result is the uninterrupted run's, fingerprint included.
func TestResumeIsExact(t *testing.T) {
	spec := tinySpec(t)
	whole, err := Run(context.Background(), spec, ops.NewCPU(), Options{})
	require.NoError(t, err)

	var saved []byte
	ctx, cancel := context.WithCancel(context.Background())
	_, err = Run(ctx, spec, ops.NewCPU(), Options{OnSnapshot: func(r *Resume) {
		if r.Snapshot.Step == 40 {
			saved, err = r.Bytes()
			require.NoError(t, err)
			require.Len(t, r.Losses, 40)
			cancel() // the tab closes
		}
	}})
	require.ErrorIs(t, err, context.Canceled)
	require.NotNil(t, saved)

	r, err := UnmarshalResume(saved)
	require.NoError(t, err)
	var evals []int
	res, err := Run(context.Background(), spec, ops.NewCPU(), Options{Resume: r, OnEvent: func(e Event) {
		if e.Event == "eval" {
			evals = append(evals, e.Step)
		}
	}})
	require.NoError(t, err)
	require.Equal(t, []int{60}, evals, "only the evaluations after the snapshot")
	require.Equal(t, whole.Final.Fingerprint, res.Final.Fingerprint)
	require.Equal(t, whole.Final.ValLoss, res.Final.ValLoss)

	_, err = UnmarshalResume(saved[:len(saved)/2])
	require.ErrorContains(t, err, "damaged")
	r.Losses = r.Losses[:3]
	_, err = Run(context.Background(), spec, ops.NewCPU(), Options{Resume: r})
	require.ErrorContains(t, err, "does not fit")
}

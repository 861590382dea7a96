package job

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core"
	"pretune/core/checkpoint"
	"pretune/core/ops"
)

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

// TestRunFromBase trains a saved model further: it keeps the saved shape and tokenizer, takes
// the spec's schedule, and starts from the saved weights (its first held-out loss is far below
// a fresh model's).
func TestRunFromBase(t *testing.T) {
	spec := tinySpec(t)
	first, err := Run(context.Background(), spec, ops.NewCPU(), Options{})
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, checkpoint.Save(&buf, first.Trainer.Model, first.Trainer.Tok, nil))

	var fresh, fromBase []Event
	_, err = Run(context.Background(), spec, ops.NewCPU(), Options{OnEvent: func(e Event) { fresh = append(fresh, e) }})
	require.NoError(t, err)

	base, err := checkpoint.Load(bytes.NewReader(buf.Bytes()), ops.NewCPU())
	require.NoError(t, err)
	spec.Config.Steps, spec.Config.EvalEvery, spec.Config.Warmup = 10, 5, 2
	res, err := Run(context.Background(), spec, ops.NewCPU(), Options{Base: base, OnEvent: func(e Event) { fromBase = append(fromBase, e) }})
	require.NoError(t, err)
	require.Equal(t, 10, res.Trainer.StepsDone())
	require.Equal(t, first.Trainer.Model.Cfg.Dim, res.Trainer.Model.Cfg.Dim)
	require.Equal(t, first.Trainer.Tok.VocabSize(), res.Trainer.Tok.VocabSize())
	require.Less(t, fromBase[0].ValLoss, fresh[0].ValLoss-0.2, "training resumes from the saved weights")
	require.Equal(t, "result", fromBase[len(fromBase)-1].Event)
}

func TestRunFromBaseRefusesABadSchedule(t *testing.T) {
	spec := tinySpec(t)
	first, err := Run(context.Background(), spec, ops.NewCPU(), Options{})
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, checkpoint.Save(&buf, first.Trainer.Model, first.Trainer.Tok, nil))
	base, err := checkpoint.Load(bytes.NewReader(buf.Bytes()), ops.NewCPU())
	require.NoError(t, err)
	spec.Config.LR = 0
	_, err = Run(context.Background(), spec, ops.NewCPU(), Options{Base: base})
	require.ErrorContains(t, err, "base model with this schedule")
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

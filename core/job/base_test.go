package job

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/checkpoint"
	"pretune/core/ops"
)

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

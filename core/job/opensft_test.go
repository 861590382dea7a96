package job

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/checkpoint"
	"pretune/core/feedback"
	"pretune/core/ops"
)

// TestOpenSFT: OpenSFT without a base pretrains and fine-tunes, reports both and then the SFT
// model's result, whose fingerprint is the one the feedback stage's SFT result carries; the
// model saves as the spec's kept SFT model, and a run from it, or from the same weights taken as
// they are (AsSFT, a learner's file: its pretraining result says so), gives every result the
// same fingerprint. With Progress, every step of the stage is reported, and a method's result
// carries its samples over time.
func TestOpenSFT(t *testing.T) {
	if testing.Short() {
		t.Skip("pretrains, fine-tunes and runs the feedback stage twice: about 15 s natively")
	}
	spec := tinyFeedback(t)
	ctx := context.Background()
	opened, on := collect()
	sft, err := OpenSFT(ctx, spec, ops.NewCPU(), Options{OnEvent: on})
	require.NoError(t, err)
	defer sft.Free()
	require.Equal(t, []string{MethodPretrain, feedback.SFT}, opened.order)
	require.NotEmpty(t, opened.evals[MethodPretrain])
	require.NotEmpty(t, opened.evals[feedback.SFT], "the SFT fine-tuning reports its evaluations")
	require.True(t, sft.OfSpec)
	sftEv := opened.results[feedback.SFT][0]
	require.NotNil(t, sftEv.TaskAccuracy)

	var kept, file bytes.Buffer
	require.NoError(t, sft.Save(&kept))
	ck, err := checkpoint.Load(bytes.NewReader(kept.Bytes()), ops.NewCPU())
	require.NoError(t, err)
	require.True(t, IsSFTOf(ck, spec), "saved as the spec's kept SFT model")
	require.Equal(t, opened.results[MethodPretrain][0].Fingerprint, ck.Meta[MetaPretrainFingerprint])
	asIs := &SFT{Spec: spec, Model: sft.Model, Tok: sft.Tok}
	require.NoError(t, asIs.Save(&file))
	plain, err := checkpoint.Load(bytes.NewReader(file.Bytes()), ops.NewCPU())
	require.NoError(t, err)
	require.False(t, IsSFTOf(plain, spec), "a learner's file records no spec")

	fromKept, on := collect()
	progress := map[string]int{}
	_, err = Run(ctx, spec, ops.NewCPU(), Options{Base: ck, Progress: true, OnEvent: func(e Event) {
		if e.Event == "progress" {
			progress[e.Method]++
		}
		on(e)
	}})
	require.NoError(t, err)
	require.Equal(t, sftEv.Fingerprint, fromKept.results[feedback.SFT][0].Fingerprint, "OpenSFT's SFT result is the stage's")
	require.Equal(t, spec.Feedback.RewardSteps, progress[feedback.RewardModel])
	for _, m := range spec.Feedback.Methods {
		require.Equal(t, spec.Feedback.Steps, progress[m.Label()], m.Label())
		over := fromKept.results[m.Label()][0].OverTime
		require.NotEmpty(t, over, m.Label())
		require.Equal(t, spec.Feedback.Steps, over[len(over)-1].Step, "the last evaluation's samples")
	}

	fromFile, on := collect()
	res, err := Run(ctx, spec, ops.NewCPU(), Options{Base: plain, AsSFT: true, OnEvent: on})
	require.NoError(t, err)
	require.Contains(t, res.Final.Note, "did not run here")
	want, err := feedback.WeightsFingerprint(plain.Model)
	require.NoError(t, err)
	require.Equal(t, want, res.Final.Fingerprint, "the file's weights")
	require.Empty(t, fromFile.evals[feedback.SFT], "a learner's file is not fine-tuned")
	require.Equal(t, fromKept.order, fromFile.order)
	for _, name := range fromKept.order[1:] {
		require.Equal(t, fromKept.results[name][0].Fingerprint, fromFile.results[name][0].Fingerprint, name)
	}
}

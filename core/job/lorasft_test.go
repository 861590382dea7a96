package job

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core"
	"pretune/core/checkpoint"
	"pretune/core/compare"
	"pretune/core/feedback"
	"pretune/core/ops"
	"pretune/core/runspec"
)

// loraFeedback is tinyFeedback starting from a LoRA method's SFT model, with PPO on its own LoRA
// alone (a policy's LoRA on a model whose LoRA is baked in).
func loraFeedback(t testing.TB) runspec.Spec {
	spec := tinyFeedback(t)
	spec.Methods = []compare.Method{compare.Defaults(compare.LoRA)}
	cfg := *spec.Feedback
	ppo := feedback.Defaults(feedback.PPO)
	ppo.Rank = 2
	cfg.Methods = []feedback.Method{ppo}
	spec.Feedback = &cfg
	_, err := runspec.Encode(spec)
	require.NoError(t, err)
	return spec
}

// TestLoRASFT: the SFT model of a LoRA method is that comparison lane baked in: TrainSFT's
// result is compare's LoRA lane (its fingerprint, from job.Run of the comparison alone), the
// model is plain (no LoRA, every tensor trainable) and answers as the lane's merged model
// answered; it saves as the spec's kept SFT model (not full fine-tuning's), and the feedback
// stage runs from it, PPO attaching its own LoRA, the stage's SFT result being these weights.
func TestLoRASFT(t *testing.T) {
	if testing.Short() {
		t.Skip("pretrains, compares, fine-tunes and runs a feedback stage: about 10 s natively")
	}
	spec := loraFeedback(t)
	ctx := context.Background()
	pre, err := Run(ctx, spec.Pretraining(), ops.NewCPU(), Options{})
	require.NoError(t, err)
	var baseBuf bytes.Buffer
	require.NoError(t, SaveBase(&baseBuf, spec, pre))
	base, err := checkpoint.Load(bytes.NewReader(baseBuf.Bytes()), ops.NewCPU())
	require.NoError(t, err)

	lanes, on := collect()
	_, err = Run(ctx, spec.SFT(), ops.NewCPU(), Options{Base: base, OnEvent: on})
	require.NoError(t, err)
	label := spec.Methods[0].Label()
	lane := lanes.results[label]
	require.Len(t, lane, 1, "the comparison's LoRA lane")

	m, res, err := TrainSFT(ctx, spec, base.Model, base.Tok, nil)
	require.NoError(t, err)
	defer m.Free()
	require.Equal(t, lane[0].Fingerprint, res.Fingerprint, "the SFT model is the compare lane's")
	_, has := m.LoRA()
	require.False(t, has, "the adapter is baked in")
	require.Empty(t, m.MethodParams())
	require.Equal(t, m.ParamCount(), m.TrainableCount())

	t5, err := taskFor(spec, base.Tok)
	require.NoError(t, err)
	ft, err := core.NewFineTuner(m, base.Tok, t5, core.FineTuneOptions{})
	require.NoError(t, err)
	var prompts, want []string
	for _, a := range res.AnswersMerged {
		prompts, want = append(prompts, a.Prompt), append(want, a.Answer)
	}
	require.NotEmpty(t, prompts)
	got, err := ft.Answers(prompts)
	require.NoError(t, err)
	require.Equal(t, want, got, "the baked model answers as the lane's merged model")

	var buf bytes.Buffer
	require.NoError(t, SaveSFT(&buf, spec, base, m, base.Tok, res), "a baked model saves as a plain checkpoint")
	ck, err := checkpoint.Load(bytes.NewReader(buf.Bytes()), ops.NewCPU())
	require.NoError(t, err)
	require.True(t, IsSFTOf(ck, spec))
	require.False(t, IsSFTOf(ck, tinyFeedback(t)), "not full fine-tuning's SFT model")
	require.Equal(t, lane[0].Fingerprint, ck.Meta[MetaFingerprint])

	stage, on := collect()
	_, err = Run(ctx, spec, ops.NewCPU(), Options{Base: base, OnEvent: on})
	require.NoError(t, err)
	wantFP, err := feedback.WeightsFingerprint(m)
	require.NoError(t, err)
	require.Equal(t, wantFP, stage.results[feedback.SFT][0].Fingerprint, "the stage starts from the baked model")
	ppo := stage.results[spec.Feedback.Methods[0].Label()]
	require.Len(t, ppo, 1)
	require.Less(t, ppo[0].TrainableParams, m.ParamCount()/2, "PPO trains its own LoRA, not the whole model")
}

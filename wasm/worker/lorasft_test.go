package worker

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/checkpoint"
	"pretune/core/compare"
	"pretune/core/feedback"
	"pretune/core/job"
	"pretune/core/ops"
	"pretune/core/protocol"
	"pretune/core/runspec"
)

// TestFeedbackFromLoRA is the feedback view starting from a LoRA method just fine-tuned in the
// compare view: the compare view's worker runs the comparison of that one method and saves its
// base; the picker's open_sft of the feedback link from that base fine-tunes the method again and
// holds the same model, baked: its kept copy records the compare lane's fingerprint and saves as a
// plain checkpoint, and the sft result's fingerprint is that checkpoint's weights'; sample_pairs
// then draws offers from it.
func TestFeedbackFromLoRA(t *testing.T) {
	if testing.Short() {
		t.Skip("pretrains, compares and fine-tunes again: about 10 s natively")
	}
	spec, _ := pickerSpec(t)
	spec.Methods = []compare.Method{{Kind: compare.LoRA, Rank: 2}}
	code, err := runspec.Encode(spec)
	require.NoError(t, err)
	cmpCode, err := runspec.Encode(spec.SFT())
	require.NoError(t, err)

	cmp := newPage(t)
	run := cmp.ask(protocol.Request{Kind: protocol.Start, Code: cmpCode, Device: "cpu"})
	cmp.answer(run, protocol.Done)
	lane := results(cmp.of(run))[spec.Methods[0].Label()]
	require.NotNil(t, lane, "the comparison's LoRA lane")
	save := cmp.ask(protocol.Request{Kind: protocol.Save, Format: protocol.FormatBase})
	cmp.answer(save, protocol.Done)
	base := cmp.of(save)[0]
	require.Equal(t, protocol.Saved, base.Kind)

	p := newPage(t)
	open := p.ask(protocol.Request{Kind: protocol.OpenSFT, Code: code, Device: "cpu", Base: base.Data})
	p.answer(open, protocol.Done)
	sft := results(p.of(open))[feedback.SFT]
	require.NotNil(t, sft)
	require.Equal(t, lane.TaskAccuracy, sft.TaskAccuracy, "the lane's model, measured the same")

	kept := p.ask(protocol.Request{Kind: protocol.Save, Format: protocol.FormatSFT})
	p.answer(kept, protocol.Done)
	ck, err := checkpoint.Load(bytes.NewReader(p.of(kept)[0].Data), ops.NewCPU())
	require.NoError(t, err, "the LoRA SFT model saves as a plain checkpoint")
	defer ck.Model.Free()
	require.True(t, job.IsSFTOf(ck, spec))
	require.Equal(t, lane.Fingerprint, ck.Meta[job.MetaFingerprint], "the SFT model is the compare lane's LoRA model")
	require.Empty(t, ck.Model.MethodParams())
	want, err := feedback.WeightsFingerprint(ck.Model)
	require.NoError(t, err)
	require.Equal(t, want, sft.Fingerprint, "the sft result is the held model's weights")

	pairs := p.ask(protocol.Request{Kind: protocol.SamplePairs, Code: code, Count: 3, Seed: 1})
	got := p.of(pairs)
	require.Equal(t, []string{protocol.Pairs, protocol.Done}, kinds(got))
	require.Len(t, got[0].Offers, 3)
	for _, o := range got[0].Offers {
		require.NotEmpty(t, o.A)
		require.NotEqual(t, o.A, o.B)
	}
}

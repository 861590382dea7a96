package worker

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/feedback"
	"pretune/core/feedback/feedbacktest"
	"pretune/core/job"
	"pretune/core/protocol"
	"pretune/core/runspec"
)

// tinyFeedback is feedbacktest's spec that runs in seconds, as a code.
func tinyFeedback(t *testing.T) string {
	t.Helper()
	spec, err := feedbacktest.TinySpec()
	require.NoError(t, err)
	code, err := runspec.Encode(spec)
	require.NoError(t, err)
	require.Equal(t, byte('5'), code[0])
	return code
}

// TestFeedback: a version-5 link goes through the worker's start request unchanged: the run
// pretrains, fine-tunes the SFT model and runs the feedback stage, and the page receives each
// model's result, with the feedback measures, before done.
func TestFeedback(t *testing.T) {
	p := newPage(t)
	run := p.ask(protocol.Request{Kind: protocol.Start, Code: tinyFeedback(t), Device: "cpu"})
	p.answer(run, protocol.Done)
	results := map[string]bool{}
	evals := 0
	for _, m := range p.of(run) {
		switch {
		case m.Kind == protocol.Result:
			results[m.Event.Method] = true
			if m.Event.Method == feedback.PPO {
				require.NotNil(t, m.Event.Reward)
				require.NotNil(t, m.Event.KL)
				require.NotNil(t, m.Event.GoldWinRate)
				require.Equal(t, feedback.JudgeRewardModel, m.Event.WinJudge)
			}
		case m.Kind == protocol.Eval && m.Event.Reward != nil:
			evals++
		}
	}
	for _, name := range []string{"pretrain", feedback.SFT, feedback.RewardModel, feedback.PPO, feedback.DPO, feedback.GRPO} {
		require.True(t, results[name], "no result for %s", name)
	}
	require.Positive(t, evals, "the methods' evaluations carry their reward")
}

// pickerSpec is feedbacktest's spec with the en-food taste beside its pairs (the taste judges),
// and its code.
func pickerSpec(t *testing.T) (runspec.Spec, string) {
	t.Helper()
	spec, err := feedbacktest.TinySpec()
	require.NoError(t, err)
	cfg := *spec.Feedback
	cfg.Taste = "en-food"
	spec.Feedback = &cfg
	code, err := runspec.Encode(spec)
	require.NoError(t, err)
	return spec, code
}

// results are the result events among msgs, by method.
func results(msgs []protocol.Message) map[string]*job.Event {
	out := map[string]*job.Event{}
	for _, m := range msgs {
		if m.Kind == protocol.Result {
			out[m.Event.Method] = m.Event
		}
	}
	return out
}

// TestFeedbackPicker is the feedback view's picker worker: open_sft pretrains and fine-tunes the
// SFT model, then its result; sample_pairs draws offers of two different answers; train_reward
// reports its steps, its result judged by the taste, and one score per pick (held ones marked);
// score answers as the pair's score; save in format sft gives the bytes a method worker starts
// from, and a one-method start from them reproduces the whole stage run in one worker (the
// reward model the picker trained too). A stop during train_reward answers "stopped" and keeps
// the reward model before it.
func TestFeedbackPicker(t *testing.T) {
	if testing.Short() {
		t.Skip("pretrains, fine-tunes and runs the feedback stage twice: about 20 s natively")
	}
	spec, code := pickerSpec(t)
	p := newPage(t)
	open := p.ask(protocol.Request{Kind: protocol.OpenSFT, Code: code, Device: "cpu"})
	got := p.of(open)
	require.Equal(t, protocol.Device, got[0].Kind)
	require.Equal(t, []string{protocol.Result, protocol.Done}, kinds(got[len(got)-2:]))
	require.Equal(t, feedback.SFT, got[len(got)-2].Event.Method)
	require.Contains(t, kinds(got), protocol.Eval, "the pretraining and the SFT fine-tuning report their evaluations")

	pairs := p.ask(protocol.Request{Kind: protocol.SamplePairs, Code: code, Count: 5, Seed: 2})
	got = p.of(pairs)
	require.Equal(t, []string{protocol.Pairs, protocol.Done}, kinds(got))
	require.Len(t, got[0].Offers, 5)
	for _, o := range got[0].Offers {
		require.NotEmpty(t, o.A)
		require.NotEqual(t, o.A, o.B)
	}

	train := p.ask(protocol.Request{Kind: protocol.TrainReward, Code: code})
	got = p.of(train)
	require.Equal(t, []string{protocol.Result, protocol.Scores, protocol.Done}, kinds(got[len(got)-3:]))
	progress := 0
	for _, m := range got {
		if m.Kind == protocol.Progress {
			require.Equal(t, feedback.RewardModel, m.Event.Method)
			progress++
		}
	}
	require.Equal(t, spec.Feedback.RewardSteps, progress, "every step of the reward model")
	rm := got[len(got)-3].Event
	require.Equal(t, feedback.RewardModel, rm.Method)
	require.NotNil(t, rm.RMGoldAccuracy, "the taste judges the picks")
	picks, err := spec.Prefs.Resolve()
	require.NoError(t, err)
	scores := got[len(got)-2].PairScores
	require.Len(t, scores, len(picks))
	for i, s := range scores {
		require.Equal(t, i%5 == 4, s.Held, "pick %d", i)
	}
	score := p.ask(protocol.Request{Kind: protocol.Score, Prompt: picks[3].Prompt, Text: picks[3].Chosen})
	got = p.of(score)
	require.Equal(t, []string{protocol.ScoreOf, protocol.Done}, kinds(got))
	require.InDelta(t, scores[3].Chosen, got[0].Value, 1e-5, "the kept reward model scores as it scored the pick")

	save := p.ask(protocol.Request{Kind: protocol.Save, Format: protocol.FormatSFT})
	got = p.of(save)
	require.Equal(t, []string{protocol.Saved, protocol.Done}, kinds(got))
	require.Equal(t, protocol.FormatSFT, got[0].Format)
	sftBytes := got[0].Data

	// A stop during train_reward: "stopped", and the reward model before it stays.
	long := spec
	cfg := *spec.Feedback
	cfg.RewardSteps = feedback.MaxSteps
	long.Feedback = &cfg
	longCode, err := runspec.Encode(long)
	require.NoError(t, err)
	run := p.begin(protocol.Request{Kind: protocol.TrainReward, Code: longCode})
	p.waitKind(run, protocol.Progress)
	busy := p.ask(protocol.Request{Kind: protocol.Start, Code: code})
	require.Contains(t, p.answer(busy, protocol.Error).Error, "already in progress")
	p.answer(p.ask(protocol.Request{Kind: protocol.Stop}), protocol.Done)
	require.Equal(t, "stopped", p.waitEnd(run).Error)
	again := p.ask(protocol.Request{Kind: protocol.Score, Prompt: picks[3].Prompt, Text: picks[3].Chosen})
	require.InDelta(t, scores[3].Chosen, p.of(again)[0].Value, 1e-5)

	// The whole stage in one worker, and a method worker from the saved SFT model.
	whole := newPage(t)
	all := whole.ask(protocol.Request{Kind: protocol.Start, Code: code, Device: "cpu"})
	whole.answer(all, protocol.Done)
	stage := results(whole.of(all))
	require.Equal(t, feedback.JudgeTaste, stage[feedback.DPO].WinJudge, "the taste judges the picks' methods")
	require.Equal(t, rm.Fingerprint, stage[feedback.RewardModel].Fingerprint, "the picker's reward model is the stage's")

	one := spec
	cfg = *spec.Feedback
	cfg.Methods = []feedback.Method{feedback.Defaults(feedback.DPO)}
	one.Feedback = &cfg
	oneCode, err := runspec.Encode(one)
	require.NoError(t, err)
	method := p.ask(protocol.Request{Kind: protocol.Start, Code: oneCode, Device: "cpu", Base: sftBytes})
	p.answer(method, protocol.Done)
	lane := results(p.of(method))
	require.Equal(t, stage[feedback.DPO].Fingerprint, lane[feedback.DPO].Fingerprint, "a method worker from the saved SFT model")
	require.Equal(t, stage[feedback.SFT].Fingerprint, lane[feedback.SFT].Fingerprint)
	require.Equal(t, stage[job.MethodPretrain].Fingerprint, lane[job.MethodPretrain].Fingerprint, "the kept SFT model records its pretraining")
}

// TestFeedbackPickerRefusals: each feedback request without what it needs gets one error
// saying what to do first.
func TestFeedbackPickerRefusals(t *testing.T) {
	_, code := pickerSpec(t)
	for _, tc := range []struct {
		name string
		req  protocol.Request
		err  string
	}{
		{"sample_pairs before open_sft", protocol.Request{Kind: protocol.SamplePairs, Code: code, Count: 2}, "open it first (open_sft)"},
		{"train_reward before open_sft", protocol.Request{Kind: protocol.TrainReward, Code: code}, "open it first (open_sft)"},
		{"score before train_reward", protocol.Request{Kind: protocol.Score, Prompt: "Tell me about the fox.", Text: "eggs"}, "train it first (train_reward)"},
		{"save sft before open_sft", protocol.Request{Kind: protocol.Save, Format: protocol.FormatSFT}, "open it first (open_sft)"},
		{"open_sft of a link without feedback", protocol.Request{Kind: protocol.OpenSFT, Code: tinyComparison(t)}, "no feedback stage"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPage(t)
			id := p.ask(tc.req)
			got := p.of(id)
			require.Len(t, got, 1, "%v", kinds(got))
			require.Equal(t, protocol.Error, got[0].Kind)
			require.Contains(t, got[0].Error, tc.err)
		})
	}
}

// TestDecidedPairs: from the kept SFT model (recognised: nothing trains), decided offers are all
// ones the taste tells apart, with two different answers, and the taste's side is the one it
// scores higher; a picks file with a character the model never saw is refused by train_reward,
// naming it.
func TestDecidedPairs(t *testing.T) {
	kept, err := os.ReadFile(filepath.Join("..", "..", "web", "base", "en-sft.ckpt"))
	require.NoError(t, err, "the kept SFT model is missing: run make base")
	preset, err := runspec.PresetByName("en-feedback")
	require.NoError(t, err)
	code, err := runspec.Encode(preset.Spec)
	require.NoError(t, err)
	p := newPage(t)
	open := p.ask(protocol.Request{Kind: protocol.OpenSFT, Code: code, Device: "cpu", Base: kept})
	got := p.of(open)
	require.Equal(t, []string{protocol.Device, protocol.Result, protocol.Result, protocol.Done}, kinds(got), "a kept SFT model trains nothing")
	require.Contains(t, got[2].Event.Note, "kept copy")

	pairs := p.ask(protocol.Request{Kind: protocol.SamplePairs, Code: code, Count: 6, Seed: 1, Decided: true})
	got = p.of(pairs)
	require.Equal(t, []string{protocol.Pairs, protocol.Done}, kinds(got))
	require.Len(t, got[0].Offers, 6)
	taste, err := feedback.BuiltinTaste(preset.Spec.Feedback.Taste)
	require.NoError(t, err)
	for _, o := range got[0].Offers {
		require.NotEqual(t, o.A, o.B)
		require.NotZero(t, o.Taste, "%+v", o)
		require.Equal(t, taste.Verdict(o.Prompt, o.A, o.B), o.Taste, "%+v", o)
	}

	var sb strings.Builder
	for i := 0; i < 12; i++ {
		fmt.Fprintf(&sb, "Tell me about the fox.\tIt eats eggs %c.\tIt is red.\n", 'a'+i)
	}
	text := strings.Replace(sb.String(), "eggs d", "eggs ✓", 1)
	ref, err := runspec.UserPrefsRef("picks.tsv", text)
	require.NoError(t, err)
	bad := preset.Spec
	bad.Prefs = ref
	badCode, err := runspec.Encode(bad)
	require.NoError(t, err)
	train := p.ask(protocol.Request{Kind: protocol.TrainReward, Code: badCode})
	require.Contains(t, p.answer(train, protocol.Error).Error, `pair 4: "✓"`)
}

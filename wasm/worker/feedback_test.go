package worker

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/feedback"
	"pretune/core/protocol"
	"pretune/core/runspec"
)

// tinyFeedback is a feedback code that runs in seconds: the en-tiny pretraining with a context
// of 64, 10 steps of full fine-tuning, then en-feedback's stage cut to 2 steps of each method on
// a learner's 12 pairs (a model this small never writes what a taste wants).
func tinyFeedback(t *testing.T) string {
	t.Helper()
	tiny, err := runspec.PresetByName("en-tiny")
	require.NoError(t, err)
	fp, err := runspec.PresetByName("en-feedback")
	require.NoError(t, err)
	spec := fp.Spec
	spec.Corpus, spec.Config = tiny.Spec.Corpus, tiny.Spec.Config
	spec.Config.Context = 64
	spec.FineTune = &runspec.FineTune{Steps: 10, Warmup: 1, EvalEvery: 5}
	cfg := *spec.Feedback
	cfg.Taste = ""
	cfg.Steps, cfg.RewardSteps, cfg.Pairs, cfg.EvalEvery, cfg.EvalSamples, cfg.Tokens = 2, 2, 8, 1, 1, 8
	spec.Feedback = &cfg
	var tsv strings.Builder
	for _, a := range []string{"fox", "cat", "owl", "bear"} {
		fmt.Fprintf(&tsv, "Tell me about the %s.\t The %s eats eggs.\t The %s is red.\n", a, a, a)
		fmt.Fprintf(&tsv, "Say something about the %s.\t It eats seeds.\t It sleeps.\n", a)
		fmt.Fprintf(&tsv, "What does the %s like?\t It likes to eat fish.\t It likes the wood.\n", a)
	}
	spec.Prefs, err = runspec.UserPrefsRef("food.tsv", tsv.String())
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

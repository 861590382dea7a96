package worker

import (
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/feedback"
	"pretune/core/feedback/feedbacktest"
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

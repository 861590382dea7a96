package job

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pretune/core/checkpoint"
	"pretune/core/compare"
	"pretune/core/feedback"
	"pretune/core/feedback/feedbacktest"
	"pretune/core/fingerprint"
	"pretune/core/ops"
	"pretune/core/runspec"
	"pretune/core/task"
)

// tinyFeedback is feedbacktest's spec that runs in seconds.
func tinyFeedback(t testing.TB) runspec.Spec {
	spec, err := feedbacktest.TinySpec()
	require.NoError(t, err)
	return spec
}

// feedbackEvents collects a run's events: evaluations and results by method.
type feedbackEvents struct {
	evals   map[string][]Event
	results map[string][]Event
	order   []string // result methods in order
}

func collect() (*feedbackEvents, func(Event)) {
	fe := &feedbackEvents{evals: map[string][]Event{}, results: map[string][]Event{}}
	return fe, func(e Event) {
		switch e.Event {
		case "eval":
			fe.evals[e.Method] = append(fe.evals[e.Method], e)
		case "result":
			fe.results[e.Method] = append(fe.results[e.Method], e)
			fe.order = append(fe.order, e.Method)
		}
	}
}

// TestFeedbackRun runs a feedback link from scratch: pretraining, the SFT model's fine-tuning,
// then the feedback stage. Every method reports evaluations with reward and KL and one result
// with the feedback measures; the reward model its accuracies; a second run repeats every
// fingerprint; a link carrying them says each matches, and one carrying a wrong one says it
// differs.
func TestFeedbackRun(t *testing.T) {
	if testing.Short() {
		t.Skip("two feedback runs: 15 s natively, over a minute as wasm")
	}
	spec := tinyFeedback(t)
	start := time.Now()
	fe, on := collect()
	res, err := Run(context.Background(), spec, ops.NewCPU(), Options{OnEvent: on})
	require.NoError(t, err)
	t.Logf("one tiny feedback run: %v", time.Since(start))

	want := []string{MethodPretrain, feedback.SFT, feedback.RewardModel}
	for _, m := range spec.Feedback.Methods {
		want = append(want, m.Label())
	}
	require.Equal(t, want, fe.order, "one result per model, in order")
	require.Len(t, res.Feedback, len(want)-1)
	require.NotEmpty(t, fe.evals[feedback.SFT], "the SFT model's fine-tuning reports its evaluations")
	for _, m := range spec.Feedback.Methods {
		evals := fe.evals[m.Label()]
		require.NotEmpty(t, evals, m.Label())
		for _, e := range evals {
			require.NotNil(t, e.Reward, m.Label())
			require.NotNil(t, e.KL, m.Label())
			require.Equal(t, "cpu", e.Device)
		}
		r := fe.results[m.Label()][0]
		require.Equal(t, m.Kind, r.Kind)
		for name, v := range map[string]*float64{"reward": r.Reward, "kl": r.KL, "gold_win_rate": r.GoldWinRate, "task_accuracy": r.TaskAccuracy} {
			require.NotNil(t, v, "%s: %s", m.Label(), name)
		}
		require.Equal(t, feedback.JudgeRewardModel, r.WinJudge, "no taste: the reward model judges")
		require.Nil(t, r.TasteScore, "no taste, no taste score")
		require.Regexp(t, `^cpu:[0-9a-f]{12}$`, r.Fingerprint)
		require.Empty(t, r.Match, "the link carries no fingerprints")
	}
	rm := fe.results[feedback.RewardModel][0]
	require.NotNil(t, rm.RMAccuracy)
	require.Nil(t, rm.RMGoldAccuracy, "no taste to measure it against")
	require.Nil(t, rm.Reward)
	sft := fe.results[feedback.SFT][0]
	require.InDelta(t, 0.5, *sft.GoldWinRate, 1e-9, "the SFT model against itself")

	// Again, with the fingerprints of the first run in the link (and one wrong).
	spec.Fingerprints = map[string]string{}
	for _, r := range res.Feedback {
		spec.Fingerprints[r.Method] = r.Fingerprint
	}
	spec.Fingerprints[feedback.DPO] = "cpu:000000000000"
	code, err := runspec.Encode(spec)
	require.NoError(t, err)
	spec, err = runspec.Decode(code)
	require.NoError(t, err)
	again, on := collect()
	_, err = Run(context.Background(), spec, ops.NewCPU(), Options{OnEvent: on})
	require.NoError(t, err)
	for _, name := range want[1:] {
		r := again.results[name][0]
		wantMatch := fingerprint.Matches
		if name == feedback.DPO {
			wantMatch = fingerprint.Differs
		}
		require.Equal(t, wantMatch, r.Match, name)
		require.Equal(t, fe.results[name][0].Fingerprint, r.Fingerprint, "%s repeats exactly", name)
	}
}

// TestKeptSFT: an SFT model saved by SaveSFT (from a base SaveBase saved) is recognised as its
// spec's SFT model and not as a base; saving it twice gives the same bytes; a run from it skips
// pretraining and fine-tuning and gives the very fingerprints of the run from its base.
func TestKeptSFT(t *testing.T) {
	if testing.Short() {
		t.Skip("fine-tunes and runs a feedback stage twice: 14 s natively, over a minute as wasm")
	}
	spec := tinyFeedback(t)
	ctx := context.Background()
	pre, err := Run(ctx, spec.Pretraining(), ops.NewCPU(), Options{})
	require.NoError(t, err)
	var baseBuf bytes.Buffer
	require.NoError(t, SaveBase(&baseBuf, spec, pre))
	base, err := checkpoint.Load(bytes.NewReader(baseBuf.Bytes()), ops.NewCPU())
	require.NoError(t, err)

	var saved [2][]byte
	for i := range saved {
		m, r, err := TrainSFT(ctx, spec, base.Model, base.Tok, nil)
		require.NoError(t, err)
		var buf bytes.Buffer
		require.NoError(t, SaveSFT(&buf, spec, base, m, base.Tok, r))
		m.Free()
		saved[i] = buf.Bytes()
	}
	require.Equal(t, saved[0], saved[1], "the same SFT model writes the same bytes")
	sft, err := checkpoint.Load(bytes.NewReader(saved[0]), ops.NewCPU())
	require.NoError(t, err)
	require.True(t, IsSFTOf(sft, spec))
	require.False(t, IsBaseOf(sft, spec), "an SFT model is no base for a comparison")
	require.False(t, IsSFTOf(base, spec))
	require.Same(t, sft, KeptSFT(spec, []*checkpoint.Checkpoint{base, sft}))
	lesson := spec
	lesson.Feedback, lesson.Methods = nil, []compare.Method{{Kind: compare.Full}, {Kind: compare.LoRA, Rank: 2}}
	require.Nil(t, KeptBase(lesson, []*checkpoint.Checkpoint{sft}), "a comparison never starts from an SFT model")
	other := spec
	ft := *other.FineTune
	ft.Steps = 9
	other.FineTune = &ft
	require.False(t, IsSFTOf(sft, other))

	fromBase, on := collect()
	_, err = Run(ctx, spec, ops.NewCPU(), Options{Base: base, OnEvent: on})
	require.NoError(t, err)
	fromSFT, on := collect()
	res, err := Run(ctx, spec, ops.NewCPU(), Options{Base: sft, OnEvent: on})
	require.NoError(t, err)
	require.Empty(t, fromSFT.evals[feedback.SFT], "the kept SFT model is not trained again")
	require.Equal(t, pre.Final.Fingerprint, res.Final.Fingerprint, "the pretraining's fingerprint comes from the kept file")
	require.Contains(t, res.Final.Note, "kept copy of the SFT model")
	require.Equal(t, fromBase.order, fromSFT.order)
	for _, name := range fromBase.order[1:] {
		require.Equal(t, fromBase.results[name][0].Fingerprint, fromSFT.results[name][0].Fingerprint, name)
	}
}

// TestFeedbackRefusesBadPrefsFirst: a learner's preference file with characters the model never
// saw is refused before anything trains (no event at all), naming the pair.
func TestFeedbackRefusesBadPrefsFirst(t *testing.T) {
	spec := tinyFeedback(t)
	var sb strings.Builder
	for i := 0; i < 12; i++ {
		fmt.Fprintf(&sb, "What does the fox eat?\t eggs %d\t grass\n", i)
	}
	text := strings.Replace(sb.String(), "eggs 3", "eggs ✓", 1)
	ref, err := runspec.UserPrefsRef("mine.tsv", text)
	require.NoError(t, err)
	spec.Prefs = ref
	var events []Event
	_, err = Run(context.Background(), spec, ops.NewCPU(), Options{OnEvent: func(e Event) { events = append(events, e) }})
	var unseen *feedback.UnseenError
	require.True(t, errors.As(err, &unseen), "%v", err)
	require.Contains(t, err.Error(), `pair 4: "✓"`)
	require.Empty(t, events, "nothing trained")
}

// TestTastesFitTheirSFT: every built-in taste's prompts are written in characters its
// language's kept SFT model knows, and fit its context with room for an answer (a taste
// prompt with a character the pretraining text never had fails only after the whole setup).
func TestTastesFitTheirSFT(t *testing.T) {
	for _, id := range feedback.Tastes() {
		taste, err := feedback.BuiltinTaste(id)
		require.NoError(t, err)
		ck, _ := loadKeptBase(t, taste.Lang+"-sft")
		for _, p := range append(append([]string(nil), taste.Train...), taste.Held...) {
			text := task.PromptText(p)
			for _, r := range text {
				require.True(t, ck.Tok.Knows(r), "taste %s: %q in %q is not in %s-sft's vocabulary", id, string(r), p, taste.Lang)
			}
			require.LessOrEqual(t, len([]rune(text))+8, ck.Model.Cfg.Context, "taste %s: %q leaves no room for an answer", id, p)
		}
	}
}

package feedback

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSampleOffers: offers are two different non-empty answers to the taste's training prompts,
// each with the taste's verdict; a seed gives the same offers again and another seed others.
func TestSampleOffers(t *testing.T) {
	m, tk := tasteSFT(t)
	defer m.Free()
	taste, err := BuiltinTaste("en-food")
	require.NoError(t, err)
	train := map[string]bool{}
	for _, p := range taste.Train {
		train[p] = true
	}
	offers, err := SampleOffers(context.Background(), m, tk, "en-food", 6, 8, 3, false)
	require.NoError(t, err)
	require.Len(t, offers, 6)
	for _, o := range offers {
		require.True(t, train[o.Prompt], "%q is a training prompt of the taste", o.Prompt)
		require.NotEmpty(t, o.A)
		require.NotEmpty(t, o.B)
		require.NotEqual(t, o.A, o.B)
		require.Equal(t, taste.Verdict(o.Prompt, o.A, o.B), o.Taste)
	}
	again, err := SampleOffers(context.Background(), m, tk, "en-food", 6, 8, 3, false)
	require.NoError(t, err)
	require.Equal(t, offers, again, "a seed gives the same offers")
	other, err := SampleOffers(context.Background(), m, tk, "en-food", 6, 8, 4, false)
	require.NoError(t, err)
	require.NotEqual(t, offers, other)

	// A random model never names a food: no offer the taste decides.
	_, err = SampleOffers(context.Background(), m, tk, "en-food", 2, 8, 3, true)
	require.ErrorContains(t, err, "tells apart")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = SampleOffers(ctx, m, tk, "en-food", 2, 8, 3, false)
	require.ErrorIs(t, err, context.Canceled)
}

// tastePairs are n pairs to the taste's prompts, the chosen answer naming a food and the
// rejected one not.
func tastePairs(t *testing.T, n int) []Pair {
	taste, err := BuiltinTaste("en-food")
	require.NoError(t, err)
	var out []Pair
	for i := 0; i < n; i++ {
		p := Pair{Prompt: taste.Train[i%len(taste.Train)], Chosen: "it eats eggs", Rejected: "it is red " + strings.Repeat("a", i%4+1)}
		require.Equal(t, 1, taste.Verdict(p.Prompt, p.Chosen, p.Rejected))
		out = append(out, p)
	}
	return out
}

// TestTrainRewardModel: the reward model trained on a learner's pairs scores every pair in
// order, the held-out ones (one in five) marked; it scores any answer as it scored the pair's;
// its steps are reported; a judging taste measures it: agreeing labels give the same gold
// accuracy as accuracy, swapped labels the opposite one.
func TestTrainRewardModel(t *testing.T) {
	m, tk := tasteSFT(t)
	defer m.Free()
	pairs := tastePairs(t, 15)
	cfg := shortConfig()
	progress := 0
	rm, res, scores, err := TrainRewardModel(context.Background(), m, tk, pairs, cfg, func(e Event) {
		if e.Kind == "progress" {
			require.Equal(t, RewardModel, e.Method)
			progress++
		}
	}, nil)
	require.NoError(t, err)
	defer rm.Close()
	require.Equal(t, cfg.RewardSteps, progress)
	require.Equal(t, RewardModel, res.Method)
	require.NotEmpty(t, res.Fingerprint)
	require.Len(t, scores, len(pairs))
	for i, s := range scores {
		require.Equal(t, i%5 == 4, s.Held, "pair %d", i)
	}
	got, err := rm.Score(pairs[7].Prompt, pairs[7].Rejected)
	require.NoError(t, err)
	require.InDelta(t, scores[7].Rejected, got, 1e-5)

	cfg.Taste = "en-food"
	rm2, judged, _, err := TrainRewardModel(context.Background(), m, tk, pairs, cfg, nil, nil)
	require.NoError(t, err)
	rm2.Close()
	require.Equal(t, judged.RMAccuracy, judged.RMGoldAccuracy, "the learner agrees with the taste")
	require.Equal(t, res.Fingerprint, judged.Fingerprint, "a judge changes no training")
	swapped := make([]Pair, len(pairs))
	for i, p := range pairs {
		swapped[i] = Pair{Prompt: p.Prompt, Chosen: p.Rejected, Rejected: p.Chosen}
	}
	rm3, contrary, _, err := TrainRewardModel(context.Background(), m, tk, swapped, cfg, nil, nil)
	require.NoError(t, err)
	rm3.Close()
	require.InDelta(t, 1-contrary.RMAccuracy, contrary.RMGoldAccuracy, 1e-12, "the learner contradicts the taste")

	_, _, _, err = TrainRewardModel(context.Background(), m, tk, pairs[:9], cfg, nil, nil)
	require.ErrorContains(t, err, "too few")
}

// TestTasteJudgesYourPairs: with a learner's pairs and a taste, the pairs teach and the taste
// judges: every method's win rate is the taste's, measured on its held-out prompts.
func TestTasteJudgesYourPairs(t *testing.T) {
	m, tk := tasteSFT(t)
	defer m.Free()
	cfg := shortConfig()
	cfg.Taste = "en-food"
	res, err := Run(context.Background(), Inputs{SFT: m, Tok: tk, Pairs: tastePairs(t, 12)}, cfg, nil)
	require.NoError(t, err)
	taste, err := BuiltinTaste("en-food")
	require.NoError(t, err)
	held := map[string]bool{}
	for _, p := range taste.Held {
		held[p] = true
	}
	for _, r := range append(res[:1], res[2:]...) {
		require.Equal(t, JudgeTaste, r.WinJudge, r.Method)
		for _, s := range r.Samples {
			require.True(t, held[s.Prompt], "%s measured on %q", r.Method, s.Prompt)
		}
	}
}

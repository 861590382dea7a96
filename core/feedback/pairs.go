package feedback

import (
	"context"
	"fmt"

	"pretune/core"
)

// labelled is a pair with what is known of it besides the label: whether the label was flipped
// (a simulated person's slip; the pair then prefers what the taste does not) and whether a
// taste made it at all.
type labelled struct {
	Pair
	Flipped   bool
	Simulated bool
}

// samplesPerPrompt answers are drawn per prompt when a taste labels pairs, and at most
// pairsPerPrompt pairs are taken from one prompt's answers in one round, so that no prompt
// dominates.
const (
	samplesPerPrompt = 8
	pairsPerPrompt   = 4
	labelRounds      = 6
)

// labelPairs has the taste label pairs of the SFT model's own answers to prompts: each round,
// every prompt gets samplesPerPrompt answers; answers the taste scores differently make pairs
// (the better one chosen), and a share flip of the labels is swapped. It stops at want pairs,
// or after labelRounds rounds with fewer (an error if that is under 8: the SFT model's answers
// never differ in what the taste wants). Samples come from sampling, labels' flips from flips;
// cancelling ctx stops it between rounds.
func labelPairs(ctx context.Context, sft *model, taste *Taste, prompts []string, want int, tokens int, flip float32, sampling, flips *core.RNG) ([]labelled, error) {
	var out []labelled
	for round := 0; round < labelRounds && len(out) < want; round++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("stopped while the taste labelled pairs: %w", err)
		}
		var asked []string
		for _, p := range prompts {
			for k := 0; k < samplesPerPrompt; k++ {
				asked = append(asked, p)
			}
		}
		seqs, err := sft.sample(asked, tokens, sampling)
		if err != nil {
			return nil, err
		}
		for i := 0; i < len(seqs) && len(out) < want; i += samplesPerPrompt {
			group := seqs[i : i+samplesPerPrompt]
			var good, bad []string
			seen := map[string]bool{}
			for _, s := range group {
				a := s.answerText(sft.tk)
				if a == "" || seen[a] {
					continue
				}
				seen[a] = true
				if taste.Score(s.prompt, a) > 0 {
					good = append(good, a)
				} else {
					bad = append(bad, a)
				}
			}
			for k := 0; k < pairsPerPrompt && k < len(good)*len(bad) && len(out) < want; k++ {
				l := labelled{Pair: Pair{Prompt: group[0].prompt, Chosen: good[k%len(good)], Rejected: bad[(k/len(good))%len(bad)]}, Simulated: true}
				if flips.Float32() < flip {
					l.Chosen, l.Rejected, l.Flipped = l.Rejected, l.Chosen, true
				}
				out = append(out, l)
			}
		}
	}
	if len(out) < 8 {
		return nil, fmt.Errorf("feedback: the taste %s found only %d pairs in the SFT model's answers: its answers almost never differ in what the taste wants", taste.ID, len(out))
	}
	return out, nil
}

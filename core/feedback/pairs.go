package feedback

import (
	"context"
	"fmt"

	"pretune/core"
)

// labelled is a pair with what is known of it besides the label: whether the label was flipped
// (a simulated person's slip, or a learner's pick the judging taste disagrees with; the pair then
// prefers what the taste does not), whether the judging taste scores both answers alike
// (Undecided: it has no gold label) and whether a taste made it at all.
type labelled struct {
	Pair
	Flipped   bool
	Undecided bool
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
		groups, err := answerGroups(sft, prompts, tokens, sampling)
		if err != nil {
			return nil, err
		}
		for i, answers := range groups {
			if len(out) >= want {
				break
			}
			var good, bad []string
			for _, a := range answers {
				if taste.Score(prompts[i], a) > 0 {
					good = append(good, a)
				} else {
					bad = append(bad, a)
				}
			}
			for k := 0; k < pairsPerPrompt && k < len(good)*len(bad) && len(out) < want; k++ {
				l := labelled{Pair: Pair{Prompt: prompts[i], Chosen: good[k%len(good)], Rejected: bad[(k/len(good))%len(bad)]}, Simulated: true}
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

// answerGroups samples samplesPerPrompt answers to every prompt from sft in one batch (from
// sampling) and returns each prompt's distinct non-empty answers in the order drawn: the
// material a taste's pairs (labelPairs) and a learner's offers (SampleOffers) are made of.
func answerGroups(sft *model, prompts []string, tokens int, sampling *core.RNG) ([][]string, error) {
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
	out := make([][]string, len(prompts))
	for i := range prompts {
		seen := map[string]bool{}
		for _, s := range seqs[i*samplesPerPrompt : (i+1)*samplesPerPrompt] {
			a := s.answerText(sft.tk)
			if a == "" || seen[a] {
				continue
			}
			seen[a] = true
			out[i] = append(out[i], a)
		}
	}
	return out, nil
}

package feedback

import (
	"context"
	"fmt"

	"pretune/core"
)

// Offer is two different answers of the SFT model to one prompt, for a learner to pick the
// better one. Taste is the built-in taste's verdict: 1 when it prefers A, 2 when it prefers B,
// 0 when it scores them the same.
type Offer struct {
	Prompt string
	A, B   string
	Taste  int
}

// Verdict is a taste's verdict on answers a and b to prompt, as Offer.Taste gives it.
func (t *Taste) Verdict(prompt, a, b string) int {
	sa, sb := t.Score(prompt, a), t.Score(prompt, b)
	switch {
	case sa > sb:
		return 1
	case sb > sa:
		return 2
	}
	return 0
}

// offerRounds bounds SampleOffers' work: it walks the taste's prompts at most this many times
// over, so a taste that never tells the model's answers apart ends in an error, not a loop.
const offerRounds = labelRounds

// SampleOffers draws n offers from the SFT model (with its tokenizer tk) on the training prompts
// of the taste tasteID, taken in turn from a place drawn at random and cycled: for each prompt
// samplesPerPrompt answers of at most tokens tokens (as the taste's own pairs are drawn), of
// which two different non-empty ones make an offer, in the order drawn. With decided, only
// answers the taste scores differently make an offer, the better one on a side drawn at random.
// Everything is drawn from core.NewRNG(seed, core.StreamSampling+"/offers"), so a seed gives
// the same offers again. It returns fewer than n (an error when none) when the model's answers
// rarely differ (or, with decided, rarely differ in what the taste wants). Cancelling ctx stops
// it between two batches of samples.
func SampleOffers(ctx context.Context, sft *core.Model, tk *core.Tokenizer, tasteID string, n, tokens int, seed uint64, decided bool) ([]Offer, error) {
	if sft == nil || tk == nil {
		return nil, fmt.Errorf("feedback: no model to sample from")
	}
	if !sft.CanGenerate() {
		return nil, fmt.Errorf("feedback: the model to sample from must be a causal model with its LM head")
	}
	if n < 1 || tokens < 1 {
		return nil, fmt.Errorf("feedback: asked for %d offers of %d tokens", n, tokens)
	}
	taste, err := BuiltinTaste(tasteID)
	if err != nil {
		return nil, err
	}
	if err := checkVocabulary(tk, taste.Train); err != nil {
		return nil, err
	}
	rng := core.NewRNG(seed, core.StreamSampling+"/offers")
	x := &model{m: sft, tk: tk} // sampling needs no batch of ours: SampleBatch keeps its own
	prompts := taste.Train
	next := rng.Intn(len(prompts))
	// One batch is at most a round of prompts: a request for a few offers samples few answers.
	per := min(n, len(prompts))
	var out []Offer
	for tried := 0; len(out) < n && tried < offerRounds*len(prompts); tried += per {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("stopped while sampling pairs: %w", err)
		}
		batch := make([]string, per)
		for i := range batch {
			batch[i] = prompts[next]
			next = (next + 1) % len(prompts)
		}
		groups, err := answerGroups(x, batch, tokens, rng)
		if err != nil {
			return nil, err
		}
		for i, answers := range groups {
			if len(out) == n {
				break
			}
			if o, ok := offerOf(taste, batch[i], answers, decided, rng); ok {
				out = append(out, o)
			}
		}
	}
	if len(out) == 0 {
		what := "two different answers"
		if decided {
			what = "two answers the taste " + taste.ID + " tells apart"
		}
		return nil, fmt.Errorf("feedback: the model never gave %s to the same prompt", what)
	}
	return out, nil
}

// offerOf makes an offer from one prompt's distinct answers: the first two, or, decided, the
// first the taste likes and the first it does not, the liked one on a side drawn from rng.
func offerOf(taste *Taste, prompt string, answers []string, decided bool, rng *core.RNG) (Offer, bool) {
	if !decided {
		if len(answers) < 2 {
			return Offer{}, false
		}
		return Offer{Prompt: prompt, A: answers[0], B: answers[1], Taste: taste.Verdict(prompt, answers[0], answers[1])}, true
	}
	var good, bad string
	for _, a := range answers {
		if taste.Score(prompt, a) > 0 {
			if good == "" {
				good = a
			}
		} else if bad == "" {
			bad = a
		}
	}
	if good == "" || bad == "" {
		return Offer{}, false
	}
	if rng.Float32() < 0.5 {
		return Offer{Prompt: prompt, A: good, B: bad, Taste: 1}, true
	}
	return Offer{Prompt: prompt, A: bad, B: good, Taste: 2}, true
}

package core

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/ops"
)

// unigramEntropy is the entropy of the text's code point frequencies, in nats per character: the
// loss of the best model that ignores context.
func unigramEntropy(text string) float64 {
	counts := map[rune]float64{}
	total := 0.0
	for _, r := range text {
		counts[r]++
		total++
	}
	h := 0.0
	for _, c := range counts {
		p := c / total
		h -= p * math.Log(p)
	}
	return h
}

// TestModelLearns pretrains the tiny preset on a generated text and requires the held-out loss to
// end well below the unigram entropy: the model has learned to use context.
func TestModelLearns(t *testing.T) {
	if testing.Short() {
		t.Skip("a few hundred training steps: slow under wasm")
	}
	train, val := GrammarText(1, 2000), GrammarText(2, 200)
	p, err := SizePreset("tiny")
	require.NoError(t, err)
	cfg := p.Config
	cfg.Steps, cfg.EvalEvery = 600, 200
	tr, err := NewTrainer(ops.NewCPU(), cfg, train, val)
	require.NoError(t, err)
	var evals []Event
	tr.OnEvent = func(e Event) {
		if e.Kind == "eval" {
			evals = append(evals, e)
		}
	}
	for !tr.Done() {
		_, err := tr.Step()
		require.NoError(t, err)
	}
	require.Len(t, evals, 3)
	h := unigramEntropy(train)
	final := evals[len(evals)-1].ValLoss
	t.Logf("unigram entropy %.3f nats/char; held-out loss by eval: %.3f %.3f %.3f", h, evals[0].ValLoss, evals[1].ValLoss, final)
	require.Less(t, final, 0.6*h, "held-out loss %.3f should be well below the unigram entropy %.3f", final, h)
	require.Less(t, final, evals[0].ValLoss)

	// Greedy samples should be made of the grammar's words.
	out, err := tr.Model.Generate(tr.Tok, "the cat ", SampleOptions{Tokens: 40, Seed: 1})
	require.NoError(t, err)
	t.Logf("sample: %q", out)
	words := map[string]bool{}
	for _, w := range strings.Fields(strings.ReplaceAll(train, ".", " ")) {
		words[w] = true
	}
	fields := strings.Fields(strings.ReplaceAll(out, ".", " "))
	known := 0
	for _, w := range fields[:len(fields)-1] { // the last word may be cut off
		if words[w] {
			known++
		}
	}
	require.GreaterOrEqual(t, float64(known), 0.7*float64(len(fields)-1), "sample %q", out)
}

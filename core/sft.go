package core

import (
	"strings"

	"pretune/core/corpus"
	"pretune/core/ops"
	"pretune/core/task"
)

// Supervised fine-tuning (SFT) trains on prompt/response pairs written in task.Render's chat
// format ("<Q> prompt\n<A> response\n"). Every pair is one sequence starting at position 0,
// right-padded with TokPad; the loss counts the response's tokens only (its final "\n"
// included, so the model learns to stop), unless the prompt is counted too.
//
// Tokenizer: a base model's tokenizer is the one it was pretrained with. A character it never
// saw becomes TokUnknown, which a model can read but never write, so a task whose answers need
// such a character cannot be learned. The built-in tasks' markers use ASCII that the Chinese
// corpus lacks ('<', '>', 'Q', 'A', ' '): pretraining that should be fine-tuned later therefore
// builds its tokenizer with PretrainTokenizer, from the corpus text plus the alphabets of the
// built-in tasks of the corpus's language. Those extra tokens are merely untrained rows until
// fine-tuning meets them. (The golden run builds its tokenizer from its own text and is not
// affected.)

// PretrainTokenizer builds the vocabulary of a corpus's training text plus every character of
// the built-in tasks in its language, so a model pretrained on it can be fine-tuned on any of
// them.
func PretrainTokenizer(c *corpus.Corpus) (*Tokenizer, error) {
	var sb strings.Builder
	sb.WriteString(c.Train)
	for _, id := range task.Builtins() {
		t, err := task.Builtin(id)
		if err != nil {
			return nil, err
		}
		if t.Lang == c.Lang {
			sb.WriteString(string(t.Alphabet()))
		}
	}
	return NewTokenizer(sb.String())
}

// SFTTokens renders a pair in the chat format and returns its tokens with a loss weight per
// token: weights[i] is 1 when predicting tokens[i] counts in the loss (the response's tokens, or
// every token but the first with withPrompt) and 0 otherwise. The first token is never predicted
// (nothing comes before it), so its weight is always 0. The UI colours tokens by these weights.
func SFTTokens(tk *Tokenizer, p task.Pair, withPrompt bool) (tokens []int32, weights []float32) {
	text, start := task.Render(p)
	tokens = tk.Encode(text) // one token per rune, so start indexes tokens too
	weights = make([]float32, len(tokens))
	for i := 1; i < len(tokens); i++ {
		if withPrompt || i >= start {
			weights[i] = 1
		}
	}
	return tokens, weights
}

// sftRow writes one pair as a training row of T positions: inputs tokens[:n-1], targets
// tokens[1:] with weights[1:], then TokPad at weight 0. A pair longer than T+1 tokens keeps its
// last T+1 (the response end matters most).
func sftRow(tokens []int32, weights []float32, T int, in, tg []int32, wt []float32) {
	if len(tokens) > T+1 {
		cut := len(tokens) - (T + 1)
		tokens, weights = tokens[cut:], weights[cut:]
	}
	n := len(tokens) - 1
	for t := 0; t < T; t++ {
		if t < n {
			in[t], tg[t], wt[t] = tokens[t], tokens[t+1], weights[t+1]
		} else {
			in[t], tg[t], wt[t] = TokPad, TokPad, 0
		}
	}
}

// sftSet is a task's pairs tokenized once.
type sftSet struct {
	tokens  [][]int32
	weights [][]float32
	maxLen  int
}

func newSFTSet(tk *Tokenizer, pairs []task.Pair, withPrompt bool) *sftSet {
	s := &sftSet{}
	for _, p := range pairs {
		tok, w := SFTTokens(tk, p, withPrompt)
		s.tokens, s.weights = append(s.tokens, tok), append(s.weights, w)
		s.maxLen = max(s.maxLen, len(tok))
	}
	return s
}

// fill builds a batch of the examples idx, padded to the longest of them (at most context),
// followed by one row per replay offset: a window of replay text of the same length with every
// next-token prediction counted.
func (s *sftSet) fill(dev ops.Device, b *Batch, idx []int, context int, replay []int32, offsets []int) {
	T := 1
	for _, i := range idx {
		T = max(T, len(s.tokens[i])-1)
	}
	T = min(T, context)
	B := len(idx) + len(offsets)
	in, tg, wt := make([]int32, B*T), make([]int32, B*T), make([]float32, B*T)
	for r, i := range idx {
		sftRow(s.tokens[i], s.weights[i], T, in[r*T:(r+1)*T], tg[r*T:(r+1)*T], wt[r*T:(r+1)*T])
	}
	for k, off := range offsets {
		r := len(idx) + k
		window(replay, off, T, in[r*T:(r+1)*T], tg[r*T:(r+1)*T])
		for t := r * T; t < (r+1)*T; t++ {
			wt[t] = 1
		}
	}
	b.Set(dev, B, T, in, tg, wt)
}

// MissingRunes lists the characters of a task that the tokenizer lacks (they encode as
// TokUnknown): a response that needs one can never be generated exactly. The UI warns with it.
func MissingRunes(tk *Tokenizer, t *task.Task) []rune {
	var missing []rune
	for _, r := range t.Alphabet() {
		if tk.Encode(string(r))[0] == TokUnknown {
			missing = append(missing, r)
		}
	}
	return missing
}

package feedback

import (
	"fmt"
	"strings"

	"pretune/core"
	"pretune/core/ops"
	"pretune/core/task"
)

// sequence is a prompt in the SFT model's chat format followed by a response, as token ids.
// The response is the answer and its closing line break, as the SFT model was taught to write
// it (a sampled response that hit the token limit has none).
type sequence struct {
	prompt string  // the question, without the chat markers
	ids    []int32 // the prompt's tokens, then the response's
	start  int     // index in ids of the response's first token
}

// response is the sequence's response tokens.
func (s sequence) response() []int32 { return s.ids[s.start:] }

// answerText is the response as text, cut at its line break.
func (s sequence) answerText(tk *core.Tokenizer) string { return task.Answer(tk.Decode(s.response())) }

// promptIDs is the prompt with the chat markers, tokenized.
func promptIDs(tk *core.Tokenizer, prompt string) []int32 { return tk.Encode(task.PromptText(prompt)) }

// newSequence joins a prompt and a response's tokens, cutting the response so the whole
// sequence fits the context: the reward model reads all of it (the policy reads all but the last
// token and predicts each next one).
func newSequence(tk *core.Tokenizer, prompt string, response []int32, context int) (sequence, error) {
	p := promptIDs(tk, prompt)
	if len(p)+1 > context {
		return sequence{}, fmt.Errorf("the prompt %q is %d tokens; the model reads at most %d, and an answer needs one more", prompt, len(p), context)
	}
	if len(p)+len(response) > context {
		response = response[:context-len(p)]
	}
	if len(response) == 0 {
		return sequence{}, fmt.Errorf("an empty answer to %q", prompt)
	}
	ids := append(append(make([]int32, 0, len(p)+len(response)), p...), response...)
	return sequence{prompt: prompt, ids: ids, start: len(p)}, nil
}

// textSequence is newSequence for an answer given as text (a pair's chosen or rejected): the
// answer, without the spaces around it (TRL's files often start a response with one; the chat
// format already has it), and a line break, as the SFT model writes them. An answer that does
// not fit the context is refused rather than cut: a cut answer is another answer.
func textSequence(tk *core.Tokenizer, prompt, answer string, context int) (sequence, error) {
	ids := tk.Encode(strings.TrimSpace(answer) + "\n")
	if n := len(promptIDs(tk, prompt)) + len(ids); n > context {
		return sequence{}, fmt.Errorf("the prompt %q and the answer %q are %d characters with the chat markers and the closing line break; the model reads at most %d", prompt, answer, n, context)
	}
	return newSequence(tk, prompt, ids, context)
}

// fillPolicy puts seqs in b as next-token rows: row r reads ids[:n-1] and predicts ids[1:],
// right-padded to the longest. It returns T.
func fillPolicy(dev ops.Device, b *core.Batch, seqs []sequence) int {
	T := 1
	for _, s := range seqs {
		T = max(T, len(s.ids)-1)
	}
	B := len(seqs)
	in, tg := make([]int32, B*T), make([]int32, B*T)
	for r, s := range seqs {
		for t := 0; t < T; t++ {
			in[r*T+t], tg[r*T+t] = core.TokPad, core.TokPad
		}
		copy(in[r*T:], s.ids[:len(s.ids)-1])
		copy(tg[r*T:], s.ids[1:])
	}
	b.Set(dev, B, T, in, tg, nil)
	return T
}

// fillScore puts seqs in b as whole rows for a reward model, right-padded, and returns each
// row's length (the score is read at the last token).
func fillScore(dev ops.Device, b *core.Batch, seqs []sequence) []int {
	T := 1
	for _, s := range seqs {
		T = max(T, len(s.ids))
	}
	B := len(seqs)
	in := make([]int32, B*T)
	lengths := make([]int, B)
	for r, s := range seqs {
		for t := 0; t < T; t++ {
			in[r*T+t] = core.TokPad
		}
		copy(in[r*T:], s.ids)
		lengths[r] = len(s.ids)
	}
	b.Set(dev, B, T, in, make([]int32, B*T), nil)
	return lengths
}

// responseSlices cuts per-position values (B·T, as TokenLogProbs returns them) into each row's
// response positions: position t predicts ids[t+1], so the response's tokens are predicted at
// start-1 .. n-2.
func responseSlices(vals []float32, seqs []sequence, T int) [][]float32 {
	out := make([][]float32, len(seqs))
	for r, s := range seqs {
		out[r] = vals[r*T+s.start-1 : r*T+len(s.ids)-1]
	}
	return out
}

// scatter is the inverse of responseSlices: per-row response gradients into B·T positions,
// zero elsewhere.
func scatter(grads [][]float32, seqs []sequence, T int) []float32 {
	out := make([]float32, len(seqs)*T)
	for r, s := range seqs {
		copy(out[r*T+s.start-1:], grads[r])
	}
	return out
}

// model wraps a core model with the batch it runs on, for the feedback stage's three uses:
// per-token log-probabilities (policy and reference), scores (reward model) and sampling.
type model struct {
	m     *core.Model
	tk    *core.Tokenizer
	batch *core.Batch
}

func newModel(m *core.Model, tk *core.Tokenizer) *model {
	return &model{m: m, tk: tk, batch: core.NewBatch(m.Dev, m.Cfg.Batch, m.Cfg.Context)}
}

func (x *model) free() {
	x.batch.Free(x.m.Dev)
	x.m.Free()
}

// logProbs returns, for each sequence, the log-probability of each response token (and, with a
// value head, each response position's value), Cfg.Batch rows per pass, without dropout.
func (x *model) logProbs(seqs []sequence) (logp, values [][]float32, err error) {
	B := x.m.Cfg.Batch
	for s := 0; s < len(seqs); s += B {
		part := seqs[s:min(s+B, len(seqs))]
		T := fillPolicy(x.m.Dev, x.batch, part)
		lp, v, err := x.m.TokenLogProbs(x.batch, core.Pass{})
		if err != nil {
			return nil, nil, err
		}
		logp = append(logp, responseSlices(lp, part, T)...)
		if v != nil {
			values = append(values, responseSlices(v, part, T)...)
		}
	}
	return logp, values, nil
}

// scores returns the reward model's score of each sequence.
func (x *model) scores(seqs []sequence) ([]float32, error) {
	B := x.m.Cfg.Batch
	var out []float32
	for s := 0; s < len(seqs); s += B {
		part := seqs[s:min(s+B, len(seqs))]
		lengths := fillScore(x.m.Dev, x.batch, part)
		sc, err := x.m.Scores(x.batch, lengths)
		if err != nil {
			return nil, err
		}
		out = append(out, sc...)
	}
	return out, nil
}

// sample draws one response to each prompt from the model (temperature 1, at most tokens
// tokens, ending at a line break), from rng.
func (x *model) sample(prompts []string, tokens int, rng *core.RNG) ([]sequence, error) {
	ids := make([][]int32, len(prompts))
	for i, p := range prompts {
		ids[i] = promptIDs(x.tk, p)
	}
	gen, err := x.m.SampleBatch(x.tk, ids, core.SampleOptions{Tokens: tokens, Temperature: 1, Stop: "\n"}, rng)
	if err != nil {
		return nil, err
	}
	out := make([]sequence, len(prompts))
	for i, p := range prompts {
		if out[i], err = newSequence(x.tk, p, gen[i], x.m.Cfg.Context); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// sum adds float32 values in order.
func sum(v []float32) float32 {
	var s float32
	for _, x := range v {
		s += x
	}
	return s
}

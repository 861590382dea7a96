package core

import (
	"fmt"
	"sort"
	"strings"

	"pretune/core/ops"
)

// SampleOptions control text generation.
type SampleOptions struct {
	Tokens      int     // how many tokens to add
	Temperature float32 // 0 means greedy (always the most likely token)
	TopK        int     // sample among the K most likely tokens; 0 means all
	Seed        uint64  // seeds the sampling stream
	Stop        string  // stop early after generating this text (e.g. "\n"); "" never stops early
}

// Generate continues prompt by sampling from the model one token at a time. The model sees at most
// its context: longer text keeps the most recent tokens.
func (m *Model) Generate(tk *Tokenizer, prompt string, o SampleOptions) (string, error) {
	toks, err := m.GenerateTokens(tk, prompt, o)
	if err != nil {
		return "", err
	}
	return joinTokens(toks), nil
}

// GenerateTokens is Generate with each written token and the probability the model gave it
// (its softmax at temperature 1, before the sampler's temperature and top-k reshape it), so a
// page can show which characters the model was sure of. The sampled tokens are exactly
// Generate's: the probabilities are read from the same logits and draw nothing from the stream.
func (m *Model) GenerateTokens(tk *Tokenizer, prompt string, o SampleOptions) ([]TokenProb, error) {
	if o.Temperature < 0 || o.TopK < 0 || o.Tokens < 0 {
		return nil, fmt.Errorf("generate: temperature, top-k and length must not be negative")
	}
	if m.Mask != ops.Causal || m.head != nil {
		return nil, fmt.Errorf("generate: only a causal model with its LM head can generate text")
	}
	ids := tk.Encode(prompt)
	if len(ids) == 0 {
		ids = []int32{TokPad} // an empty prompt starts from padding
	}
	rng := NewRNG(o.Seed, StreamSampling)
	b := NewBatch(m.Dev, 1, m.Cfg.Context)
	defer b.Free(m.Dev)
	var out []TokenProb
	V := m.Cfg.Vocab
	logits := make([]float32, m.single.logits.Len())
	probs := make([]float32, V)
	for n := 0; n < o.Tokens; n++ {
		ctx := ids
		if len(ctx) > m.TokenContext() {
			ctx = ctx[len(ctx)-m.TokenContext():]
		}
		T := len(ctx)
		b.Set(m.Dev, 1, T, ctx, make([]int32, T), nil)
		m.forward(m.single, b, Pass{})
		if err := m.Dev.Download(m.single.logits, logits); err != nil {
			return nil, err
		}
		row := logits[(T-1)*V : T*V]
		next := pick(row, o, rng)
		ops.Softmax32(probs, row)
		ids = append(ids, int32(next))
		out = append(out, TokenProb{ID: next, Token: tk.Token(next), Prob: probs[next]})
		if o.Stop != "" && hasSuffix(joinTokens(out), o.Stop) {
			break
		}
	}
	return out, nil
}

// joinTokens is the text of a token list (what Tokenizer.Decode gives for their ids).
func joinTokens(toks []TokenProb) string {
	var sb strings.Builder
	for _, t := range toks {
		sb.WriteString(t.Token)
	}
	return sb.String()
}

func hasSuffix(s, suffix string) bool {
	return len(s) >= len(suffix) && s[len(s)-len(suffix):] == suffix
}

// pick chooses a token from one row of logits. Reserved tokens (unknown, padding, mask) are never
// generated. All arithmetic is float32 with core's own Exp32, so sampling is reproducible.
func pick(row []float32, o SampleOptions, rng *RNG) int {
	best := numSpecial
	for i := numSpecial; i < len(row); i++ {
		if row[i] > row[best] {
			best = i
		}
	}
	if o.Temperature == 0 {
		return best
	}
	// Keep the top K (ties broken by lower id, so the choice is deterministic).
	keep := make([]int, 0, len(row))
	for i := numSpecial; i < len(row); i++ {
		keep = append(keep, i)
	}
	if o.TopK > 0 && o.TopK < len(keep) {
		sortByLogit(keep, row)
		keep = keep[:o.TopK]
	}
	probs := make([]float32, len(keep))
	var sum float32
	for j, i := range keep {
		probs[j] = ops.Exp32((row[i] - row[best]) / o.Temperature)
		sum += probs[j]
	}
	u := rng.Float32() * sum
	var acc float32
	for j, i := range keep {
		acc += probs[j]
		if u < acc {
			return i
		}
	}
	return keep[len(keep)-1]
}

// sortByLogit orders ids by decreasing logit, then increasing id: a total order, so the
// top-K set is the same on every platform.
func sortByLogit(ids []int, row []float32) {
	sort.Slice(ids, func(i, j int) bool {
		a, b := ids[i], ids[j]
		return row[a] > row[b] || (row[a] == row[b] && a < b)
	})
}

// GreedyBatch continues every prompt greedily (always the most likely token) until it writes
// stop or maxTokens tokens, Cfg.Batch prompts per forward pass, and returns the continuations.
// It gives exactly what Generate with Temperature 0 gives for each prompt alone: rows are
// right-padded and causal attention never lets a position see the padding after it. A masked-LM
// model cannot generate.
func (m *Model) GreedyBatch(tk *Tokenizer, prompts []string, maxTokens int, stop string) ([]string, error) {
	if err := m.generateErr(); err != nil {
		return nil, err
	}
	ids := make([][]int32, len(prompts))
	for i, p := range prompts {
		ids[i] = tk.Encode(p)
	}
	gen, err := m.continueBatch(tk, ids, maxTokens, stop, func(row []float32) int32 {
		return int32(pick(row, SampleOptions{}, nil))
	})
	if err != nil {
		return nil, err
	}
	out := make([]string, len(prompts))
	for i, g := range gen {
		out[i] = tk.Decode(g)
	}
	return out, nil
}

// SampleBatch continues every prompt (token ids) by sampling with o's temperature and top-k
// until it writes o.Stop or o.Tokens tokens, and returns the tokens written. Rows are decoded
// one at a time with a key/value cache (decode.go), so a token costs one position's forward
// pass instead of the whole sequence's. Draws come from rng (the caller's sampling stream), one
// per token, row by row: all of row 0's tokens, then all of row 1's, and so on; the same prompts
// and stream give the same samples on every device of a class. A model with adapters or a
// prefix, which the decoder does not mirror, recomputes every row's full forward pass per token
// instead (Cfg.Batch rows at a time), drawing in the same order. o.Seed is not used.
func (m *Model) SampleBatch(tk *Tokenizer, prompts [][]int32, o SampleOptions, rng *RNG) ([][]int32, error) {
	if o.Temperature <= 0 || o.TopK < 0 || o.Tokens < 1 {
		return nil, fmt.Errorf("generate: sampling needs a positive temperature and length")
	}
	if err := m.generateErr(); err != nil {
		return nil, err
	}
	choose := func(row []float32) int32 { return int32(pick(row, o, rng)) }
	if m.canDecode() {
		return m.sampleCached(tk, prompts, o.Tokens, o.Stop, choose)
	}
	// One row per call keeps the draw order the cached path has.
	out := make([][]int32, len(prompts))
	for i, p := range prompts {
		gen, err := m.continueBatch(tk, [][]int32{p}, o.Tokens, o.Stop, choose)
		if err != nil {
			return nil, err
		}
		out[i] = gen[0]
	}
	return out, nil
}

// continueBatch extends every prompt with the tokens choose picks from the logits of its last
// position, Cfg.Batch prompts per forward pass, until a row writes stop or maxTokens tokens.
func (m *Model) continueBatch(tk *Tokenizer, prompts [][]int32, maxTokens int, stop string, choose func(row []float32) int32) ([][]int32, error) {
	if err := m.generateErr(); err != nil {
		return nil, err
	}
	out := make([][]int32, len(prompts))
	Bmax, V, ctx := m.Cfg.Batch, m.Cfg.Vocab, m.TokenContext()
	b := NewBatch(m.Dev, Bmax, ctx)
	defer b.Free(m.Dev)
	logits := make([]float32, m.train.logits.Len())
	for start := 0; start < len(prompts); start += Bmax {
		group := prompts[start:min(start+Bmax, len(prompts))]
		B := len(group)
		seqs, gen := make([][]int32, B), make([][]int32, B)
		done := make([]bool, B)
		for i, p := range group {
			seqs[i] = append([]int32(nil), p...)
			if len(seqs[i]) == 0 {
				seqs[i] = []int32{TokPad}
			}
		}
		for n := 0; n < maxTokens; n++ {
			T := 1
			for _, s := range seqs {
				T = max(T, min(len(s), ctx))
			}
			in := make([]int32, B*T)
			for i, s := range seqs {
				if len(s) > ctx {
					s = s[len(s)-ctx:]
				}
				row := in[i*T : (i+1)*T]
				copy(row, s)
				for t := len(s); t < T; t++ {
					row[t] = TokPad
				}
			}
			b.Set(m.Dev, B, T, in, make([]int32, B*T), nil)
			m.forward(m.train, b, Pass{})
			if err := m.Dev.Download(m.train.logits, logits); err != nil {
				return nil, err
			}
			active := false
			for i := range seqs {
				if done[i] {
					continue
				}
				last := min(len(seqs[i]), ctx) - 1
				next := choose(logits[(i*T+last)*V : (i*T+last+1)*V])
				seqs[i] = append(seqs[i], next)
				gen[i] = append(gen[i], next)
				if stop != "" && hasSuffix(tk.Decode(gen[i]), stop) {
					done[i] = true
				}
				active = active || !done[i]
			}
			if !active {
				break
			}
		}
		copy(out[start:], gen)
	}
	return out, nil
}

// CanGenerate reports whether the model can write text: a causal model with its LM head.
func (m *Model) CanGenerate() bool { return m.generateErr() == nil }

// generateErr says why the model cannot write text, or nil.
func (m *Model) generateErr() error {
	if m.Mask != ops.Causal {
		return fmt.Errorf("generate: a masked-LM model cannot generate text")
	}
	if m.head != nil {
		return fmt.Errorf("generate: a model with a class head cannot generate text")
	}
	return nil
}

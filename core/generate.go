package core

import (
	"fmt"
	"sort"
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
	if o.Temperature < 0 || o.TopK < 0 || o.Tokens < 0 {
		return "", fmt.Errorf("generate: temperature, top-k and length must not be negative")
	}
	ids := tk.Encode(prompt)
	if len(ids) == 0 {
		ids = []int32{TokPad} // an empty prompt starts from padding
	}
	rng := NewRNG(o.Seed, StreamSampling)
	b := NewBatch(m.Dev, 1, m.Cfg.Context)
	defer b.Free(m.Dev)
	var out []int32
	V := m.Cfg.Vocab
	logits := make([]float32, m.single.logits.Len())
	for n := 0; n < o.Tokens; n++ {
		ctx := ids
		if len(ctx) > m.Cfg.Context {
			ctx = ctx[len(ctx)-m.Cfg.Context:]
		}
		T := len(ctx)
		b.Set(m.Dev, 1, T, ctx, make([]int32, T), nil)
		m.forward(m.single, b, Pass{})
		if err := m.Dev.Download(m.single.logits, logits); err != nil {
			return "", err
		}
		next := pick(logits[(T-1)*V:T*V], o, rng)
		ids = append(ids, int32(next))
		out = append(out, int32(next))
		if o.Stop != "" && hasSuffix(tk.Decode(out), o.Stop) {
			break
		}
	}
	return tk.Decode(out), nil
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
		probs[j] = Exp32((row[i] - row[best]) / o.Temperature)
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

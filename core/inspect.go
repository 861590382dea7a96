package core

import (
	"fmt"

	"pretune/core/ops"
)

// Looking inside a model: what it expects next after a prompt, where each attention head looks,
// and how likely it found each token of a text. Everything here runs the model's own forward pass
// (forward, on the sampling activations or the batch ones) and reads its results back with the
// device's Download, so what a learner sees is exactly what the trained model computes, on any
// device.

// TokenProb is one token and the probability the model gave it: in a next-token list, the
// probability that it comes next; in a text, the probability of it coming where it stands, after
// the tokens before it. Probabilities are the model's own softmax over the whole vocabulary at
// temperature 1 (what training's loss measures), not the sampler's reshaped distribution.
type TokenProb struct {
	ID    int     `json:"id"`
	Token string  `json:"token"`
	Prob  float32 `json:"prob"`
}

// Inspection is what the model does with one prompt.
type Inspection struct {
	// Tokens are the prompt's tokens the model saw: its last Context tokens, as text
	// (a character the vocabulary lacks shows as <unk>).
	Tokens []string `json:"tokens"`
	// Cut counts the tokens before those, which did not fit in the model's context.
	Cut int `json:"cut,omitempty"`
	// Next lists the most likely next tokens after the prompt, most likely first.
	Next []TokenProb `json:"next,omitempty"`
	// Attention[l][h][t][j] is how much query t of head h in layer l attends to token j: T×T
	// per head, each row summing to 1 (with PrefixShare's part, when there is a prefix), and zero
	// above the diagonal in a causal model, where no token sees the ones after it.
	Attention [][][][]float32 `json:"attention"`
	// PrefixShare[l][h][t] is the attention query t gives to a learned prefix (prefix tuning),
	// which is not a token of the prompt and so is not in Attention; nil without a prefix.
	PrefixShare [][][]float32 `json:"prefix_share,omitempty"`
}

// canPredict says why the model cannot give next-token probabilities, or nil when it can.
func (m *Model) canPredict(what string) error {
	if m.Mask != ops.Causal || m.head != nil {
		return fmt.Errorf("inspect: %s needs a causal model with its LM head (this one is %s%s)", what, m.Mask, map[bool]string{true: " with a class head", false: ""}[m.head != nil])
	}
	return nil
}

// Inspect runs the model once on prompt (its last Context tokens) and returns the k most likely
// next tokens and every head's attention map over the prompt. k = 0 asks for the attention maps
// alone, which any model has (a masked-LM one too). An empty prompt is refused: with no token
// there is nothing to attend to, and a padding token would show the model something it never
// trained on.
func (m *Model) Inspect(tk *Tokenizer, prompt string, k int) (*Inspection, error) {
	if k < 0 {
		return nil, fmt.Errorf("inspect: the number of next tokens must not be negative (got %d)", k)
	}
	if k > 0 {
		if err := m.canPredict("next-token probabilities"); err != nil {
			return nil, err
		}
	}
	if m.prompt != nil {
		return nil, fmt.Errorf("inspect: a prompt-tuned model's attention maps are not drawn (its rows include the soft tokens)")
	}
	ids := tk.Encode(prompt)
	if len(ids) == 0 {
		return nil, fmt.Errorf("inspect: the prompt is empty: type at least one character")
	}
	cut := max(0, len(ids)-m.Cfg.Context)
	ids = ids[cut:]
	T, V, H, P := len(ids), m.Cfg.Vocab, m.Cfg.Heads, m.prefixLen
	Tk := T + P // keys per query: the prefix's, then the prompt's

	b := NewBatch(m.Dev, 1, T)
	defer b.Free(m.Dev)
	b.Set(m.Dev, 1, T, ids, make([]int32, T), nil)
	m.forward(m.single, b, Pass{})

	ins := &Inspection{Cut: cut}
	for _, id := range ids {
		ins.Tokens = append(ins.Tokens, tk.Token(int(id)))
	}
	if k > 0 {
		logits := make([]float32, m.single.logits.Len())
		if err := m.Dev.Download(m.single.logits, logits); err != nil {
			return nil, err
		}
		ins.Next = topTokens(tk, logits[(T-1)*V:T*V], k)
	}

	// The forward pass left each layer's probabilities in la.p as H matrices of T×Tk, packed
	// for this T (the buffer is sized for the full context; only its start is used).
	probs := make([]float32, m.single.layers[0].p.Len())
	for l := range m.single.layers {
		if err := m.Dev.Download(m.single.layers[l].p, probs); err != nil {
			return nil, err
		}
		heads := make([][][]float32, H)
		var shares [][]float32
		if P > 0 {
			shares = make([][]float32, H)
		}
		for h := range heads {
			heads[h] = make([][]float32, T)
			if P > 0 {
				shares[h] = make([]float32, T)
			}
			for t := 0; t < T; t++ {
				row := probs[(h*T+t)*Tk : (h*T+t+1)*Tk]
				heads[h][t] = append([]float32(nil), row[P:]...)
				if P > 0 {
					var s float32
					for _, v := range row[:P] {
						s += v
					}
					shares[h][t] = s
				}
			}
		}
		ins.Attention = append(ins.Attention, heads)
		if P > 0 {
			ins.PrefixShare = append(ins.PrefixShare, shares)
		}
	}
	return ins, nil
}

// topTokens lists the k most likely tokens of one row of logits, most likely first (ties by
// lower id, so the list is the same on every platform). Reserved tokens are listed like any
// other: the list shows the model's distribution as it is.
func topTokens(tk *Tokenizer, row []float32, k int) []TokenProb {
	probs := make([]float32, len(row))
	ops.Softmax32(probs, row)
	ids := make([]int, len(row))
	for i := range ids {
		ids[i] = i
	}
	sortByLogit(ids, row)
	out := make([]TokenProb, 0, min(k, len(ids)))
	for _, id := range ids[:min(k, len(ids))] {
		out = append(out, TokenProb{ID: id, Token: tk.Token(id), Prob: probs[id]})
	}
	return out
}

// TokenProbs gives, for each token of text after the first, the probability the model gave it
// after the tokens before it, seeing at most its Context tokens before it, exactly as generation
// sees them. The first token has nothing before it and gets no entry, so the result has one
// entry fewer than text has tokens.
//
// A text that fits in the context is one forward pass. A longer one also needs a window ending
// just before each later token; those windows go through the model Cfg.Batch at a time on the
// training batch's activations (free between steps), not one pass each.
func (m *Model) TokenProbs(tk *Tokenizer, text string) ([]TokenProb, error) {
	if err := m.canPredict("token probabilities"); err != nil {
		return nil, err
	}
	ids := tk.Encode(text)
	n := len(ids)
	if n < 2 {
		return nil, fmt.Errorf("inspect: a text needs at least two characters to score (the first has nothing before it); got %d", n)
	}
	ctx, V := m.TokenContext(), m.Cfg.Vocab // the context less prompt tuning's soft tokens
	T := min(n, ctx)
	// Each window is T tokens from start; its positions from from on predict the tokens after
	// them. The first window predicts tokens 1..T (T only when the text goes on past the
	// context); each later one predicts one token t from the ctx tokens before it.
	type window struct{ start, from int }
	windows := []window{{0, 0}}
	for t := ctx + 1; t < n; t++ {
		windows = append(windows, window{t - ctx, ctx - 1})
	}

	out := make([]TokenProb, 0, n-1)
	B := m.Cfg.Batch
	b := NewBatch(m.Dev, B, ctx)
	defer b.Free(m.Dev)
	logits := make([]float32, m.train.logits.Len())
	probs := make([]float32, V)
	for first := 0; first < len(windows); first += B {
		group := windows[first:min(first+B, len(windows))]
		in := make([]int32, 0, len(group)*T)
		for _, w := range group {
			in = append(in, ids[w.start:w.start+T]...)
		}
		b.Set(m.Dev, len(group), T, in, make([]int32, len(in)), nil)
		m.forward(m.train, b, Pass{})
		if err := m.Dev.Download(m.train.logits, logits); err != nil {
			return nil, err
		}
		for r, w := range group {
			for pos := w.from; pos < T && w.start+pos+1 < n; pos++ {
				next := int(ids[w.start+pos+1])
				ops.Softmax32(probs, logits[(r*T+pos)*V:(r*T+pos+1)*V])
				out = append(out, TokenProb{ID: next, Token: tk.Token(next), Prob: probs[next]})
			}
		}
	}
	return out, nil
}

package core

import (
	"fmt"
	"strings"

	"pretune/core/ops"
)

// Masked-LM pretraining (BERT's objective) beside causal pretraining: the same model with
// Mask = Bidirectional (every position attends to every position), fed windows of text in which
// a share of positions is corrupted, and trained to predict the original token at those
// positions only (loss weight 1 there, 0 elsewhere; the target of a position is its own token,
// not the next one).
//
// Masking: each position of a window is chosen with probability Rate (default 0.15). With BERT
// set (the default of DefaultMLM), a chosen position's input becomes TokMask 80% of the time, a
// random ordinary token 10% and stays unchanged 10%, so the model cannot rely on seeing TokMask
// wherever a prediction is wanted; without it every chosen position becomes TokMask. A window
// with no chosen position gets one, so every batch has a loss.
//
// A masked-LM base cannot generate text (a prediction needs the blank to exist and reads the
// right side too), so of the fine-tuning methods only classification applies to it: a class
// head with mean pooling, on a frozen or trained body, with LoRA or adapters under it if wanted.
// SFT and exact-match accuracy need a causal base.

// MLMOptions configure the masking.
type MLMOptions struct {
	Rate float32 `json:"mask_rate"` // share of positions chosen for prediction
	BERT bool    `json:"bert"`      // 80/10/10 corruption; false masks every chosen position
}

// DefaultMLM is BERT's recipe: 15% of positions, 80/10/10.
func DefaultMLM() MLMOptions { return MLMOptions{Rate: 0.15, BERT: true} }

// StreamMask is the generator stream of masked-LM corruption.
const StreamMask = "mask"

// NewMLMTrainer builds the tokenizer from the training text, a bidirectional model on dev and
// a masked-LM trainer for it (NewMLMTrainerFor takes a tokenizer, e.g. PretrainTokenizer's).
func NewMLMTrainer(dev ops.Device, cfg Config, trainText, valText string, o MLMOptions) (*Trainer, error) {
	tk, err := NewTokenizer(trainText)
	if err != nil {
		return nil, err
	}
	cfg.Vocab = tk.VocabSize()
	m, err := NewModel(dev, cfg)
	if err != nil {
		return nil, err
	}
	return NewMLMTrainerFor(m, tk, trainText, valText, o)
}

// NewMLMTrainerFor trains an existing model with the masked-LM objective; it sets the model's
// Mask to Bidirectional. The trainer is a Trainer (same events, snapshots and resume) whose
// batches are corrupted windows and whose loss counts the chosen positions only.
func NewMLMTrainerFor(m *Model, tk *Tokenizer, trainText, valText string, o MLMOptions) (*Trainer, error) {
	if !(o.Rate > 0 && o.Rate < 1) {
		return nil, fmt.Errorf("masked LM: mask rate %g is outside (0, 1)", o.Rate)
	}
	m.Mask = ops.Bidirectional
	t, err := NewTrainerFor(m, tk, trainText, valText)
	if err != nil {
		return nil, fmt.Errorf("masked LM: %w", err)
	}
	t.masked, t.maskRNG = &o, NewRNG(m.Cfg.Seed, StreamMask)
	return t, nil
}

// corrupt fills inputs, targets and weights for a window of tokens: targets are the tokens,
// weights 1 at the chosen positions, inputs the tokens corrupted there.
func corrupt(window []int32, o MLMOptions, V int, r *RNG, inputs, targets []int32, weights []float32) {
	chosen := 0
	for t, tok := range window {
		inputs[t], targets[t], weights[t] = tok, tok, 0
		if r.Float32() < o.Rate {
			weights[t] = 1
			chosen++
		}
	}
	if chosen == 0 {
		weights[r.Intn(len(window))] = 1
	}
	for t := range window {
		if weights[t] == 0 {
			continue
		}
		inputs[t] = TokMask
		if o.BERT {
			switch u := r.Float32(); {
			case u < 0.1:
				inputs[t] = int32(numSpecial + r.Intn(V-numSpecial))
			case u < 0.2:
				inputs[t] = window[t]
			}
		}
	}
}

// maskedBatch draws a step's corrupted random windows: its shape, inputs, targets and loss
// weights (1 at the positions to predict).
func (t *Trainer) maskedBatch() (B, T int, in, tg []int32, wt []float32) {
	m := t.Model
	B, T = m.Cfg.Batch, min(m.Cfg.Context, len(t.train))
	in, tg, wt = make([]int32, B*T), make([]int32, B*T), make([]float32, B*T)
	for b := 0; b < B; b++ {
		off := t.data.Intn(len(t.train) - T + 1)
		corrupt(t.train[off:off+T], *t.masked, m.Cfg.Vocab, t.maskRNG, in[b*T:(b+1)*T], tg[b*T:(b+1)*T], wt[b*T:(b+1)*T])
	}
	return B, T, in, tg, wt
}

// maskedEvaluate is the masked-LM loss on fixed held-out windows with fixed corruption (a
// generator seeded the same way every time), so successive evaluations are comparable.
func (t *Trainer) maskedEvaluate() (float64, error) {
	m := t.Model
	B, T := m.Cfg.Batch, min(m.Cfg.Context, len(t.val))
	r := NewRNG(m.Cfg.Seed, StreamMask+"/eval")
	offs := evenOffsets(len(t.val)-T, m.Cfg.EvalBatches*B)
	var sum, weight float64
	for k := 0; k < m.Cfg.EvalBatches; k++ {
		in, tg, wt := make([]int32, B*T), make([]int32, B*T), make([]float32, B*T)
		for b := 0; b < B; b++ {
			off := offs[k*B+b]
			corrupt(t.val[off:off+T], *t.masked, m.Cfg.Vocab, r, in[b*T:(b+1)*T], tg[b*T:(b+1)*T], wt[b*T:(b+1)*T])
		}
		t.batch.Set(m.Dev, B, T, in, tg, wt)
		m.forward(m.train, t.batch, Pass{})
		l, w, err := m.loss(m.train, t.batch)
		if err != nil {
			return 0, err
		}
		sum += float64(l * w)
		weight += w
	}
	t.lastVal = sum / weight
	return t.lastVal, nil
}

// evenOffsets spreads n window offsets evenly over 0..span.
func evenOffsets(span, n int) []int {
	out := make([]int, n)
	for i := range out {
		if n > 1 {
			out[i] = i * span / (n - 1)
		}
	}
	return out
}

// FillBlankAccuracy is the fill-in-the-blank probe: over batches×B windows spread evenly across
// text, positions 1..T-1 are chosen with probability rate (a fixed generator: the same blanks
// for every model), and the probe counts how often the model's most likely ordinary token is
// the original. A masked-LM model sees the window with every chosen position set to TokMask and
// predicts at the blank from both sides; a causal model sees the window up to the blank only
// (its prediction for position t is the next-token prediction at t-1, uncorrupted), so the two
// objectives answer the same questions, each with the context it can use.
func FillBlankAccuracy(m *Model, tk *Tokenizer, text string, batches int, rate float32) (float64, error) {
	tokens := tk.Encode(text)
	B, V := m.Cfg.Batch, m.Cfg.Vocab
	T := min(m.TokenContext(), len(tokens)) // the context less any soft tokens (prompt.go)
	if T < 2 {
		return 0, fmt.Errorf("probe: the text is too short")
	}
	r := NewRNG(1, StreamMask+"/probe")
	offs := evenOffsets(len(tokens)-T, batches*B)
	b := NewBatch(m.Dev, B, m.Cfg.Context)
	defer b.Free(m.Dev)
	logits := make([]float32, m.train.logits.Len())
	right, total := 0, 0
	for k := 0; k < batches; k++ {
		in := make([]int32, B*T)
		blank := make([]bool, B*T)
		for i := 0; i < B; i++ {
			w := tokens[offs[k*B+i] : offs[k*B+i]+T]
			copy(in[i*T:], w)
			for t := 1; t < T; t++ {
				if r.Float32() < rate {
					blank[i*T+t] = true
					if m.Mask == ops.Bidirectional {
						in[i*T+t] = TokMask
					}
				}
			}
		}
		b.Set(m.Dev, B, T, in, make([]int32, B*T), nil)
		m.forward(m.train, b, Pass{})
		if err := m.Dev.Download(m.train.logits, logits); err != nil {
			return 0, err
		}
		for i := 0; i < B; i++ {
			for t := 1; t < T; t++ {
				if !blank[i*T+t] {
					continue
				}
				row := i*T + t
				if m.Mask == ops.Causal {
					row--
				}
				if int32(pick(logits[row*V:(row+1)*V], SampleOptions{}, nil)) == tokens[offs[k*B+i]+t] {
					right++
				}
				total++
			}
		}
	}
	if total == 0 {
		return 0, fmt.Errorf("probe: no blanks")
	}
	return float64(right) / float64(total), nil
}

// FillBlanks shows the fill-in-the-blank probe on one text: every every-th character of the
// text's first Context characters (never the first) is blanked, and the model puts back its
// most likely one. It returns the text with the blanks as '_' and with the model's guesses in
// their place. A masked-LM model reads the window with the blanks masked, from both sides; a
// causal one reads up to each blank. This is what a masked-LM run shows instead of samples,
// since it cannot generate.
func FillBlanks(m *Model, tk *Tokenizer, text string, every int) (blanked, filled string, err error) {
	if every < 2 {
		return "", "", fmt.Errorf("probe: blank every %d characters: it must be at least 2", every)
	}
	tokens := tk.Encode(text)
	T := min(m.TokenContext(), len(tokens))
	if T < every {
		return "", "", fmt.Errorf("probe: the text needs at least %d characters", every)
	}
	tokens = tokens[:T]
	B, V := m.Cfg.Batch, m.Cfg.Vocab
	in := make([]int32, B*T)
	for i := 0; i < B; i++ { // every row the same window: the batch shape is fixed
		copy(in[i*T:], tokens)
	}
	isBlank := func(t int) bool { return t%every == every-1 }
	if m.Mask == ops.Bidirectional {
		for i := 0; i < B; i++ {
			for t := 1; t < T; t++ {
				if isBlank(t) {
					in[i*T+t] = TokMask
				}
			}
		}
	}
	b := NewBatch(m.Dev, B, m.Cfg.Context)
	defer b.Free(m.Dev)
	b.Set(m.Dev, B, T, in, make([]int32, B*T), nil)
	m.forward(m.train, b, Pass{})
	logits := make([]float32, m.train.logits.Len())
	if err := m.Dev.Download(m.train.logits, logits); err != nil {
		return "", "", err
	}
	var bl, fl strings.Builder
	for t := 0; t < T; t++ {
		orig := tk.Decode(tokens[t : t+1])
		if t == 0 || !isBlank(t) {
			bl.WriteString(orig)
			fl.WriteString(orig)
			continue
		}
		row := t
		if m.Mask == ops.Causal {
			row--
		}
		guess := int32(pick(logits[row*V:(row+1)*V], SampleOptions{}, nil))
		bl.WriteString("_")
		fl.WriteString(tk.Decode([]int32{guess}))
	}
	return bl.String(), fl.String(), nil
}

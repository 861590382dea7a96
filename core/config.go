package core

import (
	"fmt"
	"sort"
)

// Config is a whole run's setup in one flat struct, nanoGPT's way: the model's shape, the
// optimizer, the schedule and the seed. Zero values are not meaningful; start from DefaultConfig
// or a preset and change fields.
type Config struct {
	// Model shape.
	Vocab   int     `json:"vocab"`   // tokens in the vocabulary; set from the tokenizer
	Context int     `json:"context"` // T: the longest sequence the model sees (position table size)
	Layers  int     `json:"layers"`  // transformer blocks
	Heads   int     `json:"heads"`   // H: attention heads; Dim must be a multiple of it
	Dim     int     `json:"dim"`     // C: channels of the residual stream
	Dropout float32 `json:"dropout"` // on embeddings, attention output and MLP output; 0 turns it off

	// Optimisation: AdamW with linear warm-up then cosine decay to MinLR.
	Batch       int     `json:"batch"`        // B: sequences per step
	Steps       int     `json:"steps"`        // optimizer steps in the run
	LR          float32 `json:"lr"`           // peak learning rate
	MinLR       float32 `json:"min_lr"`       // learning rate at the end of the cosine
	Warmup      int     `json:"warmup"`       // steps of linear warm-up from 0 to LR
	WeightDecay float32 `json:"weight_decay"` // decoupled decay, on matrices only
	Beta1       float32 `json:"beta1"`
	Beta2       float32 `json:"beta2"`
	Eps         float32 `json:"eps"`
	GradClip    float32 `json:"grad_clip"` // global gradient-norm cap; 0 turns clipping off

	// Evaluation.
	EvalEvery   int `json:"eval_every"`   // steps between held-out evaluations (and at the end)
	EvalBatches int `json:"eval_batches"` // batches of held-out windows per evaluation

	Seed uint64 `json:"seed"` // every random stream derives from it

	// Shards cuts each pretraining step's batch into this many contiguous groups of sequences
	// whose gradients are computed separately (on goroutines, or on browser workers) and summed
	// in shard order (shards.go): the result depends on the shard count only, never on how many
	// workers computed the shards. 0 and 1 are the whole batch at once, exactly as before
	// shards existed (every old link). At most Batch.
	Shards int `json:"shards,omitempty"`
}

// DefaultConfig is the "small" preset: the model the README's benchmarks use.
func DefaultConfig() Config {
	return Config{
		Context: 64, Layers: 2, Heads: 4, Dim: 64, Dropout: 0,
		Batch: 8, Steps: 600, LR: 3e-3, MinLR: 3e-4, Warmup: 30, WeightDecay: 0.1,
		Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, GradClip: 1,
		EvalEvery: 100, EvalBatches: 4, Seed: 1,
	}
}

// Preset is a named model size with its training defaults.
type Preset struct {
	Name   string
	About  string
	Config Config
}

var sizePresets = map[string]Preset{
	"tiny": {Name: "tiny", About: "two small blocks: trains in seconds, for tests and a first look", Config: func() Config {
		c := DefaultConfig()
		c.Context, c.Layers, c.Heads, c.Dim = 32, 2, 2, 32
		c.Batch, c.Steps, c.Warmup, c.EvalEvery = 8, 300, 20, 50
		return c
	}()},
	"small": {Name: "small", About: "the default: d_model 64, 2 layers, 4 heads, context 64, batch 8", Config: DefaultConfig()},
	"base": {Name: "base", About: "four blocks of 128 channels: slower, learns more", Config: func() Config {
		c := DefaultConfig()
		c.Context, c.Layers, c.Heads, c.Dim = 128, 4, 4, 128
		c.Batch, c.Steps, c.LR, c.MinLR, c.Warmup = 16, 1500, 2e-3, 2e-4, 100
		c.EvalEvery = 250
		return c
	}()},
}

// SizePresets lists the model-size presets in increasing size.
func SizePresets() []Preset {
	out := make([]Preset, 0, len(sizePresets))
	for _, p := range sizePresets {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Config.ParamCount(100) < out[j].Config.ParamCount(100)
	})
	return out
}

// SizePreset returns the named preset.
func SizePreset(name string) (Preset, error) {
	p, ok := sizePresets[name]
	if !ok {
		names := make([]string, 0, len(sizePresets))
		for n := range sizePresets {
			names = append(names, n)
		}
		sort.Strings(names)
		return Preset{}, fmt.Errorf("unknown model size %q (known: %v)", name, names)
	}
	return p, nil
}

// ParamCount is the number of parameters of the model with this shape and a vocabulary of v
// tokens: token and position tables, per block two LayerNorms, four C×C attention projections
// and a 4C MLP (all with biases), the final LayerNorm and an untied LM head.
func (c Config) ParamCount(v int) int {
	C := c.Dim
	perBlock := 12*C*C + 13*C
	return v*C + c.Context*C + c.Layers*perBlock + 2*C + v*C
}

// Limits on a config. They keep a run inside what a browser tab can hold and reject nonsense
// from a damaged link; each is checked by Validate.
const (
	MaxDim     = 512
	MaxLayers  = 12
	MaxContext = 512
	MaxBatch   = 64
	MaxSteps   = 100000
	MaxVocab   = 1 << 16
)

// Validate says what is wrong with c, field by field, or returns nil.
func (c Config) Validate() error {
	check := func(ok bool, format string, args ...any) error {
		if ok {
			return nil
		}
		return fmt.Errorf("config: "+format, args...)
	}
	for _, err := range []error{
		check(c.Vocab >= 0 && c.Vocab <= MaxVocab, "vocab %d is outside 0..%d", c.Vocab, MaxVocab),
		check(c.Context >= 2 && c.Context <= MaxContext, "context %d is outside 2..%d", c.Context, MaxContext),
		check(c.Layers >= 1 && c.Layers <= MaxLayers, "layers %d is outside 1..%d", c.Layers, MaxLayers),
		check(c.Dim >= 4 && c.Dim <= MaxDim, "dim %d is outside 4..%d", c.Dim, MaxDim),
		check(c.Heads >= 1 && c.Heads <= c.Dim && c.Dim%max(c.Heads, 1) == 0, "heads %d must divide dim %d", c.Heads, c.Dim),
		check(c.Dropout >= 0 && c.Dropout < 0.9, "dropout %g is outside [0, 0.9)", c.Dropout),
		check(c.Batch >= 1 && c.Batch <= MaxBatch, "batch %d is outside 1..%d", c.Batch, MaxBatch),
		check(c.Steps >= 1 && c.Steps <= MaxSteps, "steps %d is outside 1..%d", c.Steps, MaxSteps),
		check(c.LR > 0 && c.LR <= 1, "lr %g is outside (0, 1]", c.LR),
		check(c.MinLR >= 0 && c.MinLR <= c.LR, "min_lr %g is outside [0, lr]", c.MinLR),
		check(c.Warmup >= 0 && c.Warmup <= c.Steps, "warmup %d is outside 0..steps", c.Warmup),
		check(c.WeightDecay >= 0 && c.WeightDecay <= 1, "weight_decay %g is outside [0, 1]", c.WeightDecay),
		check(c.Beta1 >= 0 && c.Beta1 < 1, "beta1 %g is outside [0, 1)", c.Beta1),
		check(c.Beta2 >= 0 && c.Beta2 < 1, "beta2 %g is outside [0, 1)", c.Beta2),
		check(c.Eps > 0 && c.Eps < 1, "eps %g is outside (0, 1)", c.Eps),
		check(c.GradClip >= 0, "grad_clip %g is negative", c.GradClip),
		check(c.EvalEvery >= 1, "eval_every %d must be at least 1", c.EvalEvery),
		check(c.EvalBatches >= 1 && c.EvalBatches <= 64, "eval_batches %d is outside 1..64", c.EvalBatches),
		check(c.Shards >= 0 && c.Shards <= max(c.Batch, 1), "shards %d is outside 0..batch (%d)", c.Shards, c.Batch),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

// HeadDim is D = C/H.
func (c Config) HeadDim() int { return c.Dim / c.Heads }

// LargestBuffer is the element count of the biggest single buffer a training step allocates
// with a vocabulary of v tokens: the attention scores (B·H·T·T), the logits (B·T·V), the MLP's
// hidden layer (B·T·4C) or a weight table. GPUs bound the size of one buffer, so this is what
// decides whether a model fits there.
func (c Config) LargestBuffer(v int) int {
	B, T, C := c.Batch, c.Context, c.Dim
	return max(B*c.Heads*T*T, B*T*v, B*T*4*C, v*C, 4*C*C, T*C)
}

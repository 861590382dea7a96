package core

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/ops"
)

// decodeModel is a seeded small model with dropout configured (off in every pass here, but its
// separate buffers exercise the decoder's mirror of forwardBody) and weights pushed away from
// the near-uniform initialisation, so attention and every projection matter to the logits.
func decodeModel(t testing.TB) (*Model, *Tokenizer) {
	t.Helper()
	tk, err := NewTokenizer("abcdefghij klmno.\n")
	require.NoError(t, err)
	cfg := DefaultConfig()
	cfg.Vocab, cfg.Context, cfg.Layers, cfg.Heads, cfg.Dim = tk.VocabSize(), 12, 2, 2, 8
	cfg.Batch, cfg.Dropout, cfg.Seed = 3, 0.1, 5
	m, err := NewModel(ops.NewCPU(), cfg)
	require.NoError(t, err)
	perturb(m.Params, 0.3)
	return m, tk
}

// perturb adds a fixed pattern of amplitude a to every tensor in ps.
func perturb(ps []*Param, a float64) {
	for j, p := range ps {
		w := ops.Floats(p.W)
		for i := range w {
			w[i] += float32(a * math.Sin(1.3*float64(i)+float64(j)))
		}
	}
}

// withLoRA attaches LoRA to every target with a non-zero B, so the update changes the logits.
func withLoRA(t testing.TB, m *Model) {
	t.Helper()
	_, err := m.AttachLoRA(LoRAConfig{Rank: 2, Alpha: 4, Targets: LoRATargets[:]}, 7)
	require.NoError(t, err)
	perturb(m.MethodParams(), 0.3)
}

// fullLogits is the reference: the ordinary forward pass over the last Context tokens of seq,
// and a copy of its last position's logits.
func fullLogits(t testing.TB, m *Model, seq []int32) []float32 {
	t.Helper()
	if len(seq) > m.Cfg.Context {
		seq = seq[len(seq)-m.Cfg.Context:]
	}
	T, V := len(seq), m.Cfg.Vocab
	b := NewBatch(m.Dev, 1, m.Cfg.Context)
	defer b.Free(m.Dev)
	b.Set(m.Dev, 1, T, seq, make([]int32, T), nil)
	m.forward(m.single, b, Pass{})
	return append([]float32(nil), ops.Floats(m.single.logits)[(T-1)*V:T*V]...)
}

// maxRelDiff is max |got-want| / max(|want|, 1e-6) over the elements.
func maxRelDiff(got, want []float32) float64 {
	var worst float64
	for i := range want {
		d := math.Abs(float64(got[i]-want[i])) / math.Max(math.Abs(float64(want[i])), 1e-6)
		worst = max(worst, d)
	}
	return worst
}

// TestDecodeLogitsMatchForward: the cached decoder's logits, after the prefill and at every
// position it appends up to the full context, equal the full forward pass's logits of the same
// sequence (a wrong cache row, a skipped LoRA branch or a missed position embedding would not).
func TestDecodeLogitsMatchForward(t *testing.T) {
	base, _ := decodeModel(t)
	lora, _ := decodeModel(t)
	withLoRA(t, lora)
	probe := []int32{4, 9, 5, 12}
	require.NotEqual(t, fullLogits(t, base, probe), fullLogits(t, lora, probe), "LoRA must change the logits")
	for _, c := range []struct {
		name string
		m    *Model
	}{{"base", base}, {"lora", lora}} {
		t.Run(c.name, func(t *testing.T) {
			m := c.m
			require.True(t, m.canDecode())
			dc := m.newDecoder()
			defer dc.free()
			rng := NewRNG(11, "test")
			var worst float64
			for _, L := range []int{1, 2, 5, m.Cfg.Context - 1, m.Cfg.Context} {
				seq := make([]int32, L)
				for i := range seq {
					seq[i] = int32(numSpecial + rng.Intn(m.Cfg.Vocab-numSpecial))
				}
				got, err := dc.prefill(seq)
				require.NoError(t, err)
				for {
					d := maxRelDiff(got, fullLogits(t, m, seq))
					require.LessOrEqual(t, d, 1e-5, "prompt %d, position %d", L, len(seq)-1)
					worst = max(worst, d)
					if len(seq) == m.Cfg.Context {
						break
					}
					next := int32(numSpecial + rng.Intn(m.Cfg.Vocab-numSpecial))
					seq = append(seq, next)
					if got, err = dc.step(next); err != nil {
						t.Fatal(err)
					}
				}
			}
			t.Logf("largest relative difference from the full forward pass: %g", worst)
		})
	}
}

// decodePrompts are prompts of varied lengths: empty, one token, up to and past the context
// (the row then slides its window, recomputed).
func decodePrompts(m *Model) [][]int32 {
	rng := NewRNG(3, "test")
	var out [][]int32
	for _, L := range []int{0, 1, 3, 4, 6, 7, 9, m.Cfg.Context - 2, m.Cfg.Context, m.Cfg.Context + 3} {
		p := make([]int32, L)
		for i := range p {
			p[i] = int32(numSpecial + rng.Intn(m.Cfg.Vocab-numSpecial))
		}
		out = append(out, p)
	}
	return out
}

// referenceSample recomputes the full forward pass for every token, row by row, drawing from
// rng in SampleBatch's documented order (all of row 0's tokens, then row 1's, ...).
func referenceSample(t testing.TB, m *Model, tk *Tokenizer, prompts [][]int32, o SampleOptions, rng *RNG) [][]int32 {
	out := make([][]int32, len(prompts))
	for i, p := range prompts {
		seq := append([]int32(nil), p...)
		if len(seq) == 0 {
			seq = []int32{TokPad}
		}
		var gen []int32
		for len(gen) < o.Tokens {
			next := int32(pick(fullLogits(t, m, seq), o, rng))
			seq, gen = append(seq, next), append(gen, next)
			if o.Stop != "" && hasSuffix(tk.Decode(gen), o.Stop) {
				break
			}
		}
		out[i] = gen
	}
	return out
}

// TestSampleBatchCachedMatchesRecompute: SampleBatch's tokens are exactly those of sampling from
// the full forward pass with the same draws, for a plain and a LoRA model, with and without a
// stop string and top-k.
func TestSampleBatchCachedMatchesRecompute(t *testing.T) {
	base, tk := decodeModel(t)
	lora, _ := decodeModel(t)
	withLoRA(t, lora)
	for _, c := range []struct {
		name string
		m    *Model
		o    SampleOptions
	}{
		{"base", base, SampleOptions{Tokens: 8, Temperature: 1}},
		{"base/topk-stop", base, SampleOptions{Tokens: 8, Temperature: 0.7, TopK: 5, Stop: "a"}},
		{"lora", lora, SampleOptions{Tokens: 8, Temperature: 1.3}},
		{"lora/stop", lora, SampleOptions{Tokens: 8, Temperature: 1, Stop: "\n"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			require.True(t, c.m.canDecode())
			prompts := decodePrompts(c.m)
			for seed := uint64(1); seed <= 3; seed++ {
				got, err := c.m.SampleBatch(tk, prompts, c.o, NewRNG(seed, StreamSampling))
				require.NoError(t, err)
				want := referenceSample(t, c.m, tk, prompts, c.o, NewRNG(seed, StreamSampling))
				require.Equal(t, want, got, "seed %d", seed)
			}
		})
	}
}

// TestSampleBatchFallsBack: adapters and a prefix are not in the decoder; such models still
// sample, recomputing, with the same draw order and the same tokens as the reference.
func TestSampleBatchFallsBack(t *testing.T) {
	for _, c := range []struct {
		name   string
		attach func(m *Model) error
	}{
		{"adapters", func(m *Model) error { _, err := m.AttachAdapters(AdapterConfig{Size: 3}, 1); return err }},
		{"prefix", func(m *Model) error { _, err := m.AttachPrefix(PrefixConfig{Len: 3}, nil, 1); return err }},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, tk := decodeModel(t)
			require.NoError(t, c.attach(m))
			perturb(m.MethodParams(), 0.3)
			require.False(t, m.canDecode())
			prompts := decodePrompts(m)
			o := SampleOptions{Tokens: 6, Temperature: 1, Stop: "\n"}
			got, err := m.SampleBatch(tk, prompts, o, NewRNG(9, StreamSampling))
			require.NoError(t, err)
			require.Equal(t, referenceSample(t, m, tk, prompts, o, NewRNG(9, StreamSampling)), got)
		})
	}
}

// BenchmarkSampleBatch compares the cached decoder with recomputing the whole batch per token
// (the path SampleBatch took before) on the small preset: 16 prompts of about 40 tokens, 16 new
// tokens each.
func BenchmarkSampleBatch(b *testing.B) {
	tk, err := NewTokenizer("abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ.,;:!?\n")
	require.NoError(b, err)
	p, err := SizePreset("small")
	require.NoError(b, err)
	cfg := p.Config
	cfg.Vocab, cfg.Batch = tk.VocabSize(), 16
	m, err := NewModel(ops.NewCPU(), cfg)
	require.NoError(b, err)
	defer m.Free()
	rng := NewRNG(1, "bench")
	prompts := make([][]int32, 16)
	for i := range prompts {
		prompts[i] = make([]int32, 36+rng.Intn(9))
		for j := range prompts[i] {
			prompts[i][j] = int32(numSpecial + rng.Intn(cfg.Vocab-numSpecial))
		}
	}
	o := SampleOptions{Tokens: 16, Temperature: 1}
	for _, c := range []struct {
		name   string
		sample func(r *RNG) ([][]int32, error)
	}{
		{"cached", func(r *RNG) ([][]int32, error) { return m.SampleBatch(tk, prompts, o, r) }},
		{"recompute", func(r *RNG) ([][]int32, error) {
			return m.continueBatch(tk, prompts, o.Tokens, "", func(row []float32) int32 { return int32(pick(row, o, r)) })
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			tokens := 0
			for i := 0; i < b.N; i++ {
				gen, err := c.sample(NewRNG(uint64(i), StreamSampling))
				if err != nil {
					b.Fatal(err)
				}
				for _, g := range gen {
					tokens += len(g)
				}
			}
			b.ReportMetric(float64(tokens)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}

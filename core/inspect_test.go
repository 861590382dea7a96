package core

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/ops"
)

// randomize sets every weight of m (fine-tuning methods' too) far from its initialisation, so
// every path of the forward pass (and a LoRA B, an adapter's up, which start at zero) matters.
func randomize(m *Model, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 7))
	for _, p := range m.Params {
		w := ops.Floats(p.W)
		for i := range w {
			w[i] = float32(r.NormFloat64() * 0.4)
		}
	}
}

// inspectModels are the models the inspection must work on: a plain GPT, one with dropout
// (inspection must not drop anything), and each fine-tuning method attached.
func inspectModels(t *testing.T) map[string]func() (*Model, *Tokenizer) {
	return map[string]func() (*Model, *Tokenizer){
		"plain": func() (*Model, *Tokenizer) { return tinyModel(t, 0) },
		"dropout": func() (*Model, *Tokenizer) {
			return tinyModel(t, 0.3)
		},
		"lora": func() (*Model, *Tokenizer) {
			m, tk := tinyModel(t, 0)
			_, err := m.AttachLoRA(LoRAConfig{Rank: 2, Alpha: 4, Targets: LoRATargets[:]}, 1)
			require.NoError(t, err)
			return m, tk
		},
		"adapters": func() (*Model, *Tokenizer) {
			m, tk := tinyModel(t, 0)
			_, err := m.AttachAdapters(AdapterConfig{Size: 3}, 1)
			require.NoError(t, err)
			return m, tk
		},
		"prefix": func() (*Model, *Tokenizer) {
			m, tk := tinyModel(t, 0)
			_, err := m.AttachPrefix(PrefixConfig{Len: 2}, nil, 1)
			require.NoError(t, err)
			return m, tk
		},
	}
}

// refLogits runs text as the second row of a batch of two on the training activations (another
// shape and other buffers than Inspect's) and returns the logits of its last position.
func refLogits(t *testing.T, m *Model, ids []int32) []float32 {
	t.Helper()
	T, V := len(ids), m.Cfg.Vocab
	other := make([]int32, T)
	for i := range other {
		other[i] = int32(numSpecial + i%(V-numSpecial))
	}
	b := NewBatch(m.Dev, m.Cfg.Batch, m.Cfg.Context)
	defer b.Free(m.Dev)
	b.Set(m.Dev, 2, T, append(other, ids...), make([]int32, 2*T), nil)
	m.forward(m.train, b, Pass{})
	return append([]float32(nil), ops.Floats(m.train.logits)[(2*T-1)*V:2*T*V]...)
}

// softmaxRef is an independent softmax in float64 with the standard library's exp.
func softmaxRef(row []float32) []float64 {
	mx := math.Inf(-1)
	for _, v := range row {
		mx = math.Max(mx, float64(v))
	}
	out := make([]float64, len(row))
	var sum float64
	for i, v := range row {
		out[i] = math.Exp(float64(v) - mx)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

func TestInspectNextTokens(t *testing.T) {
	for name, build := range inspectModels(t) {
		t.Run(name, func(t *testing.T) {
			m, tk := build()
			randomize(m, 11)
			for _, prompt := range []string{"a", "cab de", "hello, abcdefg"} {
				ins, err := m.Inspect(tk, prompt, 5)
				require.NoError(t, err)
				ids := tk.Encode(prompt)
				cut := max(0, len(ids)-m.Cfg.Context)
				require.Equal(t, cut, ins.Cut)
				ids = ids[cut:]
				require.Len(t, ins.Tokens, len(ids))
				for i, id := range ids {
					require.Equal(t, tk.Token(int(id)), ins.Tokens[i])
				}

				want := softmaxRef(refLogits(t, m, ids))
				order := make([]int, len(want))
				for i := range order {
					order[i] = i
				}
				sort.SliceStable(order, func(i, j int) bool { return want[order[i]] > want[order[j]] })
				require.Len(t, ins.Next, 5)
				for i, tp := range ins.Next {
					require.Equal(t, order[i], tp.ID, "rank %d", i)
					require.Equal(t, tk.Token(tp.ID), tp.Token)
					require.InDelta(t, want[tp.ID], float64(tp.Prob), 1e-6, "p(%q)", tp.Token)
					if i > 0 {
						require.LessOrEqual(t, tp.Prob, ins.Next[i-1].Prob)
					}
				}
			}
		})
	}
}

func TestInspectAttentionMaps(t *testing.T) {
	for name, build := range inspectModels(t) {
		t.Run(name, func(t *testing.T) {
			m, tk := build()
			randomize(m, 12)
			ins, err := m.Inspect(tk, "bad cafe", 3) // longer than the context of 6: the last 6
			require.NoError(t, err)
			require.Equal(t, 2, ins.Cut)
			T := 6
			require.Len(t, ins.Attention, m.Cfg.Layers)
			if m.PrefixLen() > 0 {
				require.Len(t, ins.PrefixShare, m.Cfg.Layers)
			} else {
				require.Nil(t, ins.PrefixShare)
			}
			for l, heads := range ins.Attention {
				require.Len(t, heads, m.Cfg.Heads)
				for h, rows := range heads {
					require.Len(t, rows, T)
					for q, row := range rows {
						require.Len(t, row, T)
						var sum float64
						for j, p := range row {
							if j > q {
								require.Zero(t, p, "layer %d head %d: query %d sees the later token %d", l, h, q, j)
							}
							require.GreaterOrEqual(t, p, float32(0))
							sum += float64(p)
						}
						if ins.PrefixShare != nil {
							share := ins.PrefixShare[l][h][q]
							require.Greater(t, share, float32(0), "every query sees the prefix")
							sum += float64(share)
						}
						require.InDelta(t, 1, sum, 1e-5, "layer %d head %d row %d", l, h, q)
					}
				}
			}
		})
	}
}

// TestInspectAttentionMatchesAReference recomputes layer 0's attention of a plain model from its
// weights in float64 (embeddings, LayerNorm, the query and key projections, a causal softmax of
// the scaled scores per head): a wrong head, stride or row in reading the maps back shows here.
func TestInspectAttentionMatchesAReference(t *testing.T) {
	m, tk := tinyModel(t, 0)
	randomize(m, 13)
	ids := tk.Encode("hij.fa")
	ins, err := m.Inspect(tk, "hij.fa", 0)
	require.NoError(t, err)
	require.Nil(t, ins.Next, "k = 0 asks for the maps alone")

	C, H, D, T := m.Cfg.Dim, m.Cfg.Heads, m.Cfg.HeadDim(), len(ids)
	w := func(p *Param) []float32 { return ops.Floats(p.W) }
	bl := m.blocks[0]
	ln := make([][]float64, T)
	for t := range ln {
		x := make([]float64, C)
		var mean float64
		for c := range x {
			x[c] = float64(w(m.wte)[int(ids[t])*C+c]) + float64(w(m.wpe)[t*C+c])
			mean += x[c]
		}
		mean /= float64(C)
		var variance float64
		for _, v := range x {
			variance += (v - mean) * (v - mean)
		}
		rstd := 1 / math.Sqrt(variance/float64(C)+1e-5)
		ln[t] = make([]float64, C)
		for c := range x {
			ln[t][c] = (x[c]-mean)*rstd*float64(w(bl.ln1W)[c]) + float64(w(bl.ln1B)[c])
		}
	}
	project := func(wt, bias *Param) [][]float64 {
		out := make([][]float64, T)
		for t := range out {
			out[t] = make([]float64, C)
			for o := 0; o < C; o++ {
				s := float64(w(bias)[o])
				for c := 0; c < C; c++ {
					s += ln[t][c] * float64(w(wt)[o*C+c])
				}
				out[t][o] = s
			}
		}
		return out
	}
	q, k := project(bl.wq, bl.bq), project(bl.wk, bl.bk)
	for h := 0; h < H; h++ {
		for i := 0; i < T; i++ {
			scores := make([]float64, i+1)
			mx := math.Inf(-1)
			for j := 0; j <= i; j++ {
				for d := 0; d < D; d++ {
					scores[j] += q[i][h*D+d] * k[j][h*D+d]
				}
				scores[j] /= math.Sqrt(float64(D))
				mx = math.Max(mx, scores[j])
			}
			var sum float64
			for j := range scores {
				scores[j] = math.Exp(scores[j] - mx)
				sum += scores[j]
			}
			for j := 0; j < T; j++ {
				want := 0.0
				if j <= i {
					want = scores[j] / sum
				}
				require.InDelta(t, want, float64(ins.Attention[0][h][i][j]), 2e-5, "head %d query %d key %d", h, i, j)
			}
		}
	}
}

// TestTokenProbsAgreeWithTheLoss: within the context, each token's probability is exp(-loss) of
// the model's own cross-entropy at that position.
func TestTokenProbsAgreeWithTheLoss(t *testing.T) {
	for name, build := range inspectModels(t) {
		t.Run(name, func(t *testing.T) {
			m, tk := build()
			randomize(m, 14)
			for _, text := range []string{"ab", "f.ace", "jigged"} {
				got, err := m.TokenProbs(tk, text)
				require.NoError(t, err)
				ids := tk.Encode(text)
				T := len(ids) - 1
				require.Len(t, got, T)

				b := NewBatch(m.Dev, m.Cfg.Batch, m.Cfg.Context)
				b.Set(m.Dev, 1, T, ids[:T], ids[1:], nil)
				m.forward(m.train, b, Pass{})
				_, _, err = m.loss(m.train, b)
				require.NoError(t, err)
				losses := ops.Floats(m.train.losses)
				for i, tp := range got {
					require.Equal(t, int(ids[i+1]), tp.ID)
					want := math.Exp(-float64(losses[i]))
					require.InDelta(t, want, float64(tp.Prob), 1e-6+1e-5*want, "%q token %d", text, i+1)
				}
				b.Free(m.Dev)
			}
		})
	}
}

// TestTokenProbsOfGeneratedText: past the context, a token's probability is the one it had when
// the model wrote it (GenerateTokens, one window growing then sliding), which TokenProbs gets
// from batched windows: the same numbers by another path.
func TestTokenProbsOfGeneratedText(t *testing.T) {
	for name, build := range inspectModels(t) {
		t.Run(name, func(t *testing.T) {
			m, tk := build()
			randomize(m, 15)
			prompt := "ab"
			o := SampleOptions{Tokens: 17, Temperature: 1, Seed: 4} // 2+17 tokens: past a context of 6
			gen, err := m.GenerateTokens(tk, prompt, o)
			require.NoError(t, err)
			require.Len(t, gen, o.Tokens)
			text, err := m.Generate(tk, prompt, o)
			require.NoError(t, err)
			require.Equal(t, text, joinTokens(gen), "the same draws as Generate")

			got, err := m.TokenProbs(tk, prompt+text)
			require.NoError(t, err)
			require.Len(t, got, len(tk.Encode(prompt+text))-1)
			scored := got[len(tk.Encode(prompt))-1:]
			for i, g := range gen {
				require.Equal(t, g.ID, scored[i].ID)
				require.InDelta(t, g.Prob, scored[i].Prob, 1e-6, "generated token %d %q", i, g.Token)
				require.Greater(t, g.Prob, float32(0))
			}
		})
	}
}

func TestInspectRefusesClearly(t *testing.T) {
	m, tk := tinyModel(t, 0)
	_, err := m.Inspect(tk, "", 5)
	require.ErrorContains(t, err, "the prompt is empty")
	_, err = m.Inspect(tk, "abc", -1)
	require.ErrorContains(t, err, "must not be negative")
	_, err = m.TokenProbs(tk, "a")
	require.ErrorContains(t, err, "at least two characters")

	// Characters the vocabulary lacks are the unknown token, shown by name.
	ins, err := m.Inspect(tk, "aZ", 100)
	require.NoError(t, err)
	require.Equal(t, []string{"a", "<unk>"}, ins.Tokens)
	require.Len(t, ins.Next, m.Cfg.Vocab, "k past the vocabulary lists every token")
	var sum float64
	for _, tp := range ins.Next {
		sum += float64(tp.Prob)
	}
	require.InDelta(t, 1, sum, 1e-5)

	// A masked-LM model has attention maps (every query sees every key) but no next token.
	m.Mask = ops.Bidirectional
	_, err = m.Inspect(tk, "abc", 3)
	require.ErrorContains(t, err, "needs a causal model")
	_, err = m.TokenProbs(tk, "abc")
	require.ErrorContains(t, err, "needs a causal model")
	randomize(m, 16)
	ins, err = m.Inspect(tk, "abc", 0)
	require.NoError(t, err)
	require.Greater(t, ins.Attention[0][0][0][2], float32(0), "a bidirectional model looks ahead")
}

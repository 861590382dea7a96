package core

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"io"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/ops"
)

// Tests of #17's methods in core: LoRA+ (the per-tensor learning rate), PiSSA (the SVD and the
// initialisation), prompt tuning (positions, the loss, generation, the context). Their
// backward passes are checked by TestMethodGradients (methods_test.go).

// orthogonal returns an n×k (k <= n) matrix with orthonormal columns, row-major: Gram-Schmidt
// (twice, for accuracy) of seeded Gaussian columns.
func orthogonal(r *rand.Rand, n, k int) []float64 {
	cols := make([][]float64, k)
	for j := range cols {
		c := make([]float64, n)
		for i := range c {
			c[i] = r.NormFloat64()
		}
		for pass := 0; pass < 2; pass++ {
			for _, prev := range cols[:j] {
				d := dot64(c, prev)
				for i := range c {
					c[i] -= d * prev[i]
				}
			}
		}
		norm := math.Sqrt(dot64(c, c))
		for i := range c {
			c[i] /= norm
		}
		cols[j] = c
	}
	out := make([]float64, n*k)
	for j, c := range cols {
		for i, x := range c {
			out[i*k+j] = x
		}
	}
	return out
}

// TestSVDAgainstReference builds A = U·diag(s)·Vᵀ from known orthonormal U and V and known
// singular values (distinct, one pair close together, tall and wide shapes) and checks the
// decomposition against them: the values, each vector up to its sign, the sign convention,
// orthonormality and the reconstruction.
func TestSVDAgainstReference(t *testing.T) {
	for _, shape := range []struct{ rows, cols int }{{9, 5}, {5, 9}, {7, 7}, {1, 4}, {16, 16}} {
		t.Run("", func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(shape.rows), uint64(shape.cols)))
			k := min(shape.rows, shape.cols)
			U, V := orthogonal(r, shape.rows, k), orthogonal(r, shape.cols, k)
			s := make([]float64, k)
			for i := range s {
				s[i] = 10 / float64(i+1) // decreasing, distinct
			}
			if k > 2 {
				s[2] = s[1] * (1 - 1e-6) // a nearly equal pair: still told apart
			}
			a := make([]float64, shape.rows*shape.cols)
			for i := 0; i < shape.rows; i++ {
				for j := 0; j < shape.cols; j++ {
					for l := 0; l < k; l++ {
						a[i*shape.cols+j] += U[i*k+l] * s[l] * V[j*k+l]
					}
				}
			}
			d := NewSVD(a, shape.rows, shape.cols)
			require.Equal(t, k, d.K)
			for l := 0; l < k; l++ {
				require.InDelta(t, s[l], d.S[l], 1e-12*s[0], "singular value %d", l)
			}
			for l := 0; l < k; l++ {
				// Up to sign: |⟨u_ref, u⟩| = 1 and the same sign for u and v.
				var du, dv float64
				big := 0
				for i := 0; i < shape.rows; i++ {
					du += U[i*k+l] * d.U[i*k+l]
					if math.Abs(d.U[i*k+l]) > math.Abs(d.U[big*k+l]) {
						big = i
					}
				}
				for j := 0; j < shape.cols; j++ {
					dv += V[j*k+l] * d.V[j*k+l]
				}
				tol := 1e-9
				if l == 1 || l == 2 {
					tol = 1e-4 // a close pair's vectors are less well determined: cond ≈ 1/gap
				}
				require.InDelta(t, 1, math.Abs(du), tol, "left vector %d", l)
				require.InDelta(t, du, dv, 2*tol, "vector pair %d: u and v must share the sign", l)
				require.Greater(t, d.U[big*k+l], 0.0, "vector %d: its largest entry is positive", l)
			}
			for _, m := range []struct {
				q []float64
				n int
			}{{d.U, shape.rows}, {d.V, shape.cols}} {
				for p := 0; p < k; p++ {
					for q := 0; q < k; q++ {
						var dot float64
						for i := 0; i < m.n; i++ {
							dot += m.q[i*k+p] * m.q[i*k+q]
						}
						want := 0.0
						if p == q {
							want = 1
						}
						require.InDelta(t, want, dot, 1e-12, "columns %d and %d", p, q)
					}
				}
			}
			for i := 0; i < shape.rows; i++ {
				for j := 0; j < shape.cols; j++ {
					var x float64
					for l := 0; l < k; l++ {
						x += d.U[i*k+l] * d.S[l] * d.V[j*k+l]
					}
					require.InDelta(t, a[i*shape.cols+j], x, 1e-12*s[0], "entry %d,%d", i, j)
				}
			}
		})
	}
}

// TestSVDRankDeficient: a rank-2 matrix has two clearly non-zero singular values, the third
// vanishing to rounding, and the reconstruction holds.
func TestSVDRankDeficient(t *testing.T) {
	a := []float64{1, 2, 3, 2, 4, 6, 1, 0, 1, 0, 0, 0} // rows 1 and 2 parallel; a zero row
	d := NewSVD(a, 4, 3)
	require.Greater(t, d.S[1], 0.1)
	require.Less(t, d.S[2], 1e-12)
	for i := 0; i < 4; i++ {
		for j := 0; j < 3; j++ {
			var x float64
			for l := 0; l < 3; l++ {
				x += d.U[i*3+l] * d.S[l] * d.V[j*3+l]
			}
			require.InDelta(t, a[i*3+j], x, 1e-12)
		}
	}
}

// svdGoldenHash is the SHA-256 of the float64 bits of U, S and V of TestSVDBitsAreFixed's
// matrix. The SVD initialises PiSSA, so it must give the same bits on every platform: the hash
// is checked natively, with GOAMD64=v3 (fused multiply-adds available) and under GOOS=js.
const svdGoldenHash = "9f429c53d025b4b2c617e4f67eef3f43d3ca6ce277199dcfc9f825d798396040"

// TestSVDBitsAreFixed decomposes a seeded 24×13 matrix twice and compares the bits with each
// other and with svdGoldenHash.
func TestSVDBitsAreFixed(t *testing.T) {
	hash := func() string {
		r := rand.New(rand.NewPCG(17, 4))
		a := make([]float64, 24*13)
		for i := range a {
			a[i] = float64(float32(r.NormFloat64() * 0.02)) // float32 weights, as PiSSA's
		}
		d := NewSVD(a, 24, 13)
		h := sha256.New()
		for _, xs := range [][]float64{d.U, d.S, d.V} {
			for _, x := range xs {
				h.Write(binary.LittleEndian.AppendUint64(nil, math.Float64bits(x)))
			}
		}
		return hex.EncodeToString(h.Sum(nil))
	}
	h := hash()
	require.Equal(t, h, hash())
	require.Equal(t, svdGoldenHash, h)
}

// TestPiSSAInit: A and B hold the top singular triplets (s·B·A is W's best rank-r part, A's
// rows orthogonal with squared norms S/s, B's columns likewise), the residual makes up the
// rest, so the model starts at the base's outputs to float32 rounding; the base tensors hold
// the residual. Nothing is random: two attachments give the same bits.
func TestPiSSAInit(t *testing.T) {
	m, _ := tinyModel(t, 0)
	randomizeForGradients(m, 3) // weights with a spread of singular values
	in := fixedInput(m)
	base := logitsOf(t, m, in)
	wq := append([]float32(nil), ops.Floats(m.blocks[0].wq.W)...)
	cfg := LoRAConfig{Rank: 3, Alpha: 6, Targets: []string{"q_proj", "fc_out"}}
	twin, err := m.Clone()
	require.NoError(t, err)
	n, err := m.AttachPiSSA(cfg)
	require.NoError(t, err)
	require.Equal(t, m.TrainableCount(), n)
	require.True(t, m.PiSSA())
	got := logitsOf(t, m, in)
	for i := range base {
		require.InDelta(t, base[i], got[i], 1e-4, "logit %d", i)
	}
	lo := m.blocks[0].lora[loraQ]
	C, r, s := m.Cfg.Dim, cfg.Rank, float64(cfg.Scaling())
	w64 := make([]float64, len(wq))
	for i, x := range wq {
		w64[i] = float64(x)
	}
	ref := NewSVD(w64, C, C)
	A, B, res := ops.Floats(lo.A.W), ops.Floats(lo.B.W), ops.Floats(lo.w.W)
	for p := 0; p < r; p++ {
		for q := 0; q < r; q++ {
			var aa, bb float64
			for j := 0; j < C; j++ {
				aa += float64(A[p*C+j]) * float64(A[q*C+j])
				bb += float64(B[j*r+p]) * float64(B[j*r+q])
			}
			want := 0.0
			if p == q {
				want = ref.S[p] / s
			}
			require.InDelta(t, want, aa, 1e-5, "A rows %d, %d", p, q)
			require.InDelta(t, want, bb, 1e-5, "B columns %d, %d", p, q)
		}
	}
	for i := 0; i < C; i++ {
		for j := 0; j < C; j++ {
			var top, ba float64
			for k := 0; k < r; k++ {
				top += ref.U[i*C+k] * ref.S[k] * ref.V[j*C+k]
				ba += float64(B[i*r+k]) * float64(A[k*C+j])
			}
			require.InDelta(t, top, s*ba, 1e-5, "s·B·A at %d,%d is W's rank-%d part", i, j, r)
			require.InDelta(t, w64[i*C+j]-top, float64(res[i*C+j]), 1e-5, "residual at %d,%d", i, j)
		}
	}
	_, err = twin.AttachPiSSA(cfg)
	require.NoError(t, err)
	h1, err := m.WeightsHash()
	require.NoError(t, err)
	h2, err := twin.WeightsHash()
	require.NoError(t, err)
	require.Equal(t, h1, h2)
	require.ErrorContains(t, m.ExportLoRA(io.Discard), "residual", "a PiSSA adapter does not go on the base")

	drop := cfg
	drop.Dropout = 0.1
	fresh, err := m.Clone()
	require.NoError(t, err)
	_, err = fresh.AttachPiSSA(drop)
	require.ErrorContains(t, err, "dropout")
}

// TestLoRAPlusLearningRates: one update of LoRA+ at learning rate lr moves A exactly as LoRA
// at lr does and B exactly as LoRA at ratio·lr does (from the same non-zero A and B, so both
// have gradients); a ratio of 0 or out of range is refused.
func TestLoRAPlusLearningRates(t *testing.T) {
	const lr, ratio = float32(1e-2), float32(16)
	cfg := LoRAConfig{Rank: 2, Alpha: 4, Targets: []string{"q_proj", "fc_in"}}
	step := func(plus bool, rate float32) (a, b []float32) { // A and B of one adapted layer after the step
		m, _ := tinyModel(t, 0)
		var err error
		if plus {
			_, err = m.AttachLoRAPlus(cfg, ratio, 5)
		} else {
			_, err = m.AttachLoRA(cfg, 5)
		}
		require.NoError(t, err)
		for i, p := range m.MethodParams() { // a non-zero B, the same in every model
			w := ops.Floats(p.W)
			for j := range w {
				w[j] = float32(math.Sin(float64(7*i+j))) * 0.2
			}
		}
		batch := gradBatch(m, 3, 2, 5)
		opt := NewOptimizer(m)
		_, err = m.TrainStep(opt, batch, Pass{}, rate)
		require.NoError(t, err)
		lo := m.blocks[1].lora[loraFcIn]
		return append([]float32(nil), ops.Floats(lo.A.W)...), append([]float32(nil), ops.Floats(lo.B.W)...)
	}
	plusA, plusB := step(true, lr)
	loraA, loraB := step(false, lr)
	_, fastB := step(false, float32(lr*ratio))
	require.Equal(t, loraA, plusA, "A learns at lr")
	require.Equal(t, fastB, plusB, "B learns at ratio·lr")
	require.NotEqual(t, loraB, plusB)

	m, _ := tinyModel(t, 0)
	for _, bad := range []float32{0, -1, MaxLoRAPlusRatio + 1, float32(math.NaN())} {
		_, err := m.AttachLoRAPlus(cfg, bad, 5)
		require.ErrorContains(t, err, "ratio", "ratio %g", bad)
	}
}

// TestPromptIsTextInFront: soft tokens initialised from the embeddings of tokens X make the
// model read X before every sequence, so its real positions give exactly (bit for bit) the
// logits and loss the base gives on [X; sequence] with X's positions unweighted, and it writes
// the same greedy continuation. This pins the positions (soft 0..P-1, real P..P+T-1), the
// gather of the real rows, and that the loss ignores the soft positions.
func TestPromptIsTextInFront(t *testing.T) {
	m, tk := tinyModel(t, 0)
	randomizeForGradients(m, 4)
	base, err := m.Clone()
	require.NoError(t, err)
	const P, T = 2, 3
	X := []int32{5, 9}
	n, err := m.AttachPrompt(PromptConfig{Len: P}, X, 1)
	require.NoError(t, err)
	require.Equal(t, P*m.Cfg.Dim, n)
	require.Equal(t, n, m.TrainableCount())
	require.Equal(t, m.Cfg.Context-P, m.TokenContext())

	in, tg := []int32{3, 4, 7, 8, 10, 6}, []int32{4, 7, 8, 10, 6, 11}
	wt := []float32{1, 0, 2, 1, 1, 1}
	b := NewBatch(m.Dev, m.Cfg.Batch, m.Cfg.Context)
	b.Set(m.Dev, 2, T, in, tg, wt)
	m.forward(m.train, b, Pass{})
	loss, weight, err := m.loss(m.train, b)
	require.NoError(t, err)
	got := append([]float32(nil), ops.Floats(m.train.logits)[:2*T*m.Cfg.Vocab]...)

	var bin, btg []int32
	var bwt []float32
	for r := 0; r < 2; r++ {
		bin = append(append(bin, X...), in[r*T:(r+1)*T]...)
		btg = append(append(btg, 0, 0), tg[r*T:(r+1)*T]...)
		bwt = append(append(bwt, 0, 0), wt[r*T:(r+1)*T]...)
	}
	bb := NewBatch(base.Dev, base.Cfg.Batch, base.Cfg.Context)
	bb.Set(base.Dev, 2, P+T, bin, btg, bwt)
	base.forward(base.train, bb, Pass{})
	wantLoss, wantWeight, err := base.loss(base.train, bb)
	require.NoError(t, err)
	V := m.Cfg.Vocab
	all := ops.Floats(base.train.logits)
	for r := 0; r < 2; r++ {
		for tt := 0; tt < T; tt++ {
			require.Equal(t, all[(r*(P+T)+P+tt)*V:(r*(P+T)+P+tt+1)*V], got[(r*T+tt)*V:(r*T+tt+1)*V], "row %d position %d", r, tt)
		}
	}
	require.Equal(t, wantLoss, loss)
	require.Equal(t, wantWeight, weight)

	gen, err := m.GreedyBatch(tk, []string{"ab", "c"}, 2, "")
	require.NoError(t, err)
	xText := tk.Decode(X)
	want, err := base.GreedyBatch(tk, []string{xText + "ab", xText + "c"}, 2, "")
	require.NoError(t, err)
	require.Equal(t, want, gen)

	// Text longer than the 4 tokens left after the soft tokens is scored and probed in
	// windows of 4, as generation sees it, not of the whole context.
	probs, err := m.TokenProbs(tk, "abcdefgh")
	require.NoError(t, err)
	require.Len(t, probs, 7)
	_, err = FillBlankAccuracy(m, tk, "abcdefghij abcdefghij", 1, 0.3)
	require.NoError(t, err)
}

// TestPromptRefusals: soft tokens that leave no room, a second prompt, a prefix beside it, a
// trained body under a class head, and a task whose examples do not fit beside the soft tokens
// each get a clear error.
func TestPromptRefusals(t *testing.T) {
	m, _ := tinyModel(t, 0)
	for _, P := range []int{0, m.Cfg.Context, MaxPromptLen + 1} {
		_, err := m.AttachPrompt(PromptConfig{Len: P}, nil, 1)
		require.ErrorContains(t, err, "soft tokens is outside", "len %d", P)
	}
	_, err := m.AttachPrompt(PromptConfig{Len: 2}, []int32{1}, 1)
	require.ErrorContains(t, err, "initial tokens")
	_, err = m.AttachPrompt(PromptConfig{Len: 2}, nil, 1)
	require.NoError(t, err)
	_, err = m.AttachPrompt(PromptConfig{Len: 2}, nil, 1)
	require.ErrorContains(t, err, "already")
	_, err = m.AttachClassHead(2, true, 1)
	require.ErrorContains(t, err, "frozen")
	_, err = m.Inspect(nil, "ab", 0)
	require.ErrorContains(t, err, "soft tokens")

	withPrefix, _ := tinyModel(t, 0)
	_, err = withPrefix.AttachPrefix(PrefixConfig{Len: 2}, nil, 1)
	require.NoError(t, err)
	_, err = withPrefix.AttachPrompt(PromptConfig{Len: 2}, nil, 1)
	require.ErrorContains(t, err, "prefix")

	tt := lookupTask() // its longest pair, "<Q> owl\n<A> hoot\n", is 16 input tokens
	tk := tokenizerFor(t, tt)
	long := smallModel(t, tk, 10, 1e-2)
	_, err = long.AttachPrompt(PromptConfig{Len: 12}, nil, 1)
	require.NoError(t, err)
	_, err = NewFineTuner(long, tk, tt, FineTuneOptions{})
	require.ErrorContains(t, err, "do not fit the context of 24: use at most 8 soft tokens")
	full, _ := tinyModel(t, 0) // a context of 6: the pairs alone overflow it
	_, err = full.AttachPrompt(PromptConfig{Len: 1}, nil, 1)
	require.NoError(t, err)
	_, err = NewFineTuner(full, tk, tt, FineTuneOptions{})
	require.ErrorContains(t, err, "fills the context of 6 by itself")
}

// TestNewMethodsLearn: LoRA+, PiSSA and prompt tuning each lower the held-out task loss of a
// small model within a short run (the learning test of the other methods is
// TestFineTuneMethodsLearn), and the soft tokens answer through GreedyBatch.
func TestNewMethodsLearn(t *testing.T) {
	if testing.Short() {
		t.Skip("trains three small models")
	}
	tt := lookupTask()
	tk := tokenizerFor(t, tt)
	cfg := LoRAConfig{Rank: 4, Alpha: 8, Targets: LoRATargets[:]}
	cases := []struct {
		name   string
		lr     float32
		attach func(m *Model) error
		drop   float64
	}{
		{"loraplus", 3e-3, func(m *Model) error { _, err := m.AttachLoRAPlus(cfg, 16, 1); return err }, 0.9},
		{"pissa", 3e-3, func(m *Model) error { _, err := m.AttachPiSSA(cfg); return err }, 0.9},
		// Four input vectors in front of a frozen random model can move its outputs only a
		// little (its attention barely reads them): the loss must still fall, by about half a
		// percent here (3.350 -> 3.333), where a broken gradient leaves it flat or rising.
		{"prompt", 3e-2, func(m *Model) error { _, err := m.AttachPrompt(PromptConfig{Len: 4}, nil, 1); return err }, 0.997},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := smallModel(t, tk, 40, c.lr)
			require.NoError(t, c.attach(m))
			ft, before, after := fineTuneWhole(t, m, tk, tt)
			require.Less(t, after, before*c.drop, "held-out task loss %.3f -> %.3f", before, after)
			answers, err := ft.Answers([]string{tt.ValPairs[0].Prompt})
			require.NoError(t, err)
			require.Len(t, answers, 1)
		})
	}
}

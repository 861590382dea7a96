package core

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/ops"
)

// policyGrads draws the fixed derivatives of the policy check's loss L = Σ g_t·logp_t +
// Σ h_t·value_t as the feedback losses give them: every third one zero (the prompt's tokens and
// the padding carry no gradient, PPO's clipped tokens none either), every fourth negative, the
// rest positive, of size about 1/n (the losses are means over tokens). Mostly one sign, as
// DPO's and a batch's advantages mostly are: with signs at random the gradients cancel down
// toward the float32 noise of the differences.
func policyGrads(seed uint64, n int) []float32 {
	r := rand.New(rand.NewPCG(seed, 13))
	g := make([]float32, n)
	for i := range g {
		switch {
		case i%3 == 1:
		case i%4 == 3:
			g[i] = -float32(0.5+r.Float64()) / float32(n)
		default:
			g[i] = float32(0.5+r.Float64()) / float32(n)
		}
	}
	return g
}

// TestPolicyGradients checks PolicyBackward against five-point differences of a loss that is
// linear in TokenLogProbs' outputs, L = Σ g_t·logp_t + Σ h_t·value_t (checkModelGradients):
// since ∂L/∂logp = g and ∂L/∂value = h exactly, the analytic side is PolicyBackward(g, h) and
// nothing else, so the check sees the log-probability's backward (the cross-entropy backward at
// weight -g), the value head's, and their sum into the body.
func TestPolicyGradients(t *testing.T) {
	cases := []struct {
		name    string
		dropout float32
		lora    bool
		value   bool
	}{
		{name: "full"},
		{name: "full-value-head-dropout", dropout: 0.2, value: true},
		{name: "lora-value-head", lora: true, value: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, _ := tinyModel(t, tc.dropout)
			if tc.lora {
				_, err := m.AttachLoRA(LoRAConfig{Rank: 2, Alpha: 4, Targets: LoRATargets[:]}, 5)
				require.NoError(t, err)
			}
			if tc.value {
				n, err := m.AttachValueHead(6)
				require.NoError(t, err)
				require.Equal(t, m.Cfg.Dim+1, n)
			}
			randomizeForGradients(m, 7)
			B, T := 2, 5 // fewer positions than the model's B×T: the rest must stay out
			b := gradBatch(m, 8, B, T)
			pass := Pass{Train: tc.dropout > 0, DropoutSeed: 99, Step: 4}
			g := policyGrads(1, B*T)
			var h []float32
			if tc.value {
				h = policyGrads(2, B*T)
			}
			lossAt := func() float64 {
				logp, values, err := m.TokenLogProbs(b, pass)
				require.NoError(t, err)
				require.Len(t, logp, B*T)
				var l float64
				for i, x := range logp {
					require.LessOrEqual(t, x, float32(0), "log p(target) at %d", i)
					l += float64(g[i]) * float64(x)
				}
				if tc.value {
					require.Len(t, values, B*T)
					for i, v := range values {
						l += float64(h[i]) * float64(v)
					}
				} else {
					require.Nil(t, values)
				}
				return l
			}
			backward := func() { m.PolicyBackward(b, pass, g, h) }
			checkModelGradients(t, m, lossAt, backward)
			if tc.lora {
				requireFrozenUntouched(t, m, lossAt, backward)
			}
		})
	}
}

// requireFrozenUntouched runs lossAt and backward from zero gradients and requires every frozen
// tensor's gradient to stay zero: the backward pass must not spend work on them, and a frozen
// tensor that got one would mean the loss reaches the base through a path LoRA does not own.
// LayerNorm's tensors are the exception: the LayerNorm backward op writes its dW and db
// whatever their state (harmless: the optimizer and ZeroGrads skip frozen tensors).
func requireFrozenUntouched(t *testing.T, m *Model, lossAt func() float64, backward func()) {
	t.Helper()
	for _, p := range m.Params {
		m.Dev.Zero(p.DW)
	}
	lossAt()
	backward()
	frozen := 0
	for _, p := range m.Params {
		if !p.Frozen || isLayerNorm(p.Name) {
			continue
		}
		frozen++
		for i, v := range ops.Floats(p.DW) {
			if v != 0 {
				t.Fatalf("%s is frozen but got gradient %g at %d", p.Name, v, i)
			}
		}
	}
	require.Greater(t, frozen, 0, "nothing frozen")
}

// isLayerNorm reports whether a tensor is a LayerNorm gain or bias ("ln1.weight", "ln_f.bias").
func isLayerNorm(name string) bool {
	return strings.HasPrefix(name, "ln_f.") || strings.Contains(name, ".ln1.") || strings.Contains(name, ".ln2.")
}

// TestPolicyLogProbsAreTheLoss ties TokenLogProbs to the language-model loss: with the batch's
// weights all 1, the model's mean loss is minus the mean of the log-probabilities.
func TestPolicyLogProbsAreTheLoss(t *testing.T) {
	m, _ := tinyModel(t, 0)
	randomizeForGradients(m, 3)
	B, T := 2, 4
	b := gradBatch(m, 4, B, T)
	logp, values, err := m.TokenLogProbs(b, Pass{})
	require.NoError(t, err)
	require.Nil(t, values)
	m.forward(m.train, b, Pass{})
	loss, w, err := m.loss(m.train, b) // TokenLogProbs left weights of 1
	require.NoError(t, err)
	require.Equal(t, float64(B*T), w)
	var s float64
	for _, x := range logp {
		s += float64(x)
	}
	require.InDelta(t, loss, -s/float64(B*T), 1e-6)
}

// TestPolicyValueHeadRefused: the value head needs the LM head's causal body.
func TestPolicyValueHeadRefused(t *testing.T) {
	m, _ := tinyModel(t, 0)
	_, err := m.AttachValueHead(1)
	require.NoError(t, err)
	_, err = m.AttachValueHead(1)
	require.Error(t, err)
	m, _ = tinyModel(t, 0)
	_, err = m.AttachScoreHead(true, 1)
	require.NoError(t, err)
	_, err = m.AttachValueHead(1)
	require.Error(t, err)
}

// TestPairGradients checks PairBackward against five-point differences of PairLoss's mean
// Bradley-Terry loss, for a reward model whose body trains with its score head and for one
// whose body is frozen, on two pairs of uneven lengths (the score is read at each row's last
// token, so the padding must get no gradient).
func TestPairGradients(t *testing.T) {
	for _, trainBody := range []bool{true, false} {
		name := "frozen-body"
		if trainBody {
			name = "trained-body"
		}
		t.Run(name, func(t *testing.T) {
			m, _ := tinyModel(t, 0)
			require.NoError(t, m.SetBatchShape(4, 0))
			n, err := m.AttachScoreHead(trainBody, 5)
			require.NoError(t, err)
			require.Equal(t, m.Cfg.Dim, n, "a score head has no bias")
			require.True(t, m.IsRewardModel())
			randomizeForGradients(m, 7)
			B, T := 4, 5
			b := gradBatch(m, 8, B, T)
			lengths := []int{5, 3, 2, 5}
			pass := Pass{}
			var scores []float32
			lossAt := func() float64 {
				l, s, err := m.PairLoss(b, lengths, pass)
				require.NoError(t, err)
				scores = s
				return l
			}
			backward := func() { m.PairBackward(b, pass) }
			// The final LayerNorm's bias adds the same w·β to both scores of a pair, which
			// Bradley-Terry ignores (it is also why the score head has no bias).
			checkModelGradients(t, m, lossAt, backward, "ln_f.bias")
			requireFrozenUntouched(t, m, lossAt, backward)

			// The loss is Bradley-Terry on the scores PairLoss returns, and Scores agrees.
			l := lossAt()
			var want float64
			for k := 0; k < B/2; k++ {
				want += math.Log1p(math.Exp(-float64(scores[2*k] - scores[2*k+1])))
			}
			require.InDelta(t, want/float64(B/2), l, 1e-5)
			got, err := m.Scores(b, lengths)
			require.NoError(t, err)
			require.InDeltaSlice(t, scores, got, 1e-6)
		})
	}
}

// TestPairLossRefusesOddRows: a batch of pairs has an even number of rows.
func TestPairLossRefusesOddRows(t *testing.T) {
	m, _ := tinyModel(t, 0)
	require.NoError(t, m.SetBatchShape(3, 0))
	_, err := m.AttachScoreHead(true, 5)
	require.NoError(t, err)
	b := gradBatch(m, 8, 3, 4)
	_, _, err = m.PairLoss(b, []int{4, 4, 4}, Pass{})
	require.Error(t, err)
}

// TestScoresReadTheLastToken: a row's score is read at its last real token, so it changes with
// that token and not with the padding after it (gradient checks cannot see which position is
// read: the loss and its backward would agree on a wrong one).
func TestScoresReadTheLastToken(t *testing.T) {
	m, _ := tinyModel(t, 0)
	_, err := m.AttachScoreHead(true, 5)
	require.NoError(t, err)
	randomizeForGradients(m, 7)
	B, T := 2, 5
	lengths := []int{3, 5}
	in := []int32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	scores := func(in []int32) []float32 {
		b := NewBatch(m.Dev, m.Cfg.Batch, m.Cfg.Context)
		b.Set(m.Dev, B, T, in, make([]int32, B*T), nil)
		s, err := m.Scores(b, lengths)
		require.NoError(t, err)
		return s
	}
	base := scores(in)
	padded := slices.Clone(in)
	padded[3], padded[4] = 11, 12 // row 0's padding
	require.Equal(t, base, scores(padded))
	last := slices.Clone(in)
	last[2] = 13 // row 0's last real token
	got := scores(last)
	require.NotEqual(t, base[0], got[0])
	require.Equal(t, base[1], got[1])
}

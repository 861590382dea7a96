package feedback

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// The feedback losses are float32 functions on the host that return their own derivatives with
// respect to each token's log-probability (and value, for PPO). Each is checked against central
// differences of the loss it returns, at inputs chosen away from every kink (the clip's bounds,
// the value loss's max): a loss of order 1 in float32 carries rounding of about 1e-7, so at
// h = 5e-3 the quotient's noise is about 1e-5 and its O(h²) truncation (the exponentials') a few
// 1e-6, far under the tolerance, while a wrong sign, a dropped factor or a gradient taken through
// a clipped branch is off by the size of the derivative itself (1e-2 and more here).
const (
	lossH      = 5e-3
	lossAbsTol = 1e-4
	lossRelTol = 1e-2
)

// checkLossGradient compares analytic[i][t] with the central difference of loss in x[i][t], for
// every entry, restoring x.
func checkLossGradient(t *testing.T, what string, x, analytic [][]float32, loss func() float64) {
	t.Helper()
	for i := range x {
		for k := range x[i] {
			old := x[i][k]
			x[i][k] = old + lossH
			fp, xp := loss(), x[i][k]
			x[i][k] = old - lossH
			fm, xm := loss(), x[i][k]
			x[i][k] = old
			num := (fp - fm) / float64(xp-xm) // the steps actually stored
			got := float64(analytic[i][k])
			if d := math.Abs(got - num); d > lossAbsTol+lossRelTol*math.Abs(num) {
				t.Errorf("%s[%d][%d]: analytic %.6g, numeric %.6g (diff %.2g)", what, i, k, got, num, d)
			}
		}
	}
}

// offsets returns rows of logp = old + d for the given rows of old and d.
func offsets(old, d [][]float32) [][]float32 {
	out := zerosLike(old)
	for i := range old {
		for k := range old[i] {
			out[i][k] = old[i][k] + d[i][k]
		}
	}
	return out
}

func countZeros(v [][]float32) int {
	n := 0
	for _, row := range v {
		for _, x := range row {
			if x == 0 {
				n++
			}
		}
	}
	return n
}

func TestDPOLossGradient(t *testing.T) {
	// Two pairs, answers of uneven lengths; the first pair's margin is negative, the second's
	// positive, so σ(-z) is on both sides of ½.
	logp := [][]float32{
		{-1.2, -0.4, -2.0}, {-0.3, -0.9},
		{-0.7}, {-1.5, -2.2, -0.1, -0.8},
	}
	refs := [][2]float32{{-3.1, -1.6}, {-1.0, -3.9}}
	const beta = 0.3
	loss, dlogp := dpoLoss(logp, refs, beta)
	require.Greater(t, loss, 0.0)
	checkLossGradient(t, "dlogp", logp, dlogp, func() float64 {
		l, _ := dpoLoss(logp, refs, beta)
		return l
	})
	// Every token of an answer carries the same derivative, the chosen's the rejected's negated.
	for k := 0; k < 2; k++ {
		for _, g := range dlogp[2*k] {
			require.Equal(t, dlogp[2*k][0], g)
			require.Equal(t, -dlogp[2*k][0], dlogp[2*k+1][0])
		}
		require.Less(t, dlogp[2*k][0], float32(0), "raising the chosen answer lowers the loss")
	}
}

// TestDPOLossOnePair: one pair by hand. Chosen tokens -1 and -2 (sum -3) against a reference
// -2.5, rejected -0.5 against -1: z = β((-3+2.5) - (-0.5+1)) = 0.1·(-1) = -0.1, so the loss is
// log(1+e^0.1) and the chosen tokens' derivative -β·σ(0.1).
func TestDPOLossOnePair(t *testing.T) {
	loss, dlogp := dpoLoss([][]float32{{-1, -2}, {-0.5}}, [][2]float32{{-2.5, -1}}, 0.1)
	require.InDelta(t, math.Log1p(math.Exp(0.1)), loss, 1e-6)
	g := 0.1 / (1 + math.Exp(-0.1))
	require.InDeltaSlice(t, []float32{float32(-g), float32(-g)}, dlogp[0], 1e-7)
	require.InDeltaSlice(t, []float32{float32(g)}, dlogp[1], 1e-7)
}

// ppoCase is seven tokens in two rollouts: each token's advantage, log-ratio to the old policy,
// and value, old value and return, chosen so that every branch of the clipped objective is taken
// away from its kink (ε = 0.2: the ratio's bounds are log-ratios -0.223 and 0.182).
func ppoCase() (logp, values, old, oldV, adv, ret [][]float32) {
	old = [][]float32{{-1.1, -0.6, -2.3, -0.9}, {-1.7, -0.2, -3.0}}
	d := [][]float32{
		{0.4, -0.5, -0.5, 0.4}, // ratios 1.49, 0.61, 0.61, 1.49: outside the clip
		{0.05, -0.1, 0},        // inside
	}
	adv = [][]float32{
		{1.0, 0.8, -0.7, -1.2}, // clip active (A>0, ρ>1+ε), inactive (A>0, ρ<1-ε), active (A<0, ρ<1-ε), inactive (A<0, ρ>1+ε)
		{0.5, -0.3, 1.5},
	}
	values = [][]float32{{0.5, 1.0, 1.0, -0.4}, {-0.4, 0.3, 0}}
	oldV = [][]float32{{0.45, 0.5, 0.5, 0.1}, {0.1, 0.2, 0}}
	ret = [][]float32{
		{1.0, 0.0, 1.5, -1.0}, // value inside the clip; outside, unclipped larger; outside, clipped larger (no gradient) twice
		{0.5, -0.2, 0.3},      // outside, unclipped larger; inside; inside
	}
	return offsets(old, d), values, old, oldV, adv, ret
}

func TestPPOLossGradient(t *testing.T) {
	meth := Method{ClipRange: 0.2, VFCoef: 0.25}
	logp, values, old, oldV, adv, ret := ppoCase()
	loss := func() float64 {
		l, _, _ := ppoLoss(logp, values, old, oldV, adv, ret, meth)
		return l
	}
	_, dlogp, dvalues := ppoLoss(logp, values, old, oldV, adv, ret, meth)
	// The case takes the branches it means to: the clip holds two ratios, two values.
	require.Equal(t, 2, countZeros(dlogp), "clipped ratios: %v", dlogp)
	require.Equal(t, 2, countZeros(dvalues), "clipped values: %v", dvalues)
	checkLossGradient(t, "dlogp", logp, dlogp, loss)
	checkLossGradient(t, "dvalues", values, dvalues, loss)
}

// TestPPOLossOneToken: one token by hand, both clips holding. A = 1 and ρ = e^0.4 > 1.2: the
// policy term is -A·1.2. V = 1, V_old = 0.5, R = 1.5: the clipped value 0.7 is further from R
// (0.8² against 0.5²), so the value term is vf_coef·½·0.64.
func TestPPOLossOneToken(t *testing.T) {
	meth := Method{ClipRange: 0.2, VFCoef: 0.25}
	one := func(x float32) [][]float32 { return [][]float32{{x}} }
	loss, dlogp, dvalues := ppoLoss(one(-1+0.4), one(1), one(-1), one(0.5), one(1), one(1.5), meth)
	require.InDelta(t, -1.2+0.25*0.5*0.64, loss, 1e-6)
	require.Zero(t, dlogp[0][0])
	require.Zero(t, dvalues[0][0])
	// Unclipped: A = -1, ρ = e^0.4 (the larger of -A·ρ and -A·1.2), V = 0.6 inside the clip.
	loss, dlogp, dvalues = ppoLoss(one(-1+0.4), one(0.6), one(-1), one(0.5), one(-1), one(1.5), meth)
	rho := math.Exp(0.4)
	require.InDelta(t, rho+0.25*0.5*0.81, loss, 1e-5)
	require.InDelta(t, rho, dlogp[0][0], 1e-5)
	require.InDelta(t, 0.25*(0.6-1.5), dvalues[0][0], 1e-6)
}

func TestGRPOLossGradient(t *testing.T) {
	meth := Method{ClipRange: 0.2, Beta: 0.3}
	old := [][]float32{{-1.1, -0.6, -2.3, -0.9}, {-1.7, -0.2}, {-3.0, -0.5, -1.3}}
	d := [][]float32{
		{0.4, -0.5, 0.05, 0.3}, // A > 0: clip holds 1.49 and 1.35; 0.61 is unclipped
		{-0.5, 0.4},            // A < 0: clip holds 0.61; 1.49 is unclipped
		{0, -0.1, 0.1},         // inside
	}
	logp := offsets(old, d)
	ref := [][]float32{{-1.5, -0.2, -2.0, -1.0}, {-1.0, -0.9}, {-2.6, -0.5, -1.9}}
	adv := []float32{0.9, -1.1, 0.4}
	loss := func() float64 {
		l, _ := grpoLoss(logp, old, ref, adv, meth)
		return l
	}
	_, dlogp := grpoLoss(logp, old, ref, adv, meth)
	checkLossGradient(t, "dlogp", logp, dlogp, loss)

	// Where the clip holds, only the KL term's derivative is left: β(1 - e^{ref-logπ})/(n·B).
	for _, at := range [][2]int{{0, 0}, {0, 3}, {1, 0}} {
		i, k := at[0], at[1]
		n := float64(len(logp[i]))
		want := float64(meth.Beta) * (1 - math.Exp(float64(ref[i][k]-logp[i][k]))) / (n * 3)
		require.InDelta(t, want, dlogp[i][k], 1e-6, "token %v", at)
	}
}

// TestGRPOLossOneStep: with old = logπ (GRPO's one step per batch) every ratio is 1 and the
// loss is the mean over answers of mean_t(-A + β·KL_t).
func TestGRPOLossOneStep(t *testing.T) {
	meth := Method{ClipRange: 0.2, Beta: 0.1}
	logp := [][]float32{{-1, -2}, {-0.5}}
	ref := [][]float32{{-1.5, -2}, {-0.2}}
	kl := func(d float64) float64 { return math.Exp(d) - d - 1 }
	want := ((-0.5+0.1*kl(-0.5))+(-0.5+0.1*kl(0)))/2 + (0.7 + 0.1*kl(0.3))
	want /= 2
	loss, _ := grpoLoss(logp, logp, ref, []float32{0.5, -0.7}, meth)
	require.InDelta(t, want, loss, 1e-6)
}

// TestGroupAdvantages: rewards {1,0,0,1} have mean ½ and torch's unbiased deviation
// √(4·¼/3) = 1/√3, so the scaled advantages are ±½/(1/√3 + 1e-4) and the unscaled ones ±½;
// a group of equal rewards gets 0 either way.
func TestGroupAdvantages(t *testing.T) {
	rewards := []float32{1, 0, 0, 1, 3, 3, 3, 3}
	a := float32(0.5 / (1/math.Sqrt(3) + 1e-4))
	require.InDeltaSlice(t, []float32{a, -a, -a, a, 0, 0, 0, 0}, groupAdvantages(rewards, 4, true), 1e-6)
	require.InDeltaSlice(t, []float32{0.5, -0.5, -0.5, 0.5, 0, 0, 0, 0}, groupAdvantages(rewards, 4, false), 1e-6)
}

// TestPPOAdvantages checks GAE through the returns (R = A + V, before whitening) and the
// whitening through the advantages.
func TestPPOAdvantages(t *testing.T) {
	t.Run("score-only", func(t *testing.T) {
		// γ = λ = 1, no KL and zero values: every token's advantage, and return, is the score.
		old := [][]float32{{-1, -2, -0.5}, {-0.3, -1}}
		ref := [][]float32{{-2, -1, -0.1}, {-0.9, -4}}
		values := zerosLike(old)
		meth := Method{Gamma: 1, Lam: 1}
		adv, ret := ppoAdvantages(old, ref, values, []float32{2, -1}, meth)
		require.Equal(t, [][]float32{{2, 2, 2}, {-1, -1}}, ret)
		requireWhitened(t, adv, ret)
	})
	t.Run("gae", func(t *testing.T) {
		// By hand, γ = 0.9, λ = 0.8, kl_coef 0.1, one answer of two tokens with score 1:
		// r = (-0.1·(-1+1.5), -0.1·(-2+1) + 1) = (-0.05, 1.1);
		// δ₁ = 1.1 - 0.5 = 0.6 = A₁, R₁ = 1.1; δ₀ = -0.05 + 0.9·0.5 - 0.2 = 0.2,
		// A₀ = 0.2 + 0.72·0.6 = 0.632, R₀ = 0.832. The second answer (score 0, values 0, no
		// KL) makes the whitening's mean and deviation non-trivial.
		old := [][]float32{{-1, -2}, {-1}}
		ref := [][]float32{{-1.5, -1}, {-1}}
		values := [][]float32{{0.2, 0.5}, {0}}
		meth := Method{Gamma: 0.9, Lam: 0.8, KLCoef: 0.1}
		adv, ret := ppoAdvantages(old, ref, values, []float32{1, 0}, meth)
		require.InDeltaSlice(t, []float32{0.832, 1.1}, ret[0], 1e-6)
		require.InDeltaSlice(t, []float32{0}, ret[1], 1e-6)
		unwhite := [][]float32{{0.632, 0.6}, {0}}
		requireWhitened(t, adv, unwhite)
	})
}

// requireWhitened requires adv to be raw shifted to mean 0 and scaled by one positive factor
// (the deviation's convention is left to the code: whitening divides by it everywhere alike),
// or all zero when raw is constant.
func requireWhitened(t *testing.T, adv, raw [][]float32) {
	t.Helper()
	var all, rawAll []float64
	for i := range adv {
		for k := range adv[i] {
			all, rawAll = append(all, float64(adv[i][k])), append(rawAll, float64(raw[i][k]))
		}
	}
	var mean, rawMean float64
	for i := range all {
		mean, rawMean = mean+all[i]/float64(len(all)), rawMean+rawAll[i]/float64(len(all))
	}
	require.InDelta(t, 0, mean, 1e-5)
	scale := 0.0
	for i := range all {
		if d := rawAll[i] - rawMean; math.Abs(d) > 1e-3 {
			scale = all[i] / d
			break
		}
	}
	if scale == 0 {
		for _, a := range all {
			require.InDelta(t, 0, a, 1e-2, "constant advantages whiten to about 0")
		}
		return
	}
	require.Greater(t, scale, 0.0)
	for i := range all {
		require.InDelta(t, scale*(rawAll[i]-rawMean), all[i], 1e-4, fmt.Sprintf("advantage %d", i))
	}
}

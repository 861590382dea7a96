package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// Forward checks of the CPU ops: small cases worked by hand, and float64 re-derivations of the
// documented formulas on random inputs (independent of the float32 code paths under test).

// requireClose fails unless |got[i]-want[i]| <= atol + rtol·|want[i]| for every i, naming the
// first mismatches.
func requireClose(t *testing.T, what string, got []float32, want []float64, atol, rtol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	var bad []string
	for i, w := range want {
		g := float64(got[i])
		if !(math.Abs(g-w) <= atol+rtol*math.Abs(w)) { // written so that NaN fails
			bad = append(bad, fmt.Sprintf("[%d] got %.8g want %.8g", i, g, w))
			if len(bad) == 5 {
				break
			}
		}
	}
	if len(bad) > 0 {
		t.Fatalf("%s mismatches: %s", what, strings.Join(bad, "; "))
	}
}

func f64s(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

func TestOpAddBias(t *testing.T) {
	d := NewCPU()
	y := opBuf(d, []float32{1, 2, 3, 4, 5, 6})
	d.AddBias(y, opBuf(d, []float32{10, 20, 30}), 2, 3)
	requireClose(t, "y", Floats(y), []float64{11, 22, 33, 14, 25, 36}, 0, 0)

	dbias := opBuf(d, []float32{100, 200})
	d.AddBiasBackward(dbias, opBuf(d, []float32{1, 2, 3, 4, 5, 6}), 3, 2)
	requireClose(t, "dbias", Floats(dbias), []float64{100 + 1 + 3 + 5, 200 + 2 + 4 + 6}, 0, 0)
}

func TestOpEmbed(t *testing.T) {
	d := NewCPU()
	// V=3, C=2, B=2, T=2; wpe has 3 rows (more than T).
	wte := opBuf(d, []float32{1, 2, 3, 4, 5, 6})
	wpe := opBuf(d, []float32{0.5, 0.25, 10, 20, 99, 99})
	ids := opInts(d, []int32{2, 0, 2, 2})
	out := d.Alloc(8)
	d.Embed(out, ids, wte, wpe, 2, 2, 2)
	requireClose(t, "out", Floats(out), []float64{5.5, 6.25, 11, 22, 5.5, 6.25, 15, 26}, 0, 0)

	dwte, dwpe := d.Alloc(6), d.Alloc(6)
	d.EmbedBackward(dwte, dwpe, opBuf(d, []float32{1, 2, 3, 4, 5, 6, 7, 8}), ids, 2, 2, 2)
	// Token 2 appears at (0,0), (1,0), (1,1); token 0 at (0,1); token 1 never.
	requireClose(t, "dwte", Floats(dwte), []float64{3, 4, 0, 0, 1 + 5 + 7, 2 + 6 + 8}, 0, 0)
	requireClose(t, "dwpe", Floats(dwpe), []float64{1 + 5, 2 + 6, 3 + 7, 4 + 8, 0, 0}, 0, 0)

	t.Run("bad id panics", func(t *testing.T) {
		defer func() {
			if recover() == nil {
				t.Fatal("Embed accepted token id 3 with V=3")
			}
		}()
		d.Embed(out, opInts(d, []int32{0, 3, 1, 1}), wte, wpe, 2, 2, 2)
	})
}

// layerNorm64 is the float64 definition: (x-μ)/sqrt(σ²+1e-5)·w + b per row.
func layerNorm64(x, w, b []float32, N, C int) (out, mean, rstd []float64) {
	out, mean, rstd = make([]float64, N*C), make([]float64, N), make([]float64, N)
	for n := 0; n < N; n++ {
		var m, v float64
		for c := 0; c < C; c++ {
			m += float64(x[n*C+c])
		}
		m /= float64(C)
		for c := 0; c < C; c++ {
			dv := float64(x[n*C+c]) - m
			v += dv * dv
		}
		v /= float64(C)
		s := 1 / math.Sqrt(v+1e-5)
		for c := 0; c < C; c++ {
			out[n*C+c] = (float64(x[n*C+c])-m)*s*float64(w[c]) + float64(b[c])
		}
		mean[n], rstd[n] = m, s
	}
	return out, mean, rstd
}

func TestOpLayerNorm(t *testing.T) {
	d := NewCPU()
	t.Run("hand case", func(t *testing.T) {
		// x = 1,2,3: μ = 2, σ² = 2/3, so out = (-1,0,1)/sqrt(2/3+1e-5), scaled by w and shifted by b.
		out, mean, rstd := d.Alloc(3), d.Alloc(1), d.Alloc(1)
		d.LayerNorm(out, mean, rstd, opBuf(d, []float32{1, 2, 3}), opBuf(d, []float32{1, 2, 1}),
			opBuf(d, []float32{0, 0, 5}), 1, 3)
		s := 1 / math.Sqrt(2.0/3+1e-5)
		requireClose(t, "out", Floats(out), []float64{-s, 0, s + 5}, 1e-6, 1e-6)
		requireClose(t, "mean", Floats(mean), []float64{2}, 0, 0)
		requireClose(t, "rstd", Floats(rstd), []float64{s}, 0, 1e-6)
	})
	t.Run("constant row", func(t *testing.T) {
		// σ² = 0: rstd = 1/sqrt(eps), and the output is exactly b.
		out, mean, rstd := d.Alloc(4), d.Alloc(1), d.Alloc(1)
		d.LayerNorm(out, mean, rstd, opBuf(d, []float32{7, 7, 7, 7}), opBuf(d, []float32{1, 2, 3, 4}),
			opBuf(d, []float32{0.5, -1, 0, 2}), 1, 4)
		requireClose(t, "out", Floats(out), []float64{0.5, -1, 0, 2}, 0, 0)
		requireClose(t, "rstd", Floats(rstd), []float64{1 / math.Sqrt(1e-5)}, 0, 1e-6)
	})
	for _, sz := range [][2]int{{1, 1}, {3, 5}, {7, 64}, {5, 257}} {
		N, C := sz[0], sz[1]
		t.Run(fmt.Sprintf("float64 N=%d C=%d", N, C), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(11, uint64(N*1000+C)))
			xs, ws, bs := opRand(rng, N*C, -3, 5), opRand(rng, C, 0.5, 1.5), opRand(rng, C, -1, 1)
			out, mean, rstd := d.Alloc(N*C), d.Alloc(N), d.Alloc(N)
			d.LayerNorm(out, mean, rstd, opBuf(d, xs), opBuf(d, ws), opBuf(d, bs), N, C)
			wo, wm, wr := layerNorm64(xs, ws, bs, N, C)
			requireClose(t, "out", Floats(out), wo, 1e-5, 1e-5)
			requireClose(t, "mean", Floats(mean), wm, 1e-6, 1e-6)
			requireClose(t, "rstd", Floats(rstd), wr, 0, 1e-5)
		})
	}
}

func gelu64(x float64) float64 {
	return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
}

func TestOpGELU(t *testing.T) {
	d := NewCPU()
	xs := []float32{0, 1, -1, 0.5, -3, 3, 10, -10, 1e-6, -20}
	rng := rand.New(rand.NewPCG(12, 0))
	xs = append(xs, opRand(rng, 101, -6, 6)...)
	out := d.Alloc(len(xs))
	d.GELU(out, opBuf(d, xs), len(xs))
	want := make([]float64, len(xs))
	for i, x := range xs {
		want[i] = gelu64(float64(x))
	}
	requireClose(t, "gelu", Floats(out), want, 1e-7, 1e-6)
	// Hand values: GELU(0) = 0, GELU(10) = 10 and GELU(-10) = 0 in float32 (tanh saturates).
	if o := Floats(out); o[0] != 0 || o[6] != 10 || o[7] != 0 {
		t.Fatalf("GELU(0, 10, -10) = %g, %g, %g", o[0], o[6], o[7])
	}

	// The derivative against the analytic float64 derivative of the same formula.
	dx := opBuf(d, make([]float32, len(xs)))
	ones := make([]float32, len(xs))
	for i := range ones {
		ones[i] = 1
	}
	d.GELUBackward(dx, opBuf(d, xs), opBuf(d, ones), len(xs))
	dwant := make([]float64, len(xs))
	k := math.Sqrt(2 / math.Pi)
	for i, xf := range xs {
		x := float64(xf)
		th := math.Tanh(k * (x + 0.044715*x*x*x))
		dwant[i] = 0.5*(1+th) + 0.5*x*(1-th*th)*k*(1+3*0.044715*x*x)
	}
	requireClose(t, "gelu'", Floats(dx), dwant, 1e-6, 1e-5)
}

func TestOpHeads(t *testing.T) {
	d := NewCPU()
	for _, sz := range [][4]int{{1, 1, 1, 1}, {2, 3, 5, 7}, {3, 1, 2, 1}} {
		B, T, H, D := sz[0], sz[1], sz[2], sz[3]
		t.Run(fmt.Sprintf("B=%d T=%d H=%d D=%d", B, T, H, D), func(t *testing.T) {
			n := B * T * H * D
			// Each input element holds its own index, so the output shows where it came from.
			xs := make([]float32, n)
			for i := range xs {
				xs[i] = float32(i)
			}
			split, merged := d.Alloc(n), d.Alloc(n)
			d.SplitHeads(split, opBuf(d, xs), B, T, H, D)
			for b := 0; b < B; b++ {
				for h := 0; h < H; h++ {
					for tt := 0; tt < T; tt++ {
						for dd := 0; dd < D; dd++ {
							got := Floats(split)[((b*H+h)*T+tt)*D+dd]
							want := float32(b*T*H*D + tt*H*D + h*D + dd)
							if got != want {
								t.Fatalf("split[b=%d,h=%d,t=%d,d=%d] = %g, want in[%g]", b, h, tt, dd, got, want)
							}
						}
					}
				}
			}
			d.MergeHeads(merged, split, B, T, H, D)
			requireClose(t, "merge(split(x))", Floats(merged), f64s(xs), 0, 0)
		})
	}
}

// softmax64 is the float64 definition of one masked row: visible keys 0..vis-1.
func softmax64(s []float32, scale float64, vis int) []float64 {
	p := make([]float64, len(s))
	if vis == 0 {
		return p
	}
	m := math.Inf(-1)
	for j := 0; j < vis; j++ {
		m = math.Max(m, scale*float64(s[j]))
	}
	var sum float64
	for j := 0; j < vis; j++ {
		p[j] = math.Exp(scale*float64(s[j]) - m)
		sum += p[j]
	}
	for j := 0; j < vis; j++ {
		p[j] /= sum
	}
	return p
}

func TestOpAttnSoftmax(t *testing.T) {
	d := NewCPU()
	t.Run("equal scores causal with prefix", func(t *testing.T) {
		// Tq=2, Tk=3: one prefix key. Query 0 sees keys 0,1 and query 1 sees all three.
		p := d.Alloc(6)
		d.AttnSoftmax(p, opBuf(d, []float32{4, 4, 4, 4, 4, 4}), 1, 2, 3, 0.5, Causal)
		requireClose(t, "p", Floats(p), []float64{0.5, 0.5, 0, 1.0 / 3, 1.0 / 3, 1.0 / 3}, 1e-7, 0)
	})
	t.Run("hand case", func(t *testing.T) {
		// scores 0 and ln 3 with scale 1: probabilities 1/4 and 3/4.
		p := d.Alloc(2)
		d.AttnSoftmax(p, opBuf(d, []float32{0, float32(math.Log(3))}), 1, 1, 2, 1, Bidirectional)
		requireClose(t, "p", Floats(p), []float64{0.25, 0.75}, 1e-7, 0)
	})
	cases := []struct {
		BH, Tq, Tk int
		mode       MaskMode
		scale      float32
		// rtol grows with |scale·s|: rounding scale·s to float32 moves the logit by up to
		// |scale·s|·2^-24, and p by that much relatively.
		rtol float64
	}{
		{1, 1, 1, Causal, 1, 1e-6},
		{3, 7, 7, Causal, 0.35, 1e-6},
		{2, 5, 9, Causal, 1, 1e-6},
		{1, 5, 3, Causal, 1, 1e-6},
		{2, 5, 7, Bidirectional, 0.125, 1e-6},
		{1, 3, 64, Bidirectional, 30, 2e-5}, // scaled scores up to 120: the max subtraction must hold
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("float64 BH=%d Tq=%d Tk=%d %v", c.BH, c.Tq, c.Tk, c.mode), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(13, uint64(c.BH*100+c.Tq*10+c.Tk)))
			n := c.BH * c.Tq * c.Tk
			ss := opRand(rng, n, -4, 4)
			p := opBuf(d, opRand(rng, n, 5, 6)) // stale values must be overwritten
			d.AttnSoftmax(p, opBuf(d, ss), c.BH, c.Tq, c.Tk, c.scale, c.mode)
			want := make([]float64, 0, n)
			for r := 0; r < c.BH*c.Tq; r++ {
				tq := r % c.Tq
				vis := c.Tk
				if c.mode == Causal {
					vis = max(0, min(c.Tk, tq+c.Tk-c.Tq+1))
				}
				want = append(want, softmax64(ss[r*c.Tk:(r+1)*c.Tk], float64(c.scale), vis)...)
			}
			requireClose(t, "p", Floats(p), want, 1e-7, c.rtol)
			for i, w := range want {
				if w == 0 && Floats(p)[i] != 0 {
					t.Fatalf("masked p[%d] = %g, want exactly 0", i, Floats(p)[i])
				}
			}
		})
	}
}

func TestOpDropout(t *testing.T) {
	d := NewCPU()
	const n = 10007
	rng := rand.New(rand.NewPCG(14, 0))
	xs := opRand(rng, n, 0.5, 1.5) // no zeros, so a zero output means dropped
	x := opBuf(d, xs)
	key := DropoutKey{Seed: 0x1234_5678_9abc, Step: 7, Site: 3}
	run := func(rate float32, k DropoutKey) []float32 {
		out := d.Alloc(n)
		d.Dropout(out, x, n, rate, k)
		return Floats(out)
	}
	dropped := func(o []float32) (c int) {
		for _, v := range o {
			if v == 0 {
				c++
			}
		}
		return c
	}

	t.Run("rate 0 copies exactly", func(t *testing.T) {
		requireClose(t, "out", run(0, key), f64s(xs), 0, 0)
	})
	t.Run("rate 1 drops all", func(t *testing.T) {
		if c := dropped(run(1, key)); c != n {
			t.Fatalf("%d of %d dropped", c, n)
		}
	})
	for _, rate := range []float32{0.1, 0.5} {
		t.Run(fmt.Sprintf("rate %g", rate), func(t *testing.T) {
			o := run(rate, key)
			// Binomial(n, rate): 5 standard deviations either side.
			mean := float64(n) * float64(rate)
			sd := math.Sqrt(mean * (1 - float64(rate)))
			if c := float64(dropped(o)); math.Abs(c-mean) > 5*sd {
				t.Fatalf("%g of %d dropped, want %g ± %g", c, n, mean, 5*sd)
			}
			for i, v := range o {
				if want := xs[i] / (1 - rate); v != 0 && v != want {
					t.Fatalf("kept out[%d] = %g, want x/(1-rate) = %g", i, v, want)
				}
			}
		})
	}
	t.Run("same key same mask, other step or site another", func(t *testing.T) {
		a, b := run(0.5, key), run(0.5, key)
		requireClose(t, "repeat", a, f64s(b), 0, 0)
		for _, other := range []DropoutKey{
			{key.Seed, key.Step + 1, key.Site},
			{key.Seed, key.Step, key.Site + 1},
			{key.Seed + 1<<32, key.Step, key.Site}, // the seed's high half counts too
		} {
			o := run(0.5, other)
			same := 0
			for i := range o {
				if (o[i] == 0) == (a[i] == 0) {
					same++
				}
			}
			// Independent masks agree on about half the elements.
			if math.Abs(float64(same)-n/2) > 5*math.Sqrt(n/4) {
				t.Fatalf("key %+v: masks agree on %d of %d elements", other, same, n)
			}
		}
	})
	t.Run("backward uses the forward mask", func(t *testing.T) {
		o := run(0.3, key)
		dx := opBuf(d, make([]float32, n))
		ones := make([]float32, n)
		for i := range ones {
			ones[i] = 1
		}
		d.DropoutBackward(dx, opBuf(d, ones), n, 0.3, key)
		for i, g := range Floats(dx) {
			if (g == 0) != (o[i] == 0) {
				t.Fatalf("element %d: forward %g, backward %g", i, o[i], g)
			}
		}
	})
}

func TestOpCrossEntropy(t *testing.T) {
	d := NewCPU()
	t.Run("uniform logits give log V", func(t *testing.T) {
		for _, V := range []int{1, 2, 3, 65, 50257} {
			losses, probs := d.Alloc(1), d.Alloc(V)
			d.CrossEntropy(losses, probs, opBuf(d, make([]float32, V)), opInts(d, []int32{int32(V - 1)}),
				opBuf(d, []float32{1}), 1, V)
			requireClose(t, fmt.Sprintf("loss V=%d", V), Floats(losses), []float64{math.Log(float64(V))}, 1e-7, 1e-6)
			requireClose(t, "probs[0]", Floats(probs)[:1], []float64{1 / float64(V)}, 0, 1e-6)
		}
	})
	t.Run("far-apart logits stay finite", func(t *testing.T) {
		// p(target) = e^-200 underflows float32; the loss must still be about 200.
		losses, probs := d.Alloc(1), d.Alloc(2)
		d.CrossEntropy(losses, probs, opBuf(d, []float32{0, 200}), opInts(d, []int32{0}), opBuf(d, []float32{0.5}), 1, 2)
		requireClose(t, "loss", Floats(losses), []float64{0.5 * 200}, 0, 1e-6)
		requireClose(t, "probs", Floats(probs), []float64{0, 1}, 1e-30, 0)
	})
	t.Run("float64", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(15, 0))
		N, V := 7, 11
		ls, ws := opRand(rng, N*V, -5, 5), opRand(rng, N, 0, 2)
		ws[3] = 0
		tg := make([]int32, N)
		for i := range tg {
			tg[i] = int32(rng.IntN(V))
		}
		losses, probs := d.Alloc(N), d.Alloc(N*V)
		d.CrossEntropy(losses, probs, opBuf(d, ls), opInts(d, tg), opBuf(d, ws), N, V)
		wantL, wantP := make([]float64, N), make([]float64, 0, N*V)
		for i := 0; i < N; i++ {
			p := softmax64(ls[i*V:(i+1)*V], 1, V)
			wantP = append(wantP, p...)
			wantL[i] = float64(ws[i]) * -math.Log(p[tg[i]])
		}
		requireClose(t, "losses", Floats(losses), wantL, 1e-6, 1e-5)
		requireClose(t, "probs", Floats(probs), wantP, 1e-7, 1e-5)
	})
	t.Run("backward hand case", func(t *testing.T) {
		// dlogits += scale·w·(p - onehot): row 0 (w=2, target 1), row 1 (w=0, no gradient).
		dl := opBuf(d, []float32{1, 1, 1, 1, 1, 1})
		probs := opBuf(d, []float32{0.25, 0.5, 0.25, 0.1, 0.2, 0.7})
		d.CrossEntropyBackward(dl, probs, opInts(d, []int32{1, 2}), opBuf(d, []float32{2, 0}), 2, 3, 0.5)
		requireClose(t, "dlogits", Floats(dl), []float64{1.25, 0.5, 1.25, 1, 1, 1}, 1e-7, 0)
	})
}

func TestOpElementwise(t *testing.T) {
	d := NewCPU()
	t.Run("Add in place", func(t *testing.T) {
		a, b := opBuf(d, []float32{1, 2, 3}), opBuf(d, []float32{0.5, -2, 10})
		d.Add(a, a, b, 3)
		requireClose(t, "a", Floats(a), []float64{1.5, 0, 13}, 0, 0)
		out := d.Alloc(3)
		d.Add(out, b, b, 2) // n < len: the tail stays untouched
		requireClose(t, "out", Floats(out), []float64{1, -4, 0}, 0, 0)
	})
	t.Run("Scale", func(t *testing.T) {
		x := opBuf(d, []float32{1, -2, 3, 4})
		d.Scale(x, 3, 0.5)
		requireClose(t, "x", Floats(x), []float64{0.5, -1, 1.5, 4}, 0, 0)
	})
	t.Run("SumSquares", func(t *testing.T) {
		out := opBuf(d, []float32{9, 9, 9})
		d.SumSquares(out, 1, opBuf(d, []float32{1, 2, -3}), 3)
		requireClose(t, "out", Floats(out), []float64{9, 14, 9}, 0, 0)

		// A long vector of mixed magnitudes against a float64 sum.
		rng := rand.New(rand.NewPCG(16, 0))
		xs := opRand(rng, 100003, -1, 1)
		xs[7] = 1e3
		var want float64
		for _, v := range xs {
			want += float64(v) * float64(v)
		}
		d.SumSquares(out, 2, opBuf(d, xs), len(xs))
		requireClose(t, "long", Floats(out)[2:], []float64{want}, 0, 1e-6)
	})
}

func TestOpAdamW(t *testing.T) {
	d := NewCPU()
	rng := rand.New(rand.NewPCG(17, 0))
	const n = 13
	ps, gs := opRand(rng, n, -1, 1), opRand(rng, n, -1, 1)
	gs[0] = 0
	a := AdamWArgs{LR: 1e-2, Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, WeightDecay: 0.1, GradScale: 0.5}
	p, g, m, v := opBuf(d, ps), opBuf(d, gs), d.Alloc(n), d.Alloc(n)
	// float64 state of the same three steps.
	p64, m64, v64 := f64s(ps), make([]float64, n), make([]float64, n)
	for step := 1; step <= 3; step++ {
		bc1 := 1 - math.Pow(float64(a.Beta1), float64(step))
		bc2 := 1 - math.Pow(float64(a.Beta2), float64(step))
		a.BiasCorr1, a.BiasCorr2 = float32(bc1), float32(bc2)
		d.AdamW(p, g, m, v, n, a)
		for i := range p64 {
			gi := float64(gs[i]) * float64(a.GradScale)
			m64[i] = float64(a.Beta1)*m64[i] + (1-float64(a.Beta1))*gi
			v64[i] = float64(a.Beta2)*v64[i] + (1-float64(a.Beta2))*gi*gi
			upd := (m64[i]/bc1)/(math.Sqrt(v64[i]/bc2)+float64(a.Eps)) + float64(a.WeightDecay)*p64[i]
			p64[i] -= float64(a.LR) * upd
		}
	}
	requireClose(t, "m", Floats(m), m64, 1e-7, 1e-5)
	requireClose(t, "v", Floats(v), v64, 1e-9, 1e-5)
	requireClose(t, "p", Floats(p), p64, 1e-6, 1e-5)
	// Element 0 had no gradient: only the decay moved it, by (1-LR·WD)³.
	if want := float64(ps[0]) * math.Pow(1-1e-3, 3); math.Abs(float64(Floats(p)[0])-want) > 1e-6 {
		t.Fatalf("p[0] = %g, want %g from weight decay alone", Floats(p)[0], want)
	}
}

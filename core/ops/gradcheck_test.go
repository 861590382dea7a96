package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Finite-difference checks of every backward op: for a random projection r of an op's output,
// loss = Σ r⊙out (accumulated in float64), the analytic gradient (the backward op with dout = r,
// into zeroed gradient buffers) must match the central difference (loss(x+h) - loss(x-h)) / 2h
// of each input element. Each case then runs the backward op again into buffers pre-filled with
// random values to check that it adds rather than overwrites.

// opBuf uploads v into a new CPU buffer.
func opBuf(d *CPU, v []float32) Buf {
	b := d.Alloc(len(v))
	d.Upload(b, v)
	return b
}

// opInts uploads v into a new CPU int32 buffer.
func opInts(d *CPU, v []int32) Buf {
	b := d.AllocInts(len(v))
	d.UploadInts(b, v)
	return b
}

// opRand returns n uniform values in [lo, hi).
func opRand(rng *rand.Rand, n int, lo, hi float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(lo + (hi-lo)*rng.Float64())
	}
	return v
}

// project is Σ r⊙out in float64.
func project(r, out []float32) float64 {
	var s float64
	for i, v := range out {
		s += float64(r[i]) * float64(v)
	}
	return s
}

// gradInput is one input of the op under test: its storage (perturbed in place by the check) and
// the buffer its backward op adds the gradient into.
type gradInput struct {
	name string
	x    []float32
	grad Buf
}

// gradTol is the accepted |analytic - numeric| <= atol + rtol·|numeric|.
type gradTol struct{ atol, rtol float64 }

// checkGrads compares the analytic gradient of loss (computed by backward, which must read the
// state of the latest loss call) with central differences, then checks the add convention.
func checkGrads(t *testing.T, rng *rand.Rand, loss func() float64, backward func(), inputs []gradInput, h float32, tol gradTol) {
	t.Helper()
	loss()
	analytic := make([][]float32, len(inputs))
	for _, in := range inputs {
		clear(Floats(in.grad))
	}
	backward()
	for k, in := range inputs {
		analytic[k] = append([]float32(nil), Floats(in.grad)...)
	}

	var worst float64
	for k, in := range inputs {
		for i := range in.x {
			orig := in.x[i]
			xp, xm := orig+h, orig-h
			in.x[i] = xp
			lp := loss()
			in.x[i] = xm
			lm := loss()
			in.x[i] = orig
			num := (lp - lm) / (float64(xp) - float64(xm))
			got := float64(analytic[k][i])
			diff := math.Abs(got - num)
			worst = max(worst, diff/(tol.atol+tol.rtol*math.Abs(num)))
			if diff > tol.atol+tol.rtol*math.Abs(num) {
				t.Errorf("d loss/d %s[%d]: analytic %.6g, numeric %.6g (diff %.3g)", in.name, i, got, num, diff)
			}
		}
	}
	t.Logf("worst |analytic-numeric| is %.2f of the tolerance", worst)

	// Backward ops add: pre-fill the gradients and expect prefill + analytic (up to the rounding
	// of that sum, and of the order of several contributions).
	loss()
	prefill := make([][]float32, len(inputs))
	for k, in := range inputs {
		prefill[k] = opRand(rng, len(in.x), -1, 1)
		copy(Floats(in.grad), prefill[k])
	}
	backward()
	for k, in := range inputs {
		for i, g := range Floats(in.grad) {
			want := float64(prefill[k][i]) + float64(analytic[k][i])
			if math.Abs(float64(g)-want) > 1e-5*(1+math.Abs(float64(prefill[k][i]))+math.Abs(float64(analytic[k][i]))) {
				t.Fatalf("%s[%d]: backward into %g gave %g, want %g added: it does not add", in.name, i,
					prefill[k][i], g, want)
			}
		}
	}
}

func TestGradAddBias(t *testing.T) {
	for _, sz := range [][2]int{{1, 1}, {3, 5}, {7, 3}, {5, 1}} {
		rows, cols := sz[0], sz[1]
		t.Run(fmt.Sprintf("rows=%d cols=%d", rows, cols), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(rows*10+cols)))
			d := NewCPU()
			y0 := opBuf(d, opRand(rng, rows*cols, -1, 1))
			y, bias, dbias := d.Alloc(rows*cols), opBuf(d, opRand(rng, cols, -1, 1)), d.Alloc(cols)
			r := opRand(rng, rows*cols, -1, 1)
			dy := opBuf(d, r)
			loss := func() float64 {
				d.Copy(y, y0)
				d.AddBias(y, bias, rows, cols)
				return project(r, Floats(y))
			}
			backward := func() { d.AddBiasBackward(dbias, dy, rows, cols) }
			checkGrads(t, rng, loss, backward, []gradInput{{"bias", Floats(bias), dbias}}, 1e-3, gradTol{1e-3, 1e-3})
		})
	}
}

func TestGradEmbed(t *testing.T) {
	for _, sz := range [][4]int{{1, 1, 1, 1}, {3, 5, 7, 5}, {2, 3, 5, 1}, {1, 7, 3, 3}} {
		B, T, C, V := sz[0], sz[1], sz[2], sz[3]
		t.Run(fmt.Sprintf("B=%d T=%d C=%d V=%d", B, T, C, V), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(2, uint64(B*1000+T*100+C*10+V)))
			d := NewCPU()
			ids := make([]int32, B*T)
			for i := range ids {
				ids[i] = int32(rng.IntN(V)) // few tokens, many positions: repeats accumulate
			}
			// wpe has two rows more than T: they are unused and must get no gradient.
			wte, wpe := opBuf(d, opRand(rng, V*C, -1, 1)), opBuf(d, opRand(rng, (T+2)*C, -1, 1))
			dwte, dwpe := d.Alloc(V*C), d.Alloc((T+2)*C)
			idb, out := opInts(d, ids), d.Alloc(B*T*C)
			r := opRand(rng, B*T*C, -1, 1)
			dout := opBuf(d, r)
			loss := func() float64 {
				d.Embed(out, idb, wte, wpe, B, T, C)
				return project(r, Floats(out))
			}
			backward := func() { d.EmbedBackward(dwte, dwpe, dout, idb, B, T, C) }
			checkGrads(t, rng, loss, backward, []gradInput{
				{"wte", Floats(wte), dwte}, {"wpe", Floats(wpe), dwpe},
			}, 1e-3, gradTol{1e-3, 1e-3})
		})
	}
}

func TestGradLayerNorm(t *testing.T) {
	for _, sz := range [][2]int{{1, 1}, {1, 3}, {3, 5}, {5, 7}, {7, 3}} {
		N, C := sz[0], sz[1]
		t.Run(fmt.Sprintf("N=%d C=%d", N, C), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, uint64(N*10+C)))
			d := NewCPU()
			x := opBuf(d, opRand(rng, N*C, -2, 2))
			w, b := opBuf(d, opRand(rng, C, 0.5, 1.5)), opBuf(d, opRand(rng, C, -0.5, 0.5))
			out, mean, rstd := d.Alloc(N*C), d.Alloc(N), d.Alloc(N)
			dx, dw, db := d.Alloc(N*C), d.Alloc(C), d.Alloc(C)
			r := opRand(rng, N*C, -1, 1)
			dout := opBuf(d, r)
			loss := func() float64 {
				d.LayerNorm(out, mean, rstd, x, w, b, N, C)
				return project(r, Floats(out))
			}
			backward := func() { d.LayerNormBackward(dx, dw, db, dout, x, w, mean, rstd, N, C) }
			checkGrads(t, rng, loss, backward, []gradInput{
				{"x", Floats(x), dx}, {"w", Floats(w), dw}, {"b", Floats(b), db},
			}, 1e-3, gradTol{5e-3, 1e-2})
		})
	}
}

func TestGradGELU(t *testing.T) {
	for _, n := range []int{1, 7, 31} {
		t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(4, uint64(n)))
			d := NewCPU()
			// Spread over the curved region, the tails and one exactly-zero input.
			xs := opRand(rng, n, -5, 5)
			xs[0] = 0
			x, out, dx := opBuf(d, xs), d.Alloc(n), d.Alloc(n)
			r := opRand(rng, n, -1, 1)
			dout := opBuf(d, r)
			loss := func() float64 {
				d.GELU(out, x, n)
				return project(r, Floats(out))
			}
			backward := func() { d.GELUBackward(dx, x, dout, n) }
			checkGrads(t, rng, loss, backward, []gradInput{{"x", Floats(x), dx}}, 1e-3, gradTol{1e-3, 1e-2})
		})
	}
}

// TestGradHeads checks that MergeHeads is SplitHeads' gradient and the other way round. These two
// overwrite their output (a permutation gets one contribution per element), so there is no add
// check here.
func TestGradHeads(t *testing.T) {
	for _, sz := range [][4]int{{1, 1, 1, 1}, {2, 3, 5, 1}, {1, 5, 3, 7}, {3, 7, 1, 3}} {
		B, T, H, D := sz[0], sz[1], sz[2], sz[3]
		n := B * T * H * D
		t.Run(fmt.Sprintf("B=%d T=%d H=%d D=%d", B, T, H, D), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(5, uint64(n)))
			d := NewCPU()
			for _, dir := range []struct {
				name      string
				fwd, bwd  func(out, in Buf, B, T, H, D int)
				inputName string
			}{
				{"split", d.SplitHeads, d.MergeHeads, "in of SplitHeads"},
				{"merge", d.MergeHeads, d.SplitHeads, "in of MergeHeads"},
			} {
				x, out, dx := opBuf(d, opRand(rng, n, -1, 1)), d.Alloc(n), d.Alloc(n)
				r := opRand(rng, n, -1, 1)
				dout := opBuf(d, r)
				dir.fwd(out, x, B, T, H, D)
				dir.bwd(dx, dout, B, T, H, D)
				xs := Floats(x)
				for i := range xs {
					orig := xs[i]
					xs[i] = orig + 1e-3
					dir.fwd(out, x, B, T, H, D)
					lp := project(r, Floats(out))
					xs[i] = orig - 1e-3
					dir.fwd(out, x, B, T, H, D)
					lm := project(r, Floats(out))
					xs[i] = orig
					num := (lp - lm) / (float64(orig+1e-3) - float64(orig-1e-3))
					if got := float64(Floats(dx)[i]); math.Abs(got-num) > 1e-3 {
						t.Fatalf("%s: d loss/d in[%d]: analytic %g, numeric %g", dir.name, i, got, num)
					}
				}
			}
		})
	}
}

func TestGradAttnSoftmax(t *testing.T) {
	cases := []struct {
		BH, Tq, Tk int
		mode       MaskMode
		scale      float32
	}{
		{1, 1, 1, Causal, 1},
		{3, 5, 5, Causal, 0.37},
		{2, 3, 7, Causal, 0.5}, // a 4-key prefix every query sees
		{1, 5, 3, Causal, 1},   // Tk < Tq: the first two queries see nothing
		{2, 5, 7, Bidirectional, 1.3},
		{1, 7, 1, Bidirectional, 2},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("BH=%d Tq=%d Tk=%d %v scale=%g", c.BH, c.Tq, c.Tk, c.mode, c.scale), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(6, uint64(c.BH*100+c.Tq*10+c.Tk)))
			d := NewCPU()
			n := c.BH * c.Tq * c.Tk
			s, p, ds := opBuf(d, opRand(rng, n, -3, 3)), d.Alloc(n), d.Alloc(n)
			r := opRand(rng, n, -1, 1)
			dp := opBuf(d, r)
			loss := func() float64 {
				d.AttnSoftmax(p, s, c.BH, c.Tq, c.Tk, c.scale, c.mode)
				return project(r, Floats(p))
			}
			backward := func() { d.AttnSoftmaxBackward(ds, p, dp, c.BH, c.Tq, c.Tk, c.scale) }
			checkGrads(t, rng, loss, backward, []gradInput{{"s", Floats(s), ds}}, 1e-3, gradTol{1e-3, 1e-2})
		})
	}
}

func TestGradDropout(t *testing.T) {
	for _, c := range []struct {
		n    int
		rate float32
	}{{1, 0.5}, {7, 0}, {37, 0.3}, {53, 0.5}, {5, 1}} {
		t.Run(fmt.Sprintf("n=%d rate=%g", c.n, c.rate), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, uint64(c.n)))
			d := NewCPU()
			key := DropoutKey{Seed: 99, Step: 3, Site: 2}
			x, out, dx := opBuf(d, opRand(rng, c.n, -1, 1)), d.Alloc(c.n), d.Alloc(c.n)
			r := opRand(rng, c.n, -1, 1)
			dout := opBuf(d, r)
			loss := func() float64 {
				d.Dropout(out, x, c.n, c.rate, key)
				return project(r, Floats(out))
			}
			backward := func() { d.DropoutBackward(dx, dout, c.n, c.rate, key) }
			checkGrads(t, rng, loss, backward, []gradInput{{"x", Floats(x), dx}}, 1e-3, gradTol{1e-3, 1e-3})
		})
	}
}

// TestGradCrossEntropy differentiates L = scale·Σ_i losses_i, the loss the trainer reports,
// whose gradient CrossEntropyBackward computes.
func TestGradCrossEntropy(t *testing.T) {
	for _, sz := range [][2]int{{1, 1}, {1, 3}, {3, 7}, {5, 5}, {7, 3}} {
		N, V := sz[0], sz[1]
		t.Run(fmt.Sprintf("N=%d V=%d", N, V), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(8, uint64(N*10+V)))
			d := NewCPU()
			tg := make([]int32, N)
			for i := range tg {
				tg[i] = int32(rng.IntN(V))
			}
			ws := opRand(rng, N, 0, 2)
			ws[0] = 0 // a masked-out token (response-only SFT) must get no gradient
			var wsum float64
			for _, w := range ws {
				wsum += float64(w)
			}
			scale := float32(1 / max(wsum, 1e-3))
			logits, probs, losses := opBuf(d, opRand(rng, N*V, -4, 4)), d.Alloc(N*V), d.Alloc(N)
			dlogits, targets, weights := d.Alloc(N*V), opInts(d, tg), opBuf(d, ws)
			loss := func() float64 {
				d.CrossEntropy(losses, probs, logits, targets, weights, N, V)
				var l float64
				for _, v := range Floats(losses) {
					l += float64(v)
				}
				return float64(scale) * l
			}
			backward := func() { d.CrossEntropyBackward(dlogits, probs, targets, weights, N, V, scale) }
			checkGrads(t, rng, loss, backward, []gradInput{{"logits", Floats(logits), dlogits}}, 1e-3, gradTol{1e-3, 1e-2})
		})
	}
}

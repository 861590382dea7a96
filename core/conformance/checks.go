package conformance

import (
	"fmt"

	"pretune/core/ops"
)

// MatMul checks every layout on odd shapes, batched with a shared B (stride 0, as a per-head
// weight is), a shared A (stride 0: the cached decoder's selection and one-hot matrices, the
// same for every head), batches spaced further apart than their size (the decoder reads the
// first rows of each head's key cache and leaves the rest alone), and the Accumulate form the
// backward products use, against ops.MatMulRef.
//
// Tolerance: inputs lie in [-1,1), so each of the K terms is at most 1 in size and a device
// that sums in another order (a GPU's tiles) differs by a few ulps of the partial sums per term:
// atol = 1e-6·(K+1), rtol = 1e-5. A wrong element (a dropped term, a transposed index) is off by
// about 0.1 or more.
func MatMul(d ops.Device, report Reporter) {
	shapes := []struct{ M, N, K int }{{1, 1, 1}, {7, 13, 5}, {13, 7, 31}, {67, 31, 13}, {3, 67, 64}}
	layouts := []struct{ transA, transB bool }{{false, false}, {false, true}, {true, false}, {true, true}}
	type form struct {
		batch                                int
		sharedA, sharedB, spaced, accumulate bool
	}
	for _, l := range layouts {
		for _, s := range shapes {
			forms := []form{{batch: 1}}
			if s.M > 1 {
				forms = append(forms, form{batch: 3}, form{batch: 2, sharedB: true, accumulate: true},
					form{batch: 2, sharedA: true, accumulate: true}, form{batch: 3, spaced: true})
			}
			for _, f := range forms {
				p := ops.MatMulArgs{M: s.M, N: s.N, K: s.K, TransA: l.transA, TransB: l.transB, Batch: f.batch,
					StrideA: s.M * s.K, StrideB: s.K * s.N, StrideC: s.M * s.N, Accumulate: f.accumulate}
				name := fmt.Sprintf("matmul/%s/M=%d,N=%d,K=%d,batch=%d", p.Layout(), s.M, s.N, s.K, f.batch)
				if f.sharedB {
					p.StrideB = 0
					name += ",strideB=0"
				}
				if f.sharedA {
					p.StrideA = 0
					name += ",strideA=0"
				}
				if f.spaced { // gaps of odd sizes between the blocks, which must stay untouched
					p.StrideA, p.StrideB, p.StrideC = p.StrideA+3, p.StrideB+5, p.StrideC+7
					name += ",spaced"
				}
				if f.accumulate {
					name += ",accumulate"
				}
				matMulCase(d, report, name, p)
			}
		}
	}
}

func matMulCase(d ops.Device, report Reporter, name string, p ops.MatMulArgs) {
	g := newGen(name)
	batches := max(p.Batch, 1)
	a := g.uniform((batches-1)*p.StrideA+p.M*p.K, -1, 1)
	b := g.uniform((batches-1)*p.StrideB+p.K*p.N, -1, 1)
	c := g.uniform((batches-1)*p.StrideC+p.M*p.N, -1, 1) // garbage to overwrite, or the sum to add to
	t := tol{atol: 1e-6 * float64(p.K+1), rtol: 1e-5}
	want := append([]float32(nil), c...)
	ops.MatMulRef(want, a, b, p)
	checkAgainst(d, report, name, []output{{"C", want, t}}, func(s *session) {
		cb := s.floats(c)
		s.d.MatMul(cb, s.floats(a), s.floats(b), p)
		s.read("C", cb, t)
	})
}

// AddBias checks y += bias and dbias += Σ_r dy.
//
// Tolerance: the forward pass is one addition per element (exact). The backward pass sums rows,
// which a GPU may do in another order: atol = 1e-6·rows, rtol = 1e-5 for values in [-1,1).
func AddBias(d ops.Device, report Reporter) {
	for _, s := range []struct{ rows, cols int }{{1, 1}, {7, 13}, {67, 31}, {5, 257}} {
		name := fmt.Sprintf("addbias/forward/rows=%d,cols=%d", s.rows, s.cols)
		g := newGen(name)
		y, bias := g.uniform(s.rows*s.cols, -1, 1), g.uniform(s.cols, -1, 1)
		check(d, report, name, func(ss *session) {
			yb := ss.floats(y)
			ss.d.AddBias(yb, ss.floats(bias), s.rows, s.cols)
			ss.read("y", yb, exact)
		})

		name = fmt.Sprintf("addbias/backward/rows=%d,cols=%d", s.rows, s.cols)
		g = newGen(name)
		dbias, dy := g.uniform(s.cols, -1, 1), g.uniform(s.rows*s.cols, -1, 1)
		t := tol{atol: 1e-6 * float64(s.rows), rtol: 1e-5}
		check(d, report, name, func(ss *session) {
			db := ss.floats(dbias)
			ss.d.AddBiasBackward(db, ss.floats(dy), s.rows, s.cols)
			ss.read("dbias", db, t)
		})
	}
}

// Embed checks the token+position lookup and its scatter-add, with repeated token ids (a small
// vocabulary) so that several rows of dout land on one row of dwte, and a wpe longer than T.
//
// Tolerance: the forward pass is one addition per element (exact). The backward pass adds up to
// B·T values per element: atol = 1e-6·B·T, rtol = 1e-5.
func Embed(d ops.Device, report Reporter) {
	for _, s := range []struct{ B, T, C, V, maxT int }{{1, 1, 1, 1, 1}, {2, 7, 13, 5, 9}, {3, 5, 31, 67, 5}, {2, 13, 7, 3, 16}} {
		shape := fmt.Sprintf("B=%d,T=%d,C=%d,V=%d", s.B, s.T, s.C, s.V)
		name := "embed/forward/" + shape
		g := newGen(name)
		ids := g.intn(s.B*s.T, s.V)
		wte, wpe := g.uniform(s.V*s.C, -1, 1), g.uniform(s.maxT*s.C, -1, 1)
		out := g.uniform(s.B*s.T*s.C, -9, 9)
		check(d, report, name, func(ss *session) {
			ob := ss.floats(out)
			ss.d.Embed(ob, ss.ints(ids), ss.floats(wte), ss.floats(wpe), s.B, s.T, s.C)
			ss.read("out", ob, exact)
		})

		name = "embed/backward/" + shape
		g = newGen(name)
		ids = g.intn(s.B*s.T, s.V)
		dwte, dwpe := g.uniform(s.V*s.C, -1, 1), g.uniform(s.maxT*s.C, -1, 1)
		dout := g.uniform(s.B*s.T*s.C, -1, 1)
		t := tol{atol: 1e-6 * float64(s.B*s.T), rtol: 1e-5}
		check(d, report, name, func(ss *session) {
			dteb, dpeb := ss.floats(dwte), ss.floats(dwpe)
			ss.d.EmbedBackward(dteb, dpeb, ss.floats(dout), ss.ints(ids), s.B, s.T, s.C)
			ss.read("dwte", dteb, t)
			ss.read("dwpe", dpeb, t)
		})
	}
}

// LayerNorm checks the forward pass (out, mean, rstd) on rows with a non-zero mean, including
// C = 1 (zero variance, rstd = 1/sqrt(1e-5)), and the backward pass fed the reference's mean and
// rstd so that it is judged on its own.
//
// Tolerance: mean and variance are reductions over C that a GPU may order differently, and rstd
// divides by a square root: atol = 1e-5, rtol = 1e-4 forward; the backward pass sums over C
// (dx) and over N (dw, db): atol = 1e-4, rtol = 1e-4.
func LayerNorm(d ops.Device, report Reporter) {
	fwd := tol{atol: 1e-5, rtol: 1e-4}
	bwd := tol{atol: 1e-4, rtol: 1e-4}
	for _, s := range []struct{ N, C int }{{1, 1}, {7, 13}, {5, 67}, {3, 263}} {
		shape := fmt.Sprintf("N=%d,C=%d", s.N, s.C)
		name := "layernorm/forward/" + shape
		g := newGen(name)
		x := g.uniform(s.N*s.C, 1, 5)
		w, b := g.uniform(s.C, -2, 2), g.uniform(s.C, -1, 1)
		out, mean, rstd := g.uniform(s.N*s.C, -9, 9), g.uniform(s.N, -9, 9), g.uniform(s.N, -9, 9)
		check(d, report, name, func(ss *session) {
			ob, mb, rb := ss.floats(out), ss.floats(mean), ss.floats(rstd)
			ss.d.LayerNorm(ob, mb, rb, ss.floats(x), ss.floats(w), ss.floats(b), s.N, s.C)
			ss.read("out", ob, fwd)
			ss.read("mean", mb, fwd)
			ss.read("rstd", rb, fwd)
		})

		// The backward inputs: the reference forward pass's mean and rstd for this x.
		ref := ops.NewCPU()
		mb, rb := ref.Alloc(s.N), ref.Alloc(s.N)
		ref.LayerNorm(ref.Alloc(s.N*s.C), mb, rb, upload(ref, x), upload(ref, w), upload(ref, b), s.N, s.C)
		refMean, refRstd := ops.Floats(mb), ops.Floats(rb)

		name = "layernorm/backward/" + shape
		g = newGen(name)
		dout := g.uniform(s.N*s.C, -1, 1)
		dx, dw, db := g.uniform(s.N*s.C, -1, 1), g.uniform(s.C, -1, 1), g.uniform(s.C, -1, 1)
		check(d, report, name, func(ss *session) {
			dxb, dwb, dbb := ss.floats(dx), ss.floats(dw), ss.floats(db)
			ss.d.LayerNormBackward(dxb, dwb, dbb, ss.floats(dout), ss.floats(x), ss.floats(w), ss.floats(refMean), ss.floats(refRstd), s.N, s.C)
			ss.read("dx", dxb, bwd)
			ss.read("dw", dwb, bwd)
			ss.read("db", dbb, bwd)
		})
	}
}

// upload puts vals on the reference device.
func upload(d *ops.CPU, vals []float32) ops.Buf {
	b := d.Alloc(len(vals))
	d.Upload(b, vals)
	return b
}

// GELU checks the tanh-form GELU and its derivative over [-6,6), past where tanh saturates, on
// buffers three elements longer than n (the tail must be left alone).
//
// Tolerance: a GPU's tanh is not the CPU's Tanh32 (WGSL leaves its accuracy to the
// implementation, and a tanh built on exp loses absolute accuracy as it nears -1, which the
// factor 0.5x multiplies by up to 3 at x = -6): atol = 1e-5, rtol = 1e-4 forward;
// atol = 3e-5, rtol = 1e-4 backward. A wrong constant or a missing cube term is off by 1e-3
// or more over this range.
func GELU(d ops.Device, report Reporter) {
	for _, n := range []int{1, 7, 1031} {
		name := fmt.Sprintf("gelu/forward/n=%d", n)
		g := newGen(name)
		x, out := g.uniform(n+3, -6, 6), g.uniform(n+3, -9, 9)
		check(d, report, name, func(ss *session) {
			ob := ss.floats(out)
			ss.d.GELU(ob, ss.floats(x), n)
			ss.read("out", ob, tol{atol: 1e-5, rtol: 1e-4})
		})

		name = fmt.Sprintf("gelu/backward/n=%d", n)
		g = newGen(name)
		x, dout, dx := g.uniform(n+3, -6, 6), g.uniform(n+3, -1, 1), g.uniform(n+3, -1, 1)
		check(d, report, name, func(ss *session) {
			dxb := ss.floats(dx)
			ss.d.GELUBackward(dxb, ss.floats(x), ss.floats(dout), n)
			ss.read("dx", dxb, tol{atol: 3e-5, rtol: 1e-4})
		})
	}
}

// Heads checks SplitHeads and MergeHeads, pure permutations: exact.
func Heads(d ops.Device, report Reporter) {
	for _, s := range []struct{ B, T, H, D int }{{1, 1, 1, 1}, {2, 7, 3, 5}, {3, 5, 4, 13}} {
		n := s.B * s.T * s.H * s.D
		shape := fmt.Sprintf("B=%d,T=%d,H=%d,D=%d", s.B, s.T, s.H, s.D)
		for _, op := range []struct {
			name string
			run  func(ops.Device, ops.Buf, ops.Buf)
		}{
			{"split", func(d ops.Device, out, in ops.Buf) { d.SplitHeads(out, in, s.B, s.T, s.H, s.D) }},
			{"merge", func(d ops.Device, out, in ops.Buf) { d.MergeHeads(out, in, s.B, s.T, s.H, s.D) }},
		} {
			name := "heads/" + op.name + "/" + shape
			g := newGen(name)
			in, out := g.uniform(n, -1, 1), g.uniform(n, -9, 9)
			check(d, report, name, func(ss *session) {
				ob := ss.floats(out)
				op.run(ss.d, ob, ss.floats(in))
				ss.read("out", ob, exact)
			})
		}
	}
}

// AttnSoftmax checks the masked softmax in every mask form: causal (Tq = Tk), causal with a
// prefix (Tk > Tq: the first Tk-Tq keys visible to all) and bidirectional, and its backward pass
// fed the reference's probabilities.
//
// Tolerance: a GPU's exp and its reduction order differ from Exp32's: atol = 1e-6, rtol = 1e-4
// forward, and a masked key must be exactly 0; atol = 1e-5, rtol = 1e-4 backward.
func AttnSoftmax(d ops.Device, report Reporter) {
	fwd := tol{atol: 1e-6, rtol: 1e-4, zero: true}
	bwd := tol{atol: 1e-5, rtol: 1e-4}
	for _, s := range []struct {
		BH, Tq, Tk int
		mode       ops.MaskMode
	}{
		{1, 1, 1, ops.Causal}, {3, 7, 7, ops.Causal}, {2, 5, 9, ops.Causal}, {2, 7, 13, ops.Bidirectional}, {1, 13, 13, ops.Bidirectional}, {2, 31, 31, ops.Causal},
	} {
		const scale = 0.37
		shape := fmt.Sprintf("%v,BH=%d,Tq=%d,Tk=%d", s.mode, s.BH, s.Tq, s.Tk)
		n := s.BH * s.Tq * s.Tk
		name := "attnsoftmax/forward/" + shape
		g := newGen(name)
		scores, p := g.uniform(n, -8, 8), g.uniform(n, -9, 9)
		check(d, report, name, func(ss *session) {
			pb := ss.floats(p)
			ss.d.AttnSoftmax(pb, ss.floats(scores), s.BH, s.Tq, s.Tk, scale, s.mode)
			ss.read("p", pb, fwd)
		})

		ref := ops.NewCPU()
		pr := ref.Alloc(n)
		ref.AttnSoftmax(pr, upload(ref, scores), s.BH, s.Tq, s.Tk, scale, s.mode)
		probs := ops.Floats(pr)

		name = "attnsoftmax/backward/" + shape
		g = newGen(name)
		dp, ds := g.uniform(n, -1, 1), g.uniform(n, -1, 1)
		check(d, report, name, func(ss *session) {
			dsb := ss.floats(ds)
			ss.d.AttnSoftmaxBackward(dsb, ss.floats(probs), ss.floats(dp), s.BH, s.Tq, s.Tk, scale)
			ss.read("ds", dsb, bwd)
		})
	}
}

// Dropout checks that the device draws the same mask as the reference from the same key (a
// seed with high bits set, a step, a site) at several rates, forward and backward.
//
// Tolerance: x/(1-rate) is one correctly rounded division, but a device may multiply by
// 1/(1-rate) instead (1 ulp): atol = 0, rtol = 1e-6; a dropped unit must be exactly 0. Backward
// adds into dx: atol = 1e-7, rtol = 1e-6.
func Dropout(d ops.Device, report Reporter) {
	for _, s := range []struct {
		n    int
		rate float32
		key  ops.DropoutKey
	}{
		{1, 0.1, ops.DropoutKey{Seed: 1, Step: 0, Site: 0}},
		{1031, 0.1, ops.DropoutKey{Seed: 0x9e3779b97f4a7c15, Step: 7, Site: 3}},
		{1031, 0.5, ops.DropoutKey{Seed: 42, Step: 1 << 20, Site: 11}},
		{257, 0, ops.DropoutKey{Seed: 5, Step: 2, Site: 1}},
	} {
		shape := fmt.Sprintf("n=%d,rate=%g,seed=%#x,step=%d,site=%d", s.n, s.rate, s.key.Seed, s.key.Step, s.key.Site)
		name := "dropout/forward/" + shape
		g := newGen(name)
		// x is never 0, so a kept unit is never 0 and the exact-zero rule finds every wrong drop.
		x, out := g.uniform(s.n, 0.5, 1.5), g.uniform(s.n, -9, 9)
		for i := range x {
			if i%2 == 1 {
				x[i] = -x[i]
			}
		}
		check(d, report, name, func(ss *session) {
			ob := ss.floats(out)
			ss.d.Dropout(ob, ss.floats(x), s.n, s.rate, s.key)
			ss.read("out", ob, tol{rtol: 1e-6, zero: true})
		})

		name = "dropout/backward/" + shape
		g = newGen(name)
		dout, dx := g.uniform(s.n, -1, 1), g.uniform(s.n, -1, 1)
		check(d, report, name, func(ss *session) {
			dxb := ss.floats(dx)
			ss.d.DropoutBackward(dxb, ss.floats(dout), s.n, s.rate, s.key)
			ss.read("dx", dxb, tol{atol: 1e-7, rtol: 1e-6})
		})
	}
}

// CrossEntropy checks softmax probabilities and weighted losses (weights 0, fractional and
// above 1, as response-only and masked-LM training use them) and the backward pass fed the
// reference's probabilities, with scale = 1/Σweights as the trainer passes it.
//
// Tolerance: a GPU's exp and log and its reduction order differ: atol = 1e-6, rtol = 1e-4 for
// probs and dlogits; atol = 1e-5, rtol = 1e-4 for the losses (a log of a sum over V).
func CrossEntropy(d ops.Device, report Reporter) {
	weightsOf := []float32{1, 0, 0.5, 2, 1, 0.25}
	for _, s := range []struct{ N, V int }{{1, 1}, {7, 13}, {5, 67}, {3, 300}} {
		shape := fmt.Sprintf("N=%d,V=%d", s.N, s.V)
		g := newGen("crossentropy/" + shape)
		logits := g.uniform(s.N*s.V, -5, 5)
		targets := g.intn(s.N, s.V)
		weights := make([]float32, s.N)
		var sum float32
		for i := range weights {
			weights[i] = weightsOf[i%len(weightsOf)]
			sum += weights[i]
		}
		name := "crossentropy/forward/" + shape
		losses, probs := g.uniform(s.N, -9, 9), g.uniform(s.N*s.V, -9, 9)
		check(d, report, name, func(ss *session) {
			lb, pb := ss.floats(losses), ss.floats(probs)
			ss.d.CrossEntropy(lb, pb, ss.floats(logits), ss.ints(targets), ss.floats(weights), s.N, s.V)
			ss.read("losses", lb, tol{atol: 1e-5, rtol: 1e-4})
			ss.read("probs", pb, tol{atol: 1e-6, rtol: 1e-4})
		})

		ref := ops.NewCPU()
		lr, pr, tr := ref.Alloc(s.N), ref.Alloc(s.N*s.V), ref.AllocInts(s.N)
		ref.UploadInts(tr, targets)
		ref.CrossEntropy(lr, pr, upload(ref, logits), tr, upload(ref, weights), s.N, s.V)
		refProbs := ops.Floats(pr)

		name = "crossentropy/backward/" + shape
		dlogits := g.uniform(s.N*s.V, -1, 1)
		check(d, report, name, func(ss *session) {
			db := ss.floats(dlogits)
			ss.d.CrossEntropyBackward(db, ss.floats(refProbs), ss.ints(targets), ss.floats(weights), s.N, s.V, 1/sum)
			ss.read("dlogits", db, tol{atol: 1e-6, rtol: 1e-4})
		})
	}
}

// Elementwise checks Add (into a separate buffer and in place), Scale on a prefix of a buffer,
// and SumSquares into one slot of several (the other slots must not change).
//
// Tolerance: Add and Scale are single correctly rounded operations (exact). SumSquares is a
// reduction over n that a GPU may do in float32 in another order: atol = 0, rtol = 1e-4.
func Elementwise(d ops.Device, report Reporter) {
	for _, n := range []int{1, 7, 1031} {
		name := fmt.Sprintf("elementwise/add/n=%d", n)
		g := newGen(name)
		a, b, out := g.uniform(n, -1, 1), g.uniform(n, -1, 1), g.uniform(n, -9, 9)
		check(d, report, name, func(ss *session) {
			ob := ss.floats(out)
			ss.d.Add(ob, ss.floats(a), ss.floats(b), n)
			ss.read("out", ob, exact)
		})

		name = fmt.Sprintf("elementwise/add_inplace/n=%d", n)
		check(d, report, name, func(ss *session) {
			ab := ss.floats(a)
			ss.d.Add(ab, ab, ss.floats(b), n)
			ss.read("a", ab, exact)
		})

		name = fmt.Sprintf("elementwise/scale/n=%d", n)
		g = newGen(name)
		x := g.uniform(n+3, -1, 1)
		check(d, report, name, func(ss *session) {
			xb := ss.floats(x)
			ss.d.Scale(xb, n, -0.7)
			ss.read("x", xb, exact)
		})

		name = fmt.Sprintf("elementwise/sumsquares/n=%d", n)
		g = newGen(name)
		x, slots := g.uniform(n+3, -2, 2), g.uniform(4, -9, 9)
		check(d, report, name, func(ss *session) {
			sb := ss.floats(slots)
			ss.d.SumSquares(sb, 2, ss.floats(x), n)
			ss.read("out", sb, tol{rtol: 1e-4})
		})
	}
}

// AdamW checks one optimizer step with weight decay, bias corrections for step 3 and a
// clipping factor, on parameters, gradients and moments of mixed size.
//
// Tolerance: the update divides by a square root: rtol = 1e-5 with atol = 1e-7 for m and v,
// and for p, whose step (about LR = 1e-3) carries the relative error.
func AdamW(d ops.Device, report Reporter) {
	const beta1, beta2 = 0.9, 0.95
	for _, s := range []struct {
		n         int
		gradScale float32
	}{{1, 1}, {7, 0.5}, {1031, 1}, {1031, 0.25}} {
		name := fmt.Sprintf("adamw/n=%d,gradscale=%g", s.n, s.gradScale)
		g := newGen(name)
		p, grad, m := g.uniform(s.n, -1, 1), g.uniform(s.n, -1, 1), g.uniform(s.n, -0.1, 0.1)
		v := g.uniform(s.n, 0, 0.01)
		args := ops.AdamWArgs{
			LR: 1e-3, Beta1: beta1, Beta2: beta2, Eps: 1e-8, WeightDecay: 0.1,
			BiasCorr1: 1 - beta1*beta1*beta1, BiasCorr2: 1 - beta2*beta2*beta2, // step 3, as exact constants
			GradScale: s.gradScale,
		}
		t := tol{atol: 1e-7, rtol: 1e-5}
		check(d, report, name, func(ss *session) {
			pb, mb, vb := ss.floats(p), ss.floats(m), ss.floats(v)
			ss.d.AdamW(pb, ss.floats(grad), mb, vb, s.n, args)
			ss.read("p", pb, t)
			ss.read("m", mb, t)
			ss.read("v", vb, t)
		})
	}
}

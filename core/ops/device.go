// Package ops is pretune's op layer: the Device contract every backend implements (buffers, the
// op set and its arguments), the CPU device that defines each op, and the float math (Exp32,
// Log32, Tanh32) and dropout bits that make its results the same bits on every platform. The
// model in package core is written against Device alone; webgpu implements it and
// core/conformance checks an implementation against the CPU device. It uses the standard library
// only, so it compiles natively and to WebAssembly alike.
//
// Conventions used by every op (llm.c's):
//   - Dimension letters: B batch, T time, C channels, V vocab, H heads, D head size (C = H*D).
//   - Forward ops overwrite their outputs. Backward ops ADD into their gradient outputs (dx, dW,
//     ...), so a buffer that receives several contributions (a residual stream, say) needs no extra
//     op; the trainer zeroes every gradient buffer at the start of a step.
//   - Matrices are row-major. A linear layer's weight is stored [out, in] (PyTorch's layout), so
//     y = x·Wᵀ + b.
//   - Buffers never alias: an op's outputs are distinct from its inputs unless its doc says so.
package ops

// Buf is an array of float32 (or, for token ids and targets, int32) resident on one Device.
// Only the Device that allocated a Buf may use it.
type Buf interface {
	// Len is the number of elements.
	Len() int
}

// MaskMode says which keys a query may attend to.
type MaskMode int

const (
	// Causal lets query t see key j when j <= t + (Tk - Tq): with Tk == Tq that is the usual causal
	// mask, and with Tk > Tq the first Tk-Tq keys (a learned prefix) are visible to every query.
	Causal MaskMode = iota
	// Bidirectional lets every query see every key (masked-LM pretraining).
	Bidirectional
)

func (m MaskMode) String() string {
	switch m {
	case Causal:
		return "causal"
	case Bidirectional:
		return "bidirectional"
	}
	return "unknown"
}

// MatMulArgs describes C = op(A)·op(B) (or C += op(A)·op(B)) for Batch independent matrices.
// op(A) is M×K and op(B) is K×N; C is M×N. With TransA, A is stored K×M (row-major) and op(A) = Aᵀ;
// with TransB, B is stored N×K and op(B) = Bᵀ. Batch z reads A at z*StrideA, B at z*StrideB and
// writes C at z*StrideC (element offsets); a stride of 0 reuses the same matrix for every batch.
//
// A linear layer uses all three forms without copying a transpose:
//
//	forward  y  = x·Wᵀ   (M=rows, N=out, K=in,   TransB)
//	backward dx += dy·W  (M=rows, N=in,  K=out)
//	backward dW += dyᵀ·x (M=out,  N=in,  K=rows, TransA)
//
// Each output element is a sum over k = 0..K-1 in increasing order, whatever the tiling and the
// number of threads, so results do not depend on the machine.
type MatMulArgs struct {
	M, N, K                   int
	TransA, TransB            bool
	Batch                     int // 0 means 1
	StrideA, StrideB, StrideC int
	// Accumulate adds the product into C instead of overwriting it.
	Accumulate bool
}

// AdamWArgs are the scalars of one AdamW update. The host computes the bias corrections
// (1-β1ᵗ, 1-β2ᵗ) and the clipping factor, so devices do only elementwise work.
type AdamWArgs struct {
	LR, Beta1, Beta2, Eps, WeightDecay float32
	// BiasCorr1 and BiasCorr2 are 1-β1ᵗ and 1-β2ᵗ for the step t (counted from 1).
	BiasCorr1, BiasCorr2 float32
	// GradScale multiplies every gradient before use (global-norm clipping); 1 means none.
	GradScale float32
}

// DropoutKey names one dropout site in one step. The keep/drop decision for element i is
// DropoutBits(Seed, Step, Site, i) >= DropoutThreshold(rate), so any device draws the same mask without a
// sequential random stream, and the backward pass recomputes it instead of storing it.
type DropoutKey struct {
	Seed uint64
	Step uint32
	Site uint32
}

// Device runs the model's ops. The CPU device in this package is the definition of every op;
// other devices (webgpu) must agree with it within the tolerances of the conformance suite.
//
// Ops do not return errors: a device that fails (a lost GPU) remembers the first error and
// returns it from Flush and Download; ops after a failure do nothing.
type Device interface {
	// Name is the fingerprint class: "cpu", or "webgpu/<adapter>".
	Name() string

	// Alloc returns n float32 zeros; AllocInts returns n int32 zeros.
	Alloc(n int) Buf
	AllocInts(n int) Buf
	// Free releases a buffer; using it afterwards is a bug.
	Free(b Buf)
	// Upload copies src into b (len(src) == b.Len()). UploadInts is its int32 form.
	Upload(b Buf, src []float32)
	UploadInts(b Buf, src []int32)
	// Download copies b into dst (len(dst) == b.Len()), waiting for queued work.
	Download(b Buf, dst []float32) error
	// Flush submits queued work and returns the device's first error, if any.
	Flush() error

	// Zero sets x to 0. Copy sets dst = src (same length).
	Zero(x Buf)
	Copy(dst, src Buf)

	// MatMul computes C (+)= op(A)·op(B); see MatMulArgs.
	MatMul(c, a, b Buf, p MatMulArgs)
	// AddBias: y[r,c] += bias[c] for a rows×cols y.
	AddBias(y, bias Buf, rows, cols int)
	// AddBiasBackward: dbias[c] += Σ_r dy[r,c], summed over r in increasing order.
	AddBiasBackward(dbias, dy Buf, rows, cols int)

	// Embed: out[b,t,:] = wte[ids[b,t],:] + wpe[t,:]; ids is B*T int32, wte V×C, wpe (≥T)×C.
	Embed(out, ids, wte, wpe Buf, B, T, C int)
	// EmbedBackward: dwte[ids[b,t],:] += dout[b,t,:] and dwpe[t,:] += dout[b,t,:], in increasing
	// (b,t) order (no atomics: deterministic on every device).
	EmbedBackward(dwte, dwpe, dout, ids Buf, B, T, C int)

	// LayerNorm over the last axis of an N×C x: out = (x-μ)·rstd·w + b with rstd = 1/sqrt(σ²+1e-5)
	// (biased variance); it saves mean and rstd (N each) for the backward pass.
	LayerNorm(out, mean, rstd, x, w, b Buf, N, C int)
	// LayerNormBackward adds into dx, dw and db.
	LayerNormBackward(dx, dw, db, dout, x, w, mean, rstd Buf, N, C int)

	// GELU, tanh form: out = 0.5x(1+tanh(√(2/π)(x+0.044715x³))), n elements.
	GELU(out, x Buf, n int)
	// GELUBackward: dx += gelu'(x)·dout.
	GELUBackward(dx, x, dout Buf, n int)

	// SplitHeads: out[b,h,t,d] = in[b,t,h*D+d]; in is B×T×(H*D), out is B×H×T×D.
	SplitHeads(out, in Buf, B, T, H, D int)
	// MergeHeads is SplitHeads' inverse: out[b,t,h*D+d] = in[b,h,t,d]. Each is the other's
	// backward (they overwrite: a permutation's gradient has one contribution per element).
	MergeHeads(out, in Buf, B, T, H, D int)

	// AttnSoftmax: for each of BH score matrices of Tq×Tk, p = softmax(scale·s) over keys, with
	// masked keys (see MaskMode) at probability exactly 0.
	AttnSoftmax(p, s Buf, BH, Tq, Tk int, scale float32, mode MaskMode)
	// AttnSoftmaxBackward: ds += scale·p⊙(dp - Σ_j p⊙dp), row by row.
	AttnSoftmaxBackward(ds, p, dp Buf, BH, Tq, Tk int, scale float32)

	// Dropout: out[i] = keep(i) ? x[i]/(1-rate) : 0, with keep from DropoutBits (see DropoutKey).
	Dropout(out, x Buf, n int, rate float32, key DropoutKey)
	// DropoutBackward: dx[i] += keep(i) ? dout[i]/(1-rate) : 0, the same mask as the forward pass.
	DropoutBackward(dx, dout Buf, n int, rate float32, key DropoutKey)

	// CrossEntropy over N rows of V logits: probs = softmax(logits) and
	// losses[i] = weights[i]·(-log probs[i, targets[i]]). targets is N int32; a target outside
	// [0,V) is a bug.
	CrossEntropy(losses, probs, logits, targets, weights Buf, N, V int)
	// CrossEntropyBackward: dlogits[i,:] += scale·weights[i]·(probs[i,:] - onehot(targets[i])).
	// The trainer passes scale = 1/Σweights so the loss is a weighted mean.
	CrossEntropyBackward(dlogits, probs, targets, weights Buf, N, V int, scale float32)

	// Add: out = a + b elementwise over n (out may be a or b).
	Add(out, a, b Buf, n int)
	// Scale: x *= s over n.
	Scale(x Buf, n int, s float32)
	// SumSquares: out[slot] = Σ x[i]² over n, by a fixed reduction order (for gradient clipping).
	SumSquares(out Buf, slot int, x Buf, n int)
	// AdamW updates n parameters p in place from gradients g and moments m, v.
	AdamW(p, g, m, v Buf, n int, a AdamWArgs)

	// ScaleCols: out[r,c] = x[r,c]·s[c] for a rows×cols x (IA3's rescaling, DoRA's magnitude).
	ScaleCols(out, x, s Buf, rows, cols int)
	// ScaleColsBackward: dx[r,c] += dy[r,c]·s[c] and ds[c] += Σ_r dy[r,c]·x[r,c], r increasing.
	ScaleColsBackward(dx, ds, dy, x, s Buf, rows, cols int)
	// WeightNorm: norm[r] = sqrt(Σ_c w[r,c]²) and g[r] = m[r]/norm[r] (exactly 1 when
	// m[r] == norm[r]) for a rows×cols w: DoRA's per-output-row scale.
	WeightNorm(norm, g, w, m Buf, rows, cols int)
	// WeightNormBackward: dm[r] += dg[r]/norm[r] and dw[r,c] += -(dg[r]·m[r]/norm[r]³)·w[r,c].
	WeightNormBackward(dw, dm, dg, w, m, norm Buf, rows, cols int)
}

// Limiter is implemented by devices that bound the size of one buffer (GPUs do). NewTrainer
// refuses a model whose largest buffer would not fit, with a message, before allocating.
type Limiter interface {
	// MaxBufferElements is the most float32 values one buffer may hold.
	MaxBufferElements() int
}

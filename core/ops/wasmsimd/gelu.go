package wasmsimd

import (
	"encoding/binary"
	"math"
)

// The exports of Module.
const (
	ExportMatMul       = "mm"
	ExportGELU         = "gelu"
	ExportGELUBackward = "gelu_backward"
)

// Module returns the CPU device's WebAssembly module: it imports a memory as env.mem (Go's own)
// and exports the matmul kernel (matMulFunction) and GELU forward and backward (geluFunction),
// the latter with the numbers nums gives.
func Module(nums Constants) []byte {
	return module(matMulFunction(), &geluFunction(nums, false).function, &geluFunction(nums, true).function)
}

// Constants are the numbers of core/ops's GELU, exp and tanh (gelu.go, fmath.go), which the GELU
// kernels must reproduce bit for bit: core/ops passes its own, so each is written once.
type Constants struct {
	// GELUK, GELUC and GELUC3 are √(2/π), 0.044715 and 3·0.044715 as float32, as gelu.go's
	// float32 arithmetic rounds its constants.
	GELUK, GELUC, GELUC3 float32
	// Ln2Hi + Ln2Lo = ln 2 and InvLn2 = 1/ln 2: exp64's argument reduction.
	Ln2Hi, Ln2Lo, InvLn2 float64
	// ExpTaylor and Expm1Taylor are exp64's and expm1Small's Horner coefficients, highest
	// degree first.
	ExpTaylor, Expm1Taylor []float64
	// TanhSeriesBelow and TanhOneAbove are Tanh32's branch points.
	TanhSeriesBelow, TanhOneAbove float64
}

// expBias is a float64's exponent bias: 2^k has the bits (k + expBias) << 52.
const expBias = 1023

func f64x2(v float64) (b [16]byte) {
	binary.LittleEndian.PutUint64(b[:], math.Float64bits(v))
	binary.LittleEndian.PutUint64(b[8:], math.Float64bits(v))
	return
}

func f32x4(v float32) (b [16]byte) {
	for i := range 4 {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return
}

func i64x2(v int64) (b [16]byte) {
	binary.LittleEndian.PutUint64(b[:], uint64(v))
	binary.LittleEndian.PutUint64(b[8:], uint64(v))
	return
}

// vecFunc is a function being written whose v128 locals are handed out as needed.
type vecFunc struct {
	function
	firstV128 int
}

func (f *vecFunc) v() int { f.v128s++; return f.firstV128 + f.v128s - 1 }

// simd2 emits a binary SIMD op on locals x and y into a new local.
func (f *vecFunc) simd2(op uint32, x, y int) int {
	r := f.v()
	f.code.get(x)
	f.code.get(y)
	f.code.simd(op)
	f.code.set(r)
	return r
}

func (f *vecFunc) simd1(op uint32, x int) int {
	r := f.v()
	f.code.get(x)
	f.code.simd(op)
	f.code.set(r)
	return r
}

func (f *vecFunc) konst(b [16]byte) int {
	r := f.v()
	f.code.constV128(b)
	f.code.set(r)
	return r
}

// sel is bitselect: where mask's bits are set, x, else y.
func (f *vecFunc) sel(x, y, mask int) int {
	r := f.v()
	f.code.get(x)
	f.code.get(y)
	f.code.get(mask)
	f.code.simd(simdBitselect)
	f.code.set(r)
	return r
}

// horner is p = c[0]; p = c[i] + y*p for the rest, in float64 lanes, each product rounded
// before its sum as fmath.go writes float64(r*p).
func (f *vecFunc) horner(c []float64, y int) int {
	p := f.konst(f64x2(c[0]))
	for _, coef := range c[1:] {
		p = f.simd2(simdF64x2Add, f.konst(f64x2(coef)), f.simd2(simdF64x2Mul, y, p))
	}
	return p
}

// exp64 is fmath.go's exp64 on both float64 lanes of x.
func (f *vecFunc) exp64(nums Constants, x int) int {
	t := f.simd2(simdF64x2Mul, x, f.konst(f64x2(nums.InvLn2)))
	half := f.konst(f64x2(0.5))
	// k = int(t ± 0.5), truncated toward zero: as a float, the truncation of the sum.
	up := f.simd2(simdF64x2Add, t, half)
	down := f.simd2(simdF64x2Sub, t, half)
	fk := f.simd1(simdF64x2Trunc, f.sel(up, down, f.simd2(simdF64x2Ge, t, f.konst(f64x2(0)))))
	r := f.simd2(simdF64x2Sub,
		f.simd2(simdF64x2Sub, x, f.simd2(simdF64x2Mul, fk, f.konst(f64x2(nums.Ln2Hi)))),
		f.simd2(simdF64x2Mul, fk, f.konst(f64x2(nums.Ln2Lo))))
	p := f.horner(nums.ExpTaylor, r)
	// 2^k from its bits: (k + 1023) << 52.
	ki := f.simd1(simdExtendLowS, f.simd1(simdTruncSatZ, fk))
	bits := f.simd2(simdI64x2Add, ki, f.konst(i64x2(expBias)))
	scale := f.v()
	f.code.get(bits)
	f.code.i32(52)
	f.code.simd(simdI64x2Shl)
	f.code.set(scale)
	return f.simd2(simdF64x2Mul, p, scale)
}

// tanh32 is fmath.go's Tanh32 on lanes 0 and 1 of the f32x4 local u; the result is an f32x4
// whose lanes 0 and 1 are the two tanh values. Both of Tanh32's branches are computed and one
// kept per lane; a NaN comes back as itself.
func (f *vecFunc) tanh32(nums Constants, u int) int {
	a := f.simd1(simdPromote, u)
	zero := f.konst(f64x2(0))
	neg := f.simd2(simdF64x2Lt, a, zero) // not for -0, which Tanh32 keeps as -0
	a = f.sel(f.simd1(simdF64x2Neg, a), a, neg)
	a2 := f.simd2(simdF64x2Mul, f.konst(f64x2(2)), a)
	one := f.konst(f64x2(1))
	two := f.konst(f64x2(2))
	// a < 0.5: em1 / (em1 + 2) with em1 = expm1Small(2a) = 2a·p.
	em1 := f.simd2(simdF64x2Mul, a2, f.horner(nums.Expm1Taylor, a2))
	small := f.simd2(simdF64x2Div, em1, f.simd2(simdF64x2Add, em1, two))
	// otherwise 1 - 2/(e^2a + 1).
	big := f.simd2(simdF64x2Sub, one, f.simd2(simdF64x2Div, two, f.simd2(simdF64x2Add, f.exp64(nums, a2), one)))
	t := f.sel(small, big, f.simd2(simdF64x2Lt, a, f.konst(f64x2(nums.TanhSeriesBelow))))
	t = f.sel(one, t, f.simd2(simdF64x2Gt, a, f.konst(f64x2(nums.TanhOneAbove))))
	t = f.sel(f.simd1(simdF64x2Neg, t), t, neg)
	t32 := f.simd1(simdDemote, t)
	return f.sel(u, t32, f.simd2(simdF32x4Ne, u, u))
}

// geluFunction is
//
//	gelu(out, x, n i32)              out[i] = GELU(x[i])
//	gelu_backward(dx, x, dout, n i32) dx[i] += GELU'(x[i])·dout[i]
//
// for i < n (even), two elements a pass (Tanh32 works in float64: two lanes), with exactly
// core/ops's float32 and float64 operations in its order for each element.
func geluFunction(nums Constants, backward bool) *vecFunc {
	params := 3
	export := ExportGELU
	if backward {
		params, export = 4, ExportGELUBackward
	}
	const extraI32 = 2
	f := &vecFunc{function: function{export: export, params: params, i32s: extraI32}, firstV128: params + extraI32}
	pOut, pX, pDout := 0, 1, 2
	pN := params - 1
	lI, lEnd := params, params+1
	c := &f.code
	// i and end are byte offsets: end = 4n.
	c.get(pN)
	c.i32(2)
	c.op(opI32Shl)
	c.set(lEnd)
	c.i32(0)
	c.set(lI)
	c.block()
	c.loop()
	c.get(lI)
	c.get(lEnd)
	c.op(opI32GeU)
	c.brIf(1)

	load := func(p int) int {
		r := f.v()
		c.get(p)
		c.get(lI)
		c.op(opI32Add)
		c.simd(simdLoad64Zero)
		c.memarg(alignF32, 0)
		c.set(r)
		return r
	}
	one32 := f.konst(f32x4(1))
	half32 := f.konst(f32x4(0.5))
	k32 := f.konst(f32x4(nums.GELUK))
	v := load(pX)
	// geluArg: √(2/π)·(x + 0.044715·x³), float32.
	x3 := f.simd2(simdF32x4Mul, f.simd2(simdF32x4Mul, v, v), v)
	u := f.simd2(simdF32x4Mul, k32, f.simd2(simdF32x4Add, v, f.simd2(simdF32x4Mul, f.konst(f32x4(nums.GELUC)), x3)))
	t := f.tanh32(nums, u)
	halfX := f.simd2(simdF32x4Mul, half32, v)
	var result int
	if !backward {
		// 0.5x·(1 + t)
		result = f.simd2(simdF32x4Mul, halfX, f.simd2(simdF32x4Add, one32, t))
	} else {
		sech2 := f.simd2(simdF32x4Sub, one32, f.simd2(simdF32x4Mul, t, t))
		du := f.simd2(simdF32x4Mul, k32, f.simd2(simdF32x4Add, one32,
			f.simd2(simdF32x4Mul, f.konst(f32x4(nums.GELUC3)), f.simd2(simdF32x4Mul, v, v))))
		local := f.simd2(simdF32x4Add,
			f.simd2(simdF32x4Mul, half32, f.simd2(simdF32x4Add, one32, t)),
			f.simd2(simdF32x4Mul, f.simd2(simdF32x4Mul, halfX, sech2), du))
		result = f.simd2(simdF32x4Add, load(pOut), f.simd2(simdF32x4Mul, local, load(pDout)))
	}
	c.get(pOut)
	c.get(lI)
	c.op(opI32Add)
	c.get(result)
	c.simd(simdStore64Ln)
	c.memarg(alignF32, 0)
	c.op(0) // lane 0: the two floats
	c.get(lI)
	c.i32(8)
	c.op(opI32Add)
	c.set(lI)
	c.br(0)
	c.end()
	c.end()
	return f
}

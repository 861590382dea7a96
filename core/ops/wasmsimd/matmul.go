package wasmsimd

// The kernel's register block: Rows rows by Cols columns of C per pass, Cols/4 vectors a row.
// Rows×Cols/4 accumulators, Cols/4 vectors of B and one splat of A must fit the 16 XMM registers
// V8 allocates on x86-64 (and 32 on arm64): 4×8 uses 11. Under Node on the team's Zen 3 it runs
// at 33 to 40 GFLOP/s (NN, n = 64 to 512; BenchmarkMatMul/device in make bench-wasm), against 3.0
// to 3.5 for the Go kernel as wasm: the README's wasm table.
const (
	Rows = 4
	Cols = 8
)

// matMulFunction is the kernel
//
//	mm(c, a, b, m, n, k, ai, ak, bk, ldc, accumulate i32)
//
// which computes, for every i < m (a multiple of Rows) and j < n (a multiple of Cols),
//
//	acc = +0; for kk := 0; kk < k; kk++ { acc = acc + A(i,kk)*B(kk,j) }   (float32, rounded each time)
//	C(i,j) = acc, or C(i,j) = C(i,j) + acc when accumulate != 0
//
// with A(i,kk) the float at byte address a + 4(i·ai + kk·ak), B(kk,j) at b + 4(kk·bk + j) (a row of
// B is contiguous: a transposed B is packed by the caller) and C(i,j) at c + 4(i·ldc + j).
//
// These are exactly MatMulRef's float32 operations in its order for each element: f32x4.mul and
// f32x4.add round each lane as f32.mul and f32.add do, and WebAssembly has no fused multiply-add
// outside the relaxed-SIMD proposal, which this module does not use. Only the lanes run side by
// side: four columns of C at once, Rows×Cols/4 vectors of them in registers while k runs.
func matMulFunction() *function {
	const (
		pC = iota
		pA
		pB
		pM
		pN
		pK
		pAi
		pAk
		pBk
		pLdc
		pAcc
		nParams
	)
	// i32 locals after the parameters.
	const (
		lI = nParams + iota
		lJ
		lKK
		lPA
		lPB
		lPC
		lAk4
		lBk4
		lLdc4
		lRow // lRow+r: r·ai·4, the byte offset of row r of the block in A (r ≥ 1)
	)
	nI32 := lRow + Rows - nParams
	vecs := Cols / 4
	// v128 locals after the i32 ones: the accumulators, then B's vectors, then A's splat.
	accBase := lRow + Rows
	acc := func(r, v int) int { return accBase + r*vecs + v }
	bVec := func(v int) int { return accBase + Rows*vecs + v }
	aSplat := accBase + Rows*vecs + vecs
	nV128 := Rows*vecs + vecs + 1

	var f code
	shl2 := func(from, to int) { f.get(from); f.i32(2); f.op(opI32Shl); f.set(to) }
	shl2(pAk, lAk4)
	shl2(pBk, lBk4)
	shl2(pLdc, lLdc4)
	for r := 1; r < Rows; r++ {
		f.get(pAi)
		f.i32(int32(4 * r))
		f.op(opI32Mul)
		f.set(lRow + r)
	}
	// for i := 0; i < m; i += Rows
	f.i32(0)
	f.set(lI)
	f.block()
	f.loop()
	f.get(lI)
	f.get(pM)
	f.op(opI32GeU)
	f.brIf(1)
	{
		// for j := 0; j < n; j += Cols
		f.i32(0)
		f.set(lJ)
		f.block()
		f.loop()
		f.get(lJ)
		f.get(pN)
		f.op(opI32GeU)
		f.brIf(1)
		{
			for r := range Rows {
				for v := range vecs {
					f.zeroV128()
					f.set(acc(r, v))
				}
			}
			// pa = a + 4·i·ai; pb = b + 4j
			f.get(pA)
			f.get(lI)
			f.get(pAi)
			f.op(opI32Mul)
			f.i32(2)
			f.op(opI32Shl)
			f.op(opI32Add)
			f.set(lPA)
			f.get(pB)
			f.get(lJ)
			f.i32(2)
			f.op(opI32Shl)
			f.op(opI32Add)
			f.set(lPB)
			f.get(pK)
			f.set(lKK)
			// for kk := k; kk != 0; kk--: one k, in increasing order, per pass.
			f.block()
			f.loop()
			f.get(lKK)
			f.op(opI32Eqz)
			f.brIf(1)
			for v := range vecs {
				f.get(lPB)
				f.loadV128(16 * v)
				f.set(bVec(v))
			}
			for r := range Rows {
				f.get(lPA)
				if r > 0 {
					f.get(lRow + r)
					f.op(opI32Add)
				}
				f.splatF32(0)
				f.set(aSplat)
				for v := range vecs {
					// acc = acc + a*b: the product rounded, then the sum.
					f.get(acc(r, v))
					f.get(aSplat)
					f.get(bVec(v))
					f.mulF32x4()
					f.addF32x4()
					f.set(acc(r, v))
				}
			}
			f.addLocal(lPA, lAk4)
			f.addLocal(lPB, lBk4)
			f.get(lKK)
			f.i32(1)
			f.op(opI32Sub)
			f.set(lKK)
			f.br(0)
			f.end()
			f.end()

			// pc = c + 4(i·ldc + j)
			f.get(pC)
			f.get(lI)
			f.get(pLdc)
			f.op(opI32Mul)
			f.get(lJ)
			f.op(opI32Add)
			f.i32(2)
			f.op(opI32Shl)
			f.op(opI32Add)
			f.set(lPC)
			// With accumulate, each sum becomes C + acc (C first, as MatMulRef writes it).
			f.get(pAcc)
			f.ifThen()
			for r := range Rows {
				for v := range vecs {
					f.get(lPC)
					if r > 0 {
						f.get(lLdc4)
						f.i32(int32(r))
						f.op(opI32Mul)
						f.op(opI32Add)
					}
					f.loadV128(16 * v)
					f.get(acc(r, v))
					f.addF32x4()
					f.set(acc(r, v))
				}
			}
			f.end()
			for r := range Rows {
				for v := range vecs {
					f.get(lPC)
					f.get(acc(r, v))
					f.storeV128(16 * v)
				}
				f.addLocal(lPC, lLdc4)
			}
			f.get(lJ)
			f.i32(Cols)
			f.op(opI32Add)
			f.set(lJ)
			f.br(0)
		}
		f.end()
		f.end()
		f.get(lI)
		f.i32(Rows)
		f.op(opI32Add)
		f.set(lI)
		f.br(0)
	}
	f.end()
	f.end()
	return &function{export: ExportMatMul, params: nParams, i32s: nI32, v128s: nV128, code: f}
}

package ops

import "sync"

// The fast CPU matmul. It is bit-identical to MatMulRef: every element of C is still
// acc = 0; acc += float32(opA(i,k)*opB(k,j)) for k = 0..K-1 in increasing order, then C = acc or
// C = C + acc. Only the order in which elements are visited changes, never the order of the
// additions into one element, so neither the blocking nor the number of threads changes a bit.
//
// Shape of the kernel: Go, natively and as wasm (which has no SIMD), compiles it to scalar code,
// so the win comes from keeping values in registers, not from vector width. kernel3x3 holds a
// 3×3 block of C in nine local accumulators and walks k once: per k it loads three values of
// op(A) and three of op(B) and does nine multiply-adds, with no loads or stores of C in the loop.
// Nine accumulators plus six operands fit the 15 float registers Go allocates on amd64; a 4×3
// block spills and measured slower. On the team's 2-core Zen 3 (BenchmarkMatMul, sizes 64-512)
// it runs at 9.7-10.3 GFLOP/s on one core, 0.55-0.6 of gonum's assembly Sgemm, where an i-k-j
// loop updating four rows of C per pass ran at 5.5; as wasm under Node, 4.9-5.5 GFLOP/s against
// 3.1 for the four-row loop, 0.5 for the plain triple loop and 1.3-1.6 for gonum.
//
// Every layout uses the same kernel with different strides (element (i,k) of op(A) is
// a[i*ai+k*ak], element (k,j) of op(B) is b[k*bk+j*bj]), reading A and B in place: no layout,
// in particular neither backward form (NN: dx = dy·W, TN: dW = dyᵀ·x), pays for a transposed copy.

const (
	// mmBlock is the register block: mmBlock×mmBlock elements of C per pass.
	mmBlock = 3
	// mmCols columns of C form one cache block: the row groups of a block run one after another
	// against the same K×mmCols part of B (K·mmCols·4 bytes: 384 KiB at K=1024) while it is in
	// L2. Column blocks are also what lets a product with few rows use several goroutines.
	mmCols = 96
	// mmParallelWork is the number of multiply-adds below which a product stays on one
	// goroutine: starting goroutines costs microseconds, a 64³ product takes about 50 µs.
	mmParallelWork = 64 * 64 * 64
)

// matMulTiled computes the product described by p (sizes already checked) on up to threads
// goroutines. The work units are blocks of mmBlock rows by mmCols columns of one batch's C,
// numbered batch by batch, column block by column block, row group by row group; each goroutine
// gets a contiguous range of units, so each element is computed by exactly one goroutine in the
// one fixed order, and consecutive units share their part of B.
func matMulTiled(c, a, b []float32, p MatMulArgs, threads int) {
	M, N, K := p.M, p.N, p.K
	batches := p.batches()
	if M == 0 || N == 0 {
		return
	}
	groups := (M + mmBlock - 1) / mmBlock
	perBatch := groups * ((N + mmCols - 1) / mmCols)
	units := batches * perBatch
	t := threads
	if M*N*K*batches < mmParallelWork || (batches > 1 && p.StrideC < M*N) {
		// Small products are not worth a goroutine. Batches whose C matrices overlap (a stride
		// of 0 sums every batch into one C) must run in batch order, as in MatMulRef.
		t = 1
	}
	t = min(t, units)
	run := func(lo, hi int) {
		for u := lo; u < hi; {
			z, r := u/perBatch, u%perBatch
			jb, g := r/groups, r%groups
			gEnd := min(groups, g+hi-u)
			j0 := jb * mmCols
			tiledBlock(c[z*p.StrideC:], a[z*p.StrideA:], b[z*p.StrideB:], p,
				g*mmBlock, min(gEnd*mmBlock, M), j0, min(j0+mmCols, N))
			u += gEnd - g
		}
	}
	if t <= 1 {
		run(0, units)
		return
	}
	var wg sync.WaitGroup
	for w := range t {
		lo, hi := units*w/t, units*(w+1)/t
		wg.Add(1)
		go func() {
			defer wg.Done()
			run(lo, hi)
		}()
	}
	wg.Wait()
}

// tiledBlock computes rows i0..i1-1, columns j0..j1-1 of one batch's C from that batch's A and
// B. The three rows of A in use stay in L1 while the K×(j1-j0) part of B is reused from L2.
func tiledBlock(c, a, b []float32, p MatMulArgs, i0, i1, j0, j1 int) {
	M, N, K := p.M, p.N, p.K
	ai, ak := K, 1
	if p.TransA {
		ai, ak = 1, M
	}
	bk, bj := N, 1
	if p.TransB {
		bk, bj = 1, K
	}
	// store writes one finished sum: the definition's C = acc or C = C + acc.
	store := func(o int, acc float32) {
		if p.Accumulate {
			c[o] = c[o] + acc
		} else {
			c[o] = acc
		}
	}
	for i := i0; i < i1; i += mmBlock {
		if i+mmBlock > i1 {
			// Leftover rows (M not a multiple of mmBlock): one element at a time.
			for r := i; r < i1; r++ {
				for j := j0; j < j1; j++ {
					store(r*N+j, dot(a, b, r*ai, ak, j*bj, bk, K))
				}
			}
			continue
		}
		j := j0
		for ; j+mmBlock <= j1; j += mmBlock {
			c00, c01, c02, c10, c11, c12, c20, c21, c22 := kernel3x3(a, b, i*ai, ai, ak, j*bj, bj, bk, K)
			o := i*N + j
			store(o, c00)
			store(o+1, c01)
			store(o+2, c02)
			o += N
			store(o, c10)
			store(o+1, c11)
			store(o+2, c12)
			o += N
			store(o, c20)
			store(o+1, c21)
			store(o+2, c22)
		}
		for ; j < j1; j++ {
			for r := i; r < i+mmBlock; r++ {
				store(r*N+j, dot(a, b, r*ai, ak, j*bj, bk, K))
			}
		}
	}
}

// kernel3x3 returns the nine sums op(A)[i..i+2,:]·op(B)[:,j..j+2] where op(A)[i+r,k] is
// a[oa + r*ai + k*ak] and op(B)[k,j+q] is b[ob + k*bk + q*bj].
func kernel3x3(a, b []float32, oa, ai, ak, ob, bj, bk, K int) (c00, c01, c02, c10, c11, c12, c20, c21, c22 float32) {
	for range K {
		x, y, w := b[ob], b[ob+bj], b[ob+2*bj]
		v := a[oa]
		c00 += float32(v * x)
		c01 += float32(v * y)
		c02 += float32(v * w)
		v = a[oa+ai]
		c10 += float32(v * x)
		c11 += float32(v * y)
		c12 += float32(v * w)
		v = a[oa+2*ai]
		c20 += float32(v * x)
		c21 += float32(v * y)
		c22 += float32(v * w)
		oa += ak
		ob += bk
	}
	return
}

// dot is one element: Σ_k a[oa + k*ak]·b[ob + k*bk].
func dot(a, b []float32, oa, ak, ob, bk, K int) float32 {
	acc := float32(0)
	for range K {
		acc += float32(a[oa] * b[ob])
		oa += ak
		ob += bk
	}
	return acc
}

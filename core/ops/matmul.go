package ops

import "fmt"

// MatMulRef is the definition of MatMul: the plain triple loop on float32 slices (see MatMulArgs
// for the layout). For each batch z and each element (i,j) of C it forms
//
//	acc := float32(0)
//	for k := 0; k < K; k++ { acc += float32(opA(i,k) * opB(k,j)) }
//
// and then stores C[i,j] = acc, or with Accumulate C[i,j] = C[i,j] + acc: the whole sum is formed
// first and added to C once. Every other implementation on the CPU (the tiled kernel, any number
// of threads) performs exactly these float32 operations in exactly this order, so they agree with
// MatMulRef bit for bit. The explicit float32(...) conversion stops Go from fusing the multiply
// and the add into an FMA (it would with GOAMD64=v3 and on arm64), which would change the bits.
//
// MatMulRef does not check sizes: an index out of range panics.
func MatMulRef(c, a, b []float32, p MatMulArgs) {
	M, N, K := p.M, p.N, p.K
	for z := 0; z < p.batches(); z++ {
		az, bz, cz := a[z*p.StrideA:], b[z*p.StrideB:], c[z*p.StrideC:]
		for i := 0; i < M; i++ {
			for j := 0; j < N; j++ {
				acc := float32(0)
				for k := 0; k < K; k++ {
					var x, y float32
					if p.TransA {
						x = az[k*M+i]
					} else {
						x = az[i*K+k]
					}
					if p.TransB {
						y = bz[j*K+k]
					} else {
						y = bz[k*N+j]
					}
					acc += float32(x * y)
				}
				if p.Accumulate {
					cz[i*N+j] = cz[i*N+j] + acc
				} else {
					cz[i*N+j] = acc
				}
			}
		}
	}
}

// MatMul computes C (+)= op(A)·op(B) with the tiled, multi-threaded kernel (matmul_tiled.go), or
// under wasm with the WebAssembly SIMD kernel where the engine has one (simd_js.go): both
// bit-identical to MatMulRef. Buffers too small for the shape are a programming error and panic
// with the shapes named.
func (d *CPU) MatMul(c, a, b Buf, p MatMulArgs) {
	cf, af, bf := f32(c), f32(a), f32(b)
	if err := p.check(len(cf), len(af), len(bf)); err != nil {
		panic(err.Error())
	}
	if !matMulSIMD(cf, af, bf, p) {
		matMulTiled(cf, af, bf, p, d.threads())
	}
}

// batches is Batch with its zero value meaning one matrix.
func (p MatMulArgs) batches() int {
	if p.Batch <= 0 {
		return 1
	}
	return p.Batch
}

// String names the shape the way panics and the conformance suite print it.
func (p MatMulArgs) String() string {
	return fmt.Sprintf("%s M=%d N=%d K=%d batch=%d strides(A,B,C)=(%d,%d,%d) accumulate=%v",
		p.Layout(), p.M, p.N, p.K, p.batches(), p.StrideA, p.StrideB, p.StrideC, p.Accumulate)
}

// Layout is "NN", "NT", "TN" or "TT": whether A and B are read transposed.
func (p MatMulArgs) Layout() string {
	l := [2]byte{'N', 'N'}
	if p.TransA {
		l[0] = 'T'
	}
	if p.TransB {
		l[1] = 'T'
	}
	return string(l[:])
}

// check reports whether buffers of lenC, lenA and lenB elements hold the shape: the last batch's
// matrix must end inside each buffer. Negative sizes or strides are rejected too.
func (p MatMulArgs) check(lenC, lenA, lenB int) error {
	if p.M < 0 || p.N < 0 || p.K < 0 || p.Batch < 0 || p.StrideA < 0 || p.StrideB < 0 || p.StrideC < 0 {
		return fmt.Errorf("ops: MatMul with a negative size or stride: %v", p)
	}
	last := p.batches() - 1
	for _, m := range []struct {
		name        string
		have, elems int
		stride      int
		shape       string
	}{
		{"A", lenA, p.M * p.K, p.StrideA, p.shapeA()},
		{"B", lenB, p.K * p.N, p.StrideB, p.shapeB()},
		{"C", lenC, p.M * p.N, p.StrideC, fmt.Sprintf("%dx%d", p.M, p.N)},
	} {
		if m.elems == 0 {
			continue
		}
		if need := last*m.stride + m.elems; m.have < need {
			return fmt.Errorf("ops: MatMul %v: %s is %s per batch and needs %d values, the buffer has %d",
				p, m.name, m.shape, need, m.have)
		}
	}
	return nil
}

// shapeA is A's stored shape (rows x cols) as text; shapeB is B's.
func (p MatMulArgs) shapeA() string {
	if p.TransA {
		return fmt.Sprintf("%dx%d (transposed)", p.K, p.M)
	}
	return fmt.Sprintf("%dx%d", p.M, p.K)
}

func (p MatMulArgs) shapeB() string {
	if p.TransB {
		return fmt.Sprintf("%dx%d (transposed)", p.N, p.K)
	}
	return fmt.Sprintf("%dx%d", p.K, p.N)
}

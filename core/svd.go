package core

import (
	"math"
	"sort"
)

// SVD is a thin singular value decomposition A = U·diag(S)·Vᵀ of a rows×cols matrix, k =
// min(rows, cols): U is rows×k and V cols×k (both row-major, orthonormal columns), S the k
// singular values in decreasing order. PiSSA initialises LoRA from it (pissa.go).
//
// It is one-sided Jacobi (Hestenes 1958): plane rotations of pairs of columns, in a fixed
// cyclic order (p < q, p outer), until every pair is orthogonal to working precision; the
// column norms are then the singular values. It is slow (O(k²·rows) per sweep, a few sweeps)
// but simple, accurate (small singular values keep their relative accuracy) and, computed in
// float64 with explicit conversions where Go could fuse a multiply-add, the same bits on every
// platform: it uses only + − × ÷ and the correctly rounded math.Sqrt, so the initialisation it
// gives, and every run from it, reproduce exactly natively, with GOAMD64=v3 and in the browser.
//
// Signs: a singular pair (u, v) is only defined up to a common sign; the convention here makes
// the largest-magnitude entry of each u positive (the first such entry on a tie). Equal
// singular values keep the order of their columns (a stable sort). A zero singular value gets
// a zero u column.
type SVD struct {
	Rows, Cols, K int
	U, S, V       []float64
}

// svdMaxSweeps bounds the Jacobi sweeps; a matrix of the model's sizes converges in well under
// twenty (each sweep squares the off-diagonal mass once it is small).
const svdMaxSweeps = 60

// svdTol is the orthogonality a pair of columns must reach: |xpᵀxq| <= svdTol·‖xp‖·‖xq‖.
const svdTol = 1e-15

// NewSVD decomposes the rows×cols row-major matrix a (left unchanged).
func NewSVD(a []float64, rows, cols int) SVD {
	if len(a) != rows*cols || rows < 1 || cols < 1 {
		panic("core: SVD of a matrix whose size does not match its shape")
	}
	if rows < cols {
		// A = (Aᵀ)ᵀ = (U'·S·V'ᵀ)ᵀ = V'·S·U'ᵀ: decompose the transpose, whose columns are fewer.
		at := make([]float64, len(a))
		for i := 0; i < rows; i++ {
			for j := 0; j < cols; j++ {
				at[j*rows+i] = a[i*cols+j]
			}
		}
		t := jacobiSVD(at, cols, rows)
		return signed(SVD{Rows: rows, Cols: cols, K: t.K, U: t.V, S: t.S, V: t.U})
	}
	return signed(jacobiSVD(a, rows, cols))
}

// signed applies the sign convention: each column of U has its largest-magnitude entry (the
// first on a tie) positive; the column of V flips with it.
func signed(d SVD) SVD {
	for k := 0; k < d.K; k++ {
		big := 0
		for i := 0; i < d.Rows; i++ {
			if math.Abs(d.U[i*d.K+k]) > math.Abs(d.U[big*d.K+k]) {
				big = i
			}
		}
		if d.U[big*d.K+k] < 0 {
			for i := 0; i < d.Rows; i++ {
				d.U[i*d.K+k] = -d.U[i*d.K+k]
			}
			for i := 0; i < d.Cols; i++ {
				d.V[i*d.K+k] = -d.V[i*d.K+k]
			}
		}
	}
	return d
}

// jacobiSVD is NewSVD of a matrix with rows >= cols, before the sign convention.
func jacobiSVD(a []float64, rows, cols int) SVD {
	m, n := rows, cols // m >= n: rotate the n columns of length m
	x := make([][]float64, n)
	v := make([][]float64, n) // the accumulated rotations, column j of V is v[j]
	for j := range x {
		x[j], v[j] = make([]float64, m), make([]float64, n)
		for i := 0; i < m; i++ {
			x[j][i] = a[i*n+j]
		}
		v[j][j] = 1
	}
	for sweep := 0; sweep < svdMaxSweeps; sweep++ {
		rotated := false
		for p := 0; p < n-1; p++ {
			for q := p + 1; q < n; q++ {
				alpha, beta, gamma := dot64(x[p], x[p]), dot64(x[q], x[q]), dot64(x[p], x[q])
				if gamma == 0 || alpha == 0 || beta == 0 || math.Abs(gamma) <= float64(svdTol*math.Sqrt(float64(alpha*beta))) {
					continue
				}
				rotated = true
				// The rotation that zeroes xpᵀxq (Golub & Van Loan's symmetric Schur 2×2):
				// ζ = (β−α)/2γ, t = sign(ζ)/(|ζ|+√(1+ζ²)), c = 1/√(1+t²), s = c·t.
				zeta := float64(beta-alpha) / float64(2*gamma)
				t := 1 / float64(math.Abs(zeta)+math.Sqrt(float64(1+float64(zeta*zeta))))
				if zeta < 0 {
					t = -t
				}
				c := 1 / math.Sqrt(float64(1+float64(t*t)))
				s := float64(c * t)
				rotate(x[p], x[q], c, s)
				rotate(v[p], v[q], c, s)
			}
		}
		if !rotated {
			break
		}
	}
	sv := make([]float64, n)
	for j := range x {
		sv[j] = math.Sqrt(dot64(x[j], x[j]))
	}
	order := make([]int, n)
	for j := range order {
		order[j] = j
	}
	sort.SliceStable(order, func(i, j int) bool { return sv[order[i]] > sv[order[j]] })
	out := SVD{Rows: rows, Cols: cols, K: n, U: make([]float64, m*n), S: make([]float64, n), V: make([]float64, n*n)}
	for k, j := range order {
		out.S[k] = sv[j]
		for i := 0; i < m; i++ {
			if sv[j] > 0 {
				out.U[i*n+k] = x[j][i] / sv[j]
			}
		}
		for i := 0; i < n; i++ {
			out.V[i*n+k] = v[j][i]
		}
	}
	return out
}

// dot64 is Σ a[i]·b[i] in order, each product rounded before it is added (no fused multiply-add).
func dot64(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += float64(a[i] * b[i])
	}
	return s
}

// rotate replaces columns (p, q) by (c·p − s·q, s·p + c·q), each product rounded.
func rotate(p, q []float64, c, s float64) {
	for i := range p {
		xp, xq := p[i], q[i]
		p[i] = float64(c*xp) - float64(s*xq)
		q[i] = float64(s*xp) + float64(c*xq)
	}
}

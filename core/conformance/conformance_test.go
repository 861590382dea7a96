package conformance

import (
	"errors"
	"math"
	"strings"
	"testing"

	"pretune/core/ops"
)

// result is one report the suite made.
type result struct {
	name string
	err  error
}

func runSuite(d ops.Device) []result {
	var got []result
	Run(d, func(name string, err error) { got = append(got, result{name, err}) })
	return got
}

// groups are the name prefixes of the exported op groups.
var groups = []string{"matmul/", "addbias/", "embed/", "layernorm/", "gelu/", "heads/", "attnsoftmax/",
	"dropout/", "crossentropy/", "elementwise/", "adamw/",
	"scalecols/", "weightnorm/"} // DoRA and IA3

// TestCPUPassesItsOwnSuite: the reference device conforms, every group reports, and names are
// unique (a duplicate would hide a case).
func TestCPUPassesItsOwnSuite(t *testing.T) {
	for _, d := range []*ops.CPU{ops.NewCPU(), {Threads: 1}, {Threads: 3}} {
		results := runSuite(d)
		seen := map[string]bool{}
		perGroup := map[string]int{}
		for _, r := range results {
			if r.err != nil {
				t.Errorf("threads=%d: %s: %v", d.Threads, r.name, r.err)
			}
			if seen[r.name] {
				t.Errorf("check name %q reported twice", r.name)
			}
			seen[r.name] = true
			for _, g := range groups {
				if strings.HasPrefix(r.name, g) {
					perGroup[g]++
				}
			}
		}
		for _, g := range groups {
			if perGroup[g] == 0 {
				t.Errorf("no check named %s*", g)
			}
		}
		if !seen["matmul/NT/M=7,N=13,K=5,batch=3"] || !seen["matmul/TN/M=13,N=7,K=31,batch=2,strideB=0,accumulate"] {
			t.Errorf("matmul names not in the documented form; got e.g. %q", results[0].name)
		}
	}
}

// Broken devices: each wraps the CPU device and breaks one op the way a GPU kernel might.

// offByOne adds 1e-2 to the first element of every MatMul result.
type offByOne struct{ *ops.CPU }

func (d offByOne) MatMul(c, a, b ops.Buf, p ops.MatMulArgs) {
	d.CPU.MatMul(c, a, b, p)
	ops.Floats(c)[0] += 1e-2
}

// noAccumulate ignores MatMulArgs.Accumulate (overwrites C).
type noAccumulate struct{ *ops.CPU }

func (d noAccumulate) MatMul(c, a, b ops.Buf, p ops.MatMulArgs) {
	p.Accumulate = false
	d.CPU.MatMul(c, a, b, p)
}

// overwritingLayerNorm breaks the ADD convention of LayerNormBackward.
type overwritingLayerNorm struct{ *ops.CPU }

func (d overwritingLayerNorm) LayerNormBackward(dx, dw, db, dout, x, w, mean, rstd ops.Buf, N, C int) {
	d.Zero(dx)
	d.Zero(dw)
	d.Zero(db)
	d.CPU.LayerNormBackward(dx, dw, db, dout, x, w, mean, rstd, N, C)
}

// leakyMask ignores the causal mask.
type leakyMask struct{ *ops.CPU }

func (d leakyMask) AttnSoftmax(p, s ops.Buf, BH, Tq, Tk int, scale float32, mode ops.MaskMode) {
	d.CPU.AttnSoftmax(p, s, BH, Tq, Tk, scale, ops.Bidirectional)
}

// otherMask draws the dropout mask from the wrong step.
type otherMask struct{ *ops.CPU }

func (d otherMask) Dropout(out, x ops.Buf, n int, rate float32, key ops.DropoutKey) {
	key.Step++
	d.CPU.Dropout(out, x, n, rate, key)
}

// slightlyOffGELU is GELU except for inputs in (2, 2.1), where it is 1e-3 off: small enough for
// a loose tolerance to miss.
type slightlyOffGELU struct{ *ops.CPU }

func (d slightlyOffGELU) GELU(out, x ops.Buf, n int) {
	d.CPU.GELU(out, x, n)
	for i, v := range ops.Floats(x)[:n] {
		if v > 2 && v < 2.1 {
			ops.Floats(out)[i] += 1e-3
		}
	}
}

// lostDevice fails every Download, as a device does after losing its GPU.
type lostDevice struct{ *ops.CPU }

var errLost = errors.New("GPU device lost")

func (d lostDevice) Download(b ops.Buf, dst []float32) error { return errLost }

// panickingAdamW panics, as a device rejecting a size would.
type panickingAdamW struct{ *ops.CPU }

func (d panickingAdamW) AdamW(p, g, m, v ops.Buf, n int, a ops.AdamWArgs) { panic("no AdamW here") }

// TestSuiteCatchesBrokenDevices: the suite can fail, and names the op that is wrong and only
// that op.
func TestSuiteCatchesBrokenDevices(t *testing.T) {
	for _, tc := range []struct {
		name      string
		d         ops.Device
		failing   string // every failure's name starts with this, and some check fails
		errSubstr string
		allFail   bool // every check under the prefix must fail
	}{
		{"matmul off by 1e-2", offByOne{ops.NewCPU()}, "matmul/", "index 0: got", true},
		{"matmul drops accumulate", noAccumulate{ops.NewCPU()}, "matmul/", "C: ", false},
		{"layernorm backward overwrites", overwritingLayerNorm{ops.NewCPU()}, "layernorm/backward/", "dw: ", true},
		{"attention ignores the causal mask", leakyMask{ops.NewCPU()}, "attnsoftmax/forward/causal", "p: ", false},
		{"dropout mask from another step", otherMask{ops.NewCPU()}, "dropout/forward/", "out: ", false},
		{"gelu 1e-3 off near 2", slightlyOffGELU{ops.NewCPU()}, "gelu/forward/n=1031", "values outside atol=1e-05 rtol=0.0001 (index", false},
		{"downloads fail", lostDevice{ops.NewCPU()}, "", "GPU device lost", true},
		{"adamw panics", panickingAdamW{ops.NewCPU()}, "adamw/", "panic: no AdamW here", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			results := runSuite(tc.d)
			failed, under := 0, 0
			for _, r := range results {
				inScope := strings.HasPrefix(r.name, tc.failing)
				if inScope {
					under++
				}
				switch {
				case r.err != nil && !inScope:
					t.Errorf("%s failed but only %s* is broken: %v", r.name, tc.failing, r.err)
				case r.err == nil && inScope && tc.allFail:
					t.Errorf("%s passed on a broken device", r.name)
				case r.err != nil:
					failed++
					if !strings.Contains(r.err.Error(), tc.errSubstr) {
						t.Errorf("%s: error %q does not contain %q", r.name, r.err, tc.errSubstr)
					}
				}
			}
			if failed == 0 {
				t.Fatalf("no check under %q failed (of %d)", tc.failing, under)
			}
		})
	}
}

// TestCompare pins the acceptance rule and the mismatch listing.
func TestCompare(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	for _, tc := range []struct {
		name      string
		got, want []float32
		tol       tol
		wantErr   string // "" means pass
	}{
		{"equal", []float32{1, -2, 0}, []float32{1, -2, 0}, exact, ""},
		{"within atol", []float32{1e-6}, []float32{0}, tol{atol: 2e-6}, ""},
		{"beyond atol", []float32{3e-6}, []float32{0}, tol{atol: 2e-6}, "index 0: got 3e-06, want 0"},
		{"within rtol", []float32{1000.1}, []float32{1000}, tol{rtol: 1e-3}, ""},
		{"beyond rtol", []float32{1, 1002}, []float32{1, 1000}, tol{rtol: 1e-3}, "1 of 2 values outside atol=0 rtol=0.001 (index 1: got 1002, want 1000)"},
		{"NaN never matches", []float32{nan}, []float32{1}, tol{atol: 1}, "index 0: got NaN"},
		{"NaN want never matches", []float32{nan}, []float32{nan}, tol{atol: 1}, "index 0"},
		{"infinity matches itself", []float32{inf}, []float32{inf}, exact, ""},
		{"exact zero required", []float32{1e-9}, []float32{0}, tol{atol: 1e-6, zero: true}, "index 0: got 1e-09, want 0"},
		{"zero rule off", []float32{1e-9}, []float32{0}, tol{atol: 1e-6}, ""},
		{"length", []float32{1}, []float32{1, 2}, exact, "1 values, want 2"},
		{"lists the first four", []float32{1, 1, 1, 1, 1, 1}, []float32{0, 0, 0, 0, 0, 0}, exact,
			"6 of 6 values outside atol=0 rtol=0 (index 0: got 1, want 0; index 1: got 1, want 0; index 2: got 1, want 0; index 3: got 1, want 0)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := compare(tc.got, tc.want, tc.tol)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("want pass, got %v", err)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("want an error containing %q, got pass", tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("error %q does not contain %q", err, tc.wantErr)
			}
		})
	}
}

// TestGenIsFixed: inputs depend only on the check's name, so a failure seen in a browser
// reproduces under go test; and different names give different inputs.
func TestGenIsFixed(t *testing.T) {
	a, b, c := newGen("x").uniform(64, -1, 1), newGen("x").uniform(64, -1, 1), newGen("y").uniform(64, -1, 1)
	same := 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("index %d: %v then %v from the same name", i, a[i], b[i])
		}
		if a[i] < -1 || a[i] >= 1 {
			t.Fatalf("index %d: %v outside [-1,1)", i, a[i])
		}
		if a[i] == c[i] {
			same++
		}
	}
	if same > 1 {
		t.Fatalf("names x and y share %d of 64 values", same)
	}
	ids := newGen("z").intn(1000, 7)
	var counts [7]int
	for _, v := range ids {
		counts[v]++
	}
	for v, n := range counts {
		if n < 100 {
			t.Fatalf("id %d drawn %d times of 1000 (want about 143)", v, n)
		}
	}
}

// otherOrder is a correct device that computes differently from the CPU device, the way a GPU
// kernel legitimately does: matmul sums k in reverse, reductions run in float64 or in float32 in
// another order, and exp and tanh come from package math in float64. The suite must pass it, or
// its tolerances would reject honest WebGPU kernels.
type otherOrder struct{ *ops.CPU }

func (d otherOrder) MatMul(c, a, b ops.Buf, p ops.MatMulArgs) {
	cv, av, bv := ops.Floats(c), ops.Floats(a), ops.Floats(b)
	for z := range max(p.Batch, 1) {
		for i := range p.M {
			for j := range p.N {
				acc := float32(0)
				for k := p.K - 1; k >= 0; k-- {
					x, y := av[z*p.StrideA+i*p.K+k], bv[z*p.StrideB+k*p.N+j]
					if p.TransA {
						x = av[z*p.StrideA+k*p.M+i]
					}
					if p.TransB {
						y = bv[z*p.StrideB+j*p.K+k]
					}
					acc += float32(x * y)
				}
				o := z*p.StrideC + i*p.N + j
				if p.Accumulate {
					acc += cv[o]
				}
				cv[o] = acc
			}
		}
	}
}

func (d otherOrder) AddBiasBackward(dbias, dy ops.Buf, rows, cols int) {
	db, g := ops.Floats(dbias), ops.Floats(dy)
	for c := range cols {
		var s float32
		for r := rows - 1; r >= 0; r-- {
			s += g[r*cols+c]
		}
		db[c] += s
	}
}

func (d otherOrder) GELU(out, x ops.Buf, n int) {
	o, xv := ops.Floats(out), ops.Floats(x)
	for i, v := range xv[:n] {
		x := float64(v)
		o[i] = float32(0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x))))
	}
}

func (d otherOrder) GELUBackward(dx, x, dout ops.Buf, n int) {
	dxv, xv, dov := ops.Floats(dx), ops.Floats(x), ops.Floats(dout)
	for i, v := range xv[:n] {
		x := float64(v)
		k := math.Sqrt(2 / math.Pi)
		t := math.Tanh(k * (x + 0.044715*x*x*x))
		grad := 0.5*(1+t) + 0.5*x*(1-t*t)*k*(1+3*0.044715*x*x)
		dxv[i] += float32(grad * float64(dov[i]))
	}
}

func (d otherOrder) AdamW(p, g, m, v ops.Buf, n int, a ops.AdamWArgs) {
	pv, gv, mv, vv := ops.Floats(p), ops.Floats(g), ops.Floats(m), ops.Floats(v)
	for i := range n {
		gi := float64(gv[i]) * float64(a.GradScale)
		mi := float64(a.Beta1)*float64(mv[i]) + (1-float64(a.Beta1))*gi
		vi := float64(a.Beta2)*float64(vv[i]) + (1-float64(a.Beta2))*gi*gi
		step := (mi/float64(a.BiasCorr1))/(math.Sqrt(vi/float64(a.BiasCorr2))+float64(a.Eps)) + float64(a.WeightDecay)*float64(pv[i])
		pv[i] = float32(float64(pv[i]) - float64(a.LR)*step)
		mv[i], vv[i] = float32(mi), float32(vi)
	}
}

func (d otherOrder) LayerNorm(out, mean, rstd, x, w, b ops.Buf, N, C int) {
	o, mv, rv, xv, wv, bv := ops.Floats(out), ops.Floats(mean), ops.Floats(rstd), ops.Floats(x), ops.Floats(w), ops.Floats(b)
	for n := range N {
		row := xv[n*C : (n+1)*C]
		var s, sq float64
		for _, v := range row {
			s += float64(v)
		}
		m := s / float64(C)
		for _, v := range row {
			sq += (float64(v) - m) * (float64(v) - m)
		}
		r := 1 / math.Sqrt(sq/float64(C)+1e-5)
		for c, v := range row {
			o[n*C+c] = float32((float64(v)-m)*r*float64(wv[c]) + float64(bv[c]))
		}
		mv[n], rv[n] = float32(m), float32(r)
	}
}

func (d otherOrder) AttnSoftmax(p, s ops.Buf, BH, Tq, Tk int, scale float32, mode ops.MaskMode) {
	pv, sv := ops.Floats(p), ops.Floats(s)
	for r := range BH * Tq {
		visible := Tk
		if mode == ops.Causal {
			visible = min(Tk, r%Tq+Tk-Tq+1)
		}
		row := sv[r*Tk : (r+1)*Tk]
		m := math.Inf(-1)
		for _, v := range row[:visible] {
			m = math.Max(m, float64(scale)*float64(v))
		}
		var sum float64
		for _, v := range row[:visible] {
			sum += math.Exp(float64(scale)*float64(v) - m)
		}
		for j, v := range row {
			pv[r*Tk+j] = 0
			if j < visible {
				pv[r*Tk+j] = float32(math.Exp(float64(scale)*float64(v)-m) / sum)
			}
		}
	}
}

func (d otherOrder) CrossEntropy(losses, probs, logits, targets, weights ops.Buf, N, V int) {
	lv, pv, xv, tv, wv := ops.Floats(losses), ops.Floats(probs), ops.Floats(logits), ops.Ints(targets), ops.Floats(weights)
	for i := range N {
		row := xv[i*V : (i+1)*V]
		m := math.Inf(-1)
		for _, v := range row {
			m = math.Max(m, float64(v))
		}
		var sum float64
		for _, v := range row {
			sum += math.Exp(float64(v) - m)
		}
		for j, v := range row {
			pv[i*V+j] = float32(math.Exp(float64(v)-m) / sum)
		}
		lv[i] = float32(float64(wv[i]) * (math.Log(sum) - (float64(row[tv[i]]) - m)))
	}
}

func (d otherOrder) SumSquares(out ops.Buf, slot int, x ops.Buf, n int) {
	var s float32
	for _, v := range ops.Floats(x)[:n] {
		s += float32(v * v)
	}
	ops.Floats(out)[slot] = s
}

// TestSuiteAdmitsOtherOrders: correct implementations that round differently pass.
func TestSuiteAdmitsOtherOrders(t *testing.T) {
	for _, r := range runSuite(otherOrder{ops.NewCPU()}) {
		if r.err != nil {
			t.Errorf("%s: %v", r.name, r.err)
		}
	}
}

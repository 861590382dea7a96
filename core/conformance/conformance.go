// Package conformance checks a ops.Device against the definition of every op, in the manner of
// gonum's testblas: exported checks take the device under test and a Reporter, so the same suite
// runs under go test (natively, on the CPU and on WebGPU through Vulkan) and inside the browser's
// trainer worker (on the browser's WebGPU adapter).
//
// Each check builds seeded inputs with awkward shapes (1, primes, sizes that are not multiples of
// a tile), runs one op on the device under test and on the reference (ops.MatMulRef for
// matmul, a fresh ops.NewCPU() for every other op), downloads every output and compares them
// element by element with |got-want| <= Atol + Rtol·|want|. The tolerances are stated per op
// beside each check: they admit the re-association and transcendental-function differences of a
// GPU kernel and nothing coarser. Outputs of forward ops are pre-filled with garbage (they must
// overwrite) and gradient buffers with non-zero values (backward ops must add).
package conformance

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"strings"

	"pretune/core/ops"
)

// Reporter receives the outcome of one named check: err is nil when it passed.
type Reporter func(name string, err error)

// Run runs every check of the suite on d.
func Run(d ops.Device, report Reporter) {
	for _, check := range []func(ops.Device, Reporter){
		MatMul, AddBias, Embed, LayerNorm, GELU, Heads, AttnSoftmax, Dropout, CrossEntropy, Elementwise, AdamW,
		ScaleCols, WeightNorm, // DoRA and IA3 (peft_checks.go)
	} {
		check(d, report)
	}
}

// tol is the acceptance rule |got-want| <= atol + rtol·|want|. With zero set, an element whose
// reference is exactly 0 (a masked attention key, a dropped unit) must be exactly 0 too.
type tol struct {
	atol, rtol float64
	zero       bool
}

// exact is for ops that only move or add single values: IEEE addition and multiplication are
// correctly rounded on every conforming device, including WGSL's f32.
var exact = tol{}

// output is one downloaded buffer with the rule it is compared by.
type output struct {
	name string
	vals []float32
	tol  tol
}

// session records the buffers one check allocates on one device and the outputs it reads back.
type session struct {
	d    ops.Device
	bufs []ops.Buf
	outs []output
	err  error
}

// floats allocates a buffer holding vals.
func (s *session) floats(vals []float32) ops.Buf {
	b := s.d.Alloc(len(vals))
	s.bufs = append(s.bufs, b)
	s.d.Upload(b, vals)
	return b
}

// ints allocates an int32 buffer holding vals.
func (s *session) ints(vals []int32) ops.Buf {
	b := s.d.AllocInts(len(vals))
	s.bufs = append(s.bufs, b)
	s.d.UploadInts(b, vals)
	return b
}

// read downloads b as the output called name.
func (s *session) read(name string, b ops.Buf, t tol) {
	vals := make([]float32, b.Len())
	if err := s.d.Download(b, vals); err != nil && s.err == nil {
		s.err = fmt.Errorf("download of %s: %w", name, err)
	}
	s.outs = append(s.outs, output{name, vals, t})
}

// execute runs body on d and returns what it read back. A panic inside the device (a size it
// rejects, say) becomes an error, so one bad op cannot stop the suite in a browser worker.
func execute(d ops.Device, body func(*session)) (outs []output, err error) {
	s := &session{d: d}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
		for _, b := range s.bufs {
			d.Free(b)
		}
	}()
	body(s)
	if s.err != nil {
		return nil, s.err
	}
	if err := d.Flush(); err != nil {
		return nil, fmt.Errorf("flush: %w", err)
	}
	return s.outs, nil
}

// check runs body on the reference CPU device and on d and reports the comparison as name.
func check(d ops.Device, report Reporter, name string, body func(*session)) {
	want, err := execute(ops.NewCPU(), body)
	if err != nil {
		report(name, fmt.Errorf("reference CPU device failed (a bug in the check or in core): %w", err))
		return
	}
	checkAgainst(d, report, name, want, body)
}

// checkAgainst runs body on d and compares its outputs with want, output by output.
func checkAgainst(d ops.Device, report Reporter, name string, want []output, body func(*session)) {
	got, err := execute(d, body)
	if err != nil {
		report(name, err)
		return
	}
	if len(got) != len(want) {
		report(name, fmt.Errorf("read %d outputs, the reference %d", len(got), len(want)))
		return
	}
	var errs []error
	for i, w := range want {
		if err := compare(got[i].vals, w.vals, w.tol); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", w.name, err))
		}
	}
	report(name, errors.Join(errs...))
}

// maxListed is how many mismatches an error names.
const maxListed = 4

// compare applies t to every element and names the first few mismatches with their index.
func compare(got, want []float32, t tol) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d values, want %d", len(got), len(want))
	}
	bad := 0
	var listed []string
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		// false for NaN; the conversion keeps the bound from fusing into an FMA, so a value on
		// the edge gets the same verdict on every processor
		ok := math.Abs(g-w) <= t.atol+float64(t.rtol*math.Abs(w))
		if t.zero && w == 0 && g != 0 {
			ok = false
		}
		if math.IsInf(w, 0) && g == w {
			ok = true
		}
		if !ok {
			bad++
			if len(listed) < maxListed {
				listed = append(listed, fmt.Sprintf("index %d: got %g, want %g", i, got[i], want[i]))
			}
		}
	}
	if bad == 0 {
		return nil
	}
	return fmt.Errorf("%d of %d values outside atol=%g rtol=%g (%s)", bad, len(want), t.atol, t.rtol,
		strings.Join(listed, "; "))
}

// gen is the suite's own deterministic generator (SplitMix64): it gives the same inputs natively
// and in the browser, and does not depend on math/rand's algorithms.
type gen struct{ s uint64 }

// newGen seeds a generator from the check's name, so each check's inputs are fixed and
// independent of which other checks ran before it.
func newGen(name string) *gen {
	h := fnv.New64a()
	h.Write([]byte(name))
	return &gen{h.Sum64()}
}

func (g *gen) next() uint64 {
	g.s += 0x9e3779b97f4a7c15
	z := g.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// uniform returns n values spread evenly over [lo, hi).
func (g *gen) uniform(n int, lo, hi float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		// The conversions keep a*b+c from fusing into an FMA, here and where inlining with
		// hi-lo = 2 turns (hi-lo)*u into u+u, whose other u is the product below.
		u := float32(float32(g.next()>>40) / (1 << 24))
		v[i] = lo + float32((hi-lo)*u)
	}
	return v
}

// intn returns n values in [0, k).
func (g *gen) intn(n, k int) []int32 {
	v := make([]int32, n)
	for i := range v {
		v[i] = int32(g.next() % uint64(k))
	}
	return v
}

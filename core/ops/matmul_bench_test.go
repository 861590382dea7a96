package ops

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// BenchmarkMatMul measures square products n×n·n×n in GFLOP/s (2n³ flops a product):
//
//	plain     MatMulRef, the definition (NN)
//	tiled1    the tiled kernel on one goroutine (NN)
//	tiledN    the tiled kernel on every core (NN)
//	NN,NT,TN  the tiled kernel on one goroutine in each layout (NN: dx = dy·W, NT: y = x·Wᵀ,
//	          TN: dW = dyᵀ·x)
//	device    the CPU device's MatMul on one goroutine (NN): the tiled kernel natively, the
//	          WebAssembly SIMD kernel under wasm where it runs (CPUKernel says which)
//	gonum1    gonum's Sgemm (Go with assembly kernels, NN) pinned to one core, the yardstick
//	gonumN    gonum's Sgemm on every core
//
// Run: go test -run XXX -bench MatMul -benchtime=20x ./core/ops/
func BenchmarkMatMul(b *testing.B) {
	type variant struct {
		name   string
		layout string
		procs  int // GOMAXPROCS during the run; 0 leaves it
		run    func(c, x, y []float32, p MatMulArgs)
	}
	sgemm := func(c, x, y []float32, p MatMulArgs) {
		gonum.Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, p.M, p.N, p.K, 1, x, p.K, y, p.N, 0, c, p.N)
	}
	variants := []variant{
		{"plain", "NN", 0, func(c, x, y []float32, p MatMulArgs) { MatMulRef(c, x, y, p) }},
		{"tiled1", "NN", 0, func(c, x, y []float32, p MatMulArgs) { matMulTiled(c, x, y, p, 1) }},
		{"tiledN", "NN", 0, func(c, x, y []float32, p MatMulArgs) { matMulTiled(c, x, y, p, runtime.GOMAXPROCS(0)) }},
		{"device", "NN", 0, func(c, x, y []float32, p MatMulArgs) {
			(&CPU{Threads: 1}).MatMul(&cpuBuf{f: c}, &cpuBuf{f: x}, &cpuBuf{f: y}, p)
		}},
		// gonum splits n >= 256 over GOMAXPROCS goroutines itself: gonum1 pins it to one core.
		{"gonum1", "NN", 1, sgemm},
		{"gonumN", "NN", 0, sgemm},
	}
	for _, l := range []string{"NN", "NT", "TN"} {
		variants = append(variants, variant{l, l, 0, func(c, x, y []float32, p MatMulArgs) { matMulTiled(c, x, y, p, 1) }})
		variants = append(variants, variant{"device" + l, l, 0, func(c, x, y []float32, p MatMulArgs) {
			(&CPU{Threads: 1}).MatMul(&cpuBuf{f: c}, &cpuBuf{f: x}, &cpuBuf{f: y}, p)
		}})
	}
	b.Logf("the CPU device's kernel: %s", CPUKernel())
	rng := rand.New(rand.NewPCG(7, 8))
	for _, v := range variants {
		for _, n := range []int{64, 128, 256, 512} {
			b.Run(fmt.Sprintf("%s/%d", v.name, n), func(b *testing.B) {
				p := MatMulArgs{M: n, N: n, K: n, TransA: v.layout[0] == 'T', TransB: v.layout[1] == 'T'}
				c, x, y := mmBuffers(rng, p)
				if v.procs > 0 {
					defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(v.procs))
				}
				b.ResetTimer()
				for range b.N {
					v.run(c, x, y, p)
				}
				b.ReportMetric(2*float64(n)*float64(n)*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

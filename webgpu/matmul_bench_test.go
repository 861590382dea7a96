package webgpu

import (
	"fmt"
	"testing"

	"pretune/core/ops"
)

// BenchmarkMatMul measures the matmul kernels against the CPU device's MatMul in the same run,
// in GFLOP/s (2·M·N·K per product). Square sizes 64..512 in the forward (NT, a linear layer's
// y = x·Wᵀ) and plain (NN) layouts, plus the thin shapes: batch-1 decoding (M=1) and a LoRA
// rank-8 product (N=8). A GPU iteration records one product; the timer stops after a Download
// that waits for all of them.
//
//	go test -run '^$' -bench MatMul -benchtime 20x ./webgpu/
func BenchmarkMatMul(b *testing.B) {
	type shape struct {
		name string
		p    ops.MatMulArgs
	}
	var shapes []shape
	for _, n := range []int{64, 128, 256, 512} {
		shapes = append(shapes,
			shape{fmt.Sprintf("NT/%d", n), ops.MatMulArgs{M: n, N: n, K: n, TransB: true}},
			shape{fmt.Sprintf("NN/%d", n), ops.MatMulArgs{M: n, N: n, K: n}})
	}
	shapes = append(shapes,
		shape{"decode/M=1,N=512,K=512", ops.MatMulArgs{M: 1, N: 512, K: 512, TransB: true}},
		shape{"lora/M=512,N=8,K=512", ops.MatMulArgs{M: 512, N: 8, K: 512, TransB: true}})

	for _, s := range shapes {
		p := s.p
		flops := 2 * float64(p.M) * float64(p.N) * float64(p.K)
		a, bv, _ := matmulInputs(p, 1)

		b.Run(s.name+"/cpu", func(b *testing.B) {
			cpu := ops.NewCPU()
			ca, cb, cc := cpu.Alloc(len(a)), cpu.Alloc(len(bv)), cpu.Alloc(p.M*p.N)
			cpu.Upload(ca, a)
			cpu.Upload(cb, bv)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				cpu.MatMul(cc, ca, cb, p)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		for _, kind := range []matmulKernel{kernelTiled, kernelThin, kernelNaive} {
			if kind == kernelThin && p.M > thinMax && p.N > thinMax {
				continue
			}
			b.Run(s.name+"/"+kind.String(), func(b *testing.B) {
				d := testDevice(b)
				ga, gb, gc := upload(b, d, a), upload(b, d, bv), d.Alloc(p.M*p.N).(*buffer)
				defer func() { d.Free(ga); d.Free(gb); d.Free(gc) }()
				d.matmul(kind, gc, ga, gb, p) // compile the pipeline outside the timer
				_ = download(b, d, gc)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					d.matmul(kind, gc, ga, gb, p)
				}
				_ = download(b, d, gc)
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkDispatch measures the cost of one small op (Scale over 1024 values) recorded and
// submitted in batches: the host overhead of recording plus the adapter's launch cost, which
// bounds the steps a second of a small model.
func BenchmarkDispatch(b *testing.B) {
	d := testDevice(b)
	x := upload(b, d, make([]float32, 1024))
	defer d.Free(x)
	d.Scale(x, 1024, 1)
	_ = download(b, d, x)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d.Scale(x, 1024, 1)
	}
	_ = download(b, d, x)
}

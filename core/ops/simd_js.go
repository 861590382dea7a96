//go:build js && wasm

package ops

import (
	"fmt"
	"runtime"
	"sync"
	"syscall/js"
	"unsafe"

	"pretune/core/ops/wasmsimd"
)

// GoMemoryGlobal is the global through which the JavaScript that starts Go's wasm hands the CPU
// device Go's own memory (the instance's exports.mem): web/worker.js sets it for the trainer, and
// wasm/node_memory.js for the tests under Node. Without it the device uses the Go kernel.
const GoMemoryGlobal = "pretuneGoMemory"

// simdMinWork is the multiply-adds below which a product stays in Go: a call through syscall/js
// costs about 0.3 µs under Node (measured on 2026-12-05), what the Go kernel takes for about 500
// multiply-adds (1.5 to 1.7 billion a second as wasm).
const simdMinWork = 4 * 8 * 16

var simd struct {
	once     sync.Once
	kernel   js.Value // the module's mm, or undefined
	gelu     js.Value // its gelu and gelu_backward
	geluBack js.Value
	why      string // why the kernel is not in use
	off      bool   // tests and benchmarks switch it off to measure the Go kernel
	calls    int    // kernel calls made (the tests check the kernels really ran)
	mu       sync.Mutex
	packed   []float32 // a transposed B laid out row by row (the kernel reads B's rows)
}

// startSIMD compiles the kernel against Go's memory, once. Any failure (no memory handed over,
// an engine without SIMD, a refused compile) leaves the Go kernel in use and says why.
func startSIMD() {
	defer func() {
		if r := recover(); r != nil {
			simd.kernel, simd.why = js.Undefined(), fmt.Sprintf("the SIMD kernel did not start: %v", r)
		}
	}()
	mem := js.Global().Get(GoMemoryGlobal)
	wa := js.Global().Get("WebAssembly")
	if wa.IsUndefined() || mem.IsUndefined() || !mem.InstanceOf(wa.Get("Memory")) {
		simd.why = "Go's memory was not handed to the device (" + GoMemoryGlobal + ")"
		return
	}
	mod := wasmsimd.Module(wasmsimd.Constants{
		GELUK: geluK, GELUC: geluC, GELUC3: 3 * geluC,
		Ln2Hi: ln2Hi, Ln2Lo: ln2Lo, InvLn2: invLn2,
		ExpTaylor: expTaylor[:], Expm1Taylor: expm1Taylor[:],
		TanhSeriesBelow: tanhSeriesBelow, TanhOneAbove: tanhOneAbove,
	})
	bytes := js.Global().Get("Uint8Array").New(len(mod))
	js.CopyBytesToJS(bytes, mod)
	if !wa.Call("validate", bytes).Bool() {
		simd.why = "this engine has no WebAssembly SIMD"
		return
	}
	inst := wa.Get("Instance").New(wa.Get("Module").New(bytes),
		map[string]any{"env": map[string]any{"mem": mem}})
	exports := inst.Get("exports")
	simd.gelu, simd.geluBack = exports.Get(wasmsimd.ExportGELU), exports.Get(wasmsimd.ExportGELUBackward)
	simd.kernel = exports.Get(wasmsimd.ExportMatMul)
}

// simdMinGELU is the elements below which GELU stays in Go (a call costs about 0.3 µs, a few
// elements' GELU in Go).
const simdMinGELU = 64

// geluSIMD computes GELU of an even prefix of x into out with the SIMD kernel and returns its
// length (0 where the kernel does not run); the caller does the rest.
func geluSIMD(out, x []float32) int {
	simd.once.Do(startSIMD)
	n := len(x) &^ 1
	if simd.off || n < simdMinGELU || simd.kernel.Type() != js.TypeFunction {
		return 0
	}
	simd.calls++
	simd.gelu.Invoke(addr(out), addr(x), n)
	runtime.KeepAlive(out)
	runtime.KeepAlive(x)
	return n
}

// geluBackwardSIMD is GELUBackward's even prefix, as geluSIMD.
func geluBackwardSIMD(dx, x, dout []float32) int {
	simd.once.Do(startSIMD)
	n := len(x) &^ 1
	if simd.off || n < simdMinGELU || simd.kernel.Type() != js.TypeFunction {
		return 0
	}
	simd.calls++
	simd.geluBack.Invoke(addr(dx), addr(x), addr(dout), n)
	runtime.KeepAlive(dx)
	runtime.KeepAlive(x)
	runtime.KeepAlive(dout)
	return n
}

// CPUKernel names the matmul kernel the CPU device uses here: "wasm-simd128" or "go", with the
// reason when SIMD is not in use.
func CPUKernel() string {
	simd.once.Do(startSIMD)
	if simd.kernel.Type() == js.TypeFunction {
		return "wasm-simd128"
	}
	return "go (" + simd.why + ")"
}

func addr(s []float32) int { return int(uintptr(unsafe.Pointer(unsafe.SliceData(s)))) }

// matMulSIMD computes the product with the SIMD kernel when it runs here and the product is big
// enough, and reports whether it did. The kernel takes each batch's whole blocks of
// wasmsimd.Rows×wasmsimd.Cols; the rows and columns left over go through the Go kernel's
// tiledBlock. Either way each element of C is MatMulRef's sum in MatMulRef's order, so the
// split changes no bit. Batches run in order, as MatMulRef's do (a stride of 0 sums into one C).
func matMulSIMD(c, a, b []float32, p MatMulArgs) bool {
	simd.once.Do(startSIMD)
	if simd.off || simd.kernel.Type() != js.TypeFunction {
		return false
	}
	M, N, K := p.M, p.N, p.K
	m, n := M-M%wasmsimd.Rows, N-N%wasmsimd.Cols
	if m == 0 || n == 0 || m*n*K < simdMinWork {
		return false
	}
	ai, ak := K, 1
	if p.TransA {
		ai, ak = 1, M
	}
	acc := 0
	if p.Accumulate {
		acc = 1
	}
	simd.mu.Lock()
	defer simd.mu.Unlock()
	for z := range p.batches() {
		az, bz, cz := a[z*p.StrideA:], b[z*p.StrideB:], c[z*p.StrideC:]
		rows := bz
		if p.TransB {
			// op(B)(k,j) = bz[j*K+k]: the kernel reads B by rows (k,·), so lay them out, a copy
			// without arithmetic; once for a B that every batch shares (stride 0).
			if cap(simd.packed) < K*N {
				simd.packed = make([]float32, K*N)
			}
			rows = simd.packed[:K*N]
			if z == 0 || p.StrideB != 0 {
				for j := range N {
					for k, v := range bz[j*K : j*K+K] {
						rows[k*N+j] = v
					}
				}
			}
		}
		simd.calls++
		simd.kernel.Invoke(addr(cz), addr(az), addr(rows), m, n, K, ai, ak, N, N, acc)
		if n < N {
			tiledBlock(cz, az, bz, p, 0, m, n, N)
		}
		if m < M {
			tiledBlock(cz, az, bz, p, m, M, 0, N)
		}
		runtime.KeepAlive(rows)
	}
	runtime.KeepAlive(a)
	runtime.KeepAlive(b)
	runtime.KeepAlive(c)
	return true
}

//go:build !(js && wasm)

package ops

// CPUKernel names the matmul kernel the CPU device uses here: natively always the Go kernel
// (matmul_tiled.go), which Go compiles to the machine's scalar float instructions.
func CPUKernel() string { return "go" }

// matMulSIMD is the WebAssembly SIMD kernel, which exists only under wasm (simd_js.go).
func matMulSIMD(c, a, b []float32, p MatMulArgs) bool { return false }

// geluSIMD and geluBackwardSIMD are the SIMD GELU, which exists only under wasm: nothing done.
func geluSIMD(out, x []float32) int              { return 0 }
func geluBackwardSIMD(dx, x, dout []float32) int { return 0 }

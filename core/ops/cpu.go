package ops

import (
	"fmt"
	"runtime"
)

// CPU is the reference Device: plain Go on float32 slices. Its results are bit-identical on every
// processor and under WebAssembly (see fmath.go and the golden test), so a run on the CPU device
// reproduces anywhere. Large matrix products use up to Threads goroutines; the result does not
// depend on their number.
type CPU struct {
	// Threads caps the goroutines a matmul may use; 0 means runtime.GOMAXPROCS(0).
	Threads int
}

var _ Device = (*CPU)(nil)

// NewCPU returns a CPU device using every core the Go runtime offers.
func NewCPU() *CPU { return &CPU{} }

// cpuBuf holds either float32s or int32s.
type cpuBuf struct {
	f []float32
	i []int32
}

func (b *cpuBuf) Len() int {
	if b.i != nil {
		return len(b.i)
	}
	return len(b.f)
}

// Name is the device's fingerprint class.
func (d *CPU) Name() string { return "cpu" }

func (d *CPU) threads() int {
	if d.Threads > 0 {
		return d.Threads
	}
	return runtime.GOMAXPROCS(0)
}

// Alloc returns n float32 zeros.
func (d *CPU) Alloc(n int) Buf { return &cpuBuf{f: make([]float32, n)} }

// AllocInts returns n int32 zeros.
func (d *CPU) AllocInts(n int) Buf { return &cpuBuf{i: make([]int32, n)} }

// Free drops the buffer's storage.
func (d *CPU) Free(b Buf) {
	cb := b.(*cpuBuf)
	cb.f, cb.i = nil, nil
}

// Upload copies src into b.
func (d *CPU) Upload(b Buf, src []float32) {
	dst := f32(b)
	if len(src) != len(dst) {
		panic(fmt.Sprintf("ops: Upload of %d values into a buffer of %d", len(src), len(dst)))
	}
	copy(dst, src)
}

// UploadInts copies src into the int32 buffer b.
func (d *CPU) UploadInts(b Buf, src []int32) {
	dst := i32(b)
	if len(src) != len(dst) {
		panic(fmt.Sprintf("ops: UploadInts of %d values into a buffer of %d", len(src), len(dst)))
	}
	copy(dst, src)
}

// Download copies b into dst.
func (d *CPU) Download(b Buf, dst []float32) error {
	src := f32(b)
	if len(src) != len(dst) {
		return fmt.Errorf("ops: Download of a %d-value buffer into %d", len(src), len(dst))
	}
	copy(dst, src)
	return nil
}

// Flush does nothing: CPU ops run synchronously.
func (d *CPU) Flush() error { return nil }

// Zero sets x to 0.
func (d *CPU) Zero(x Buf) { clear(f32(x)) }

// Copy sets dst = src.
func (d *CPU) Copy(dst, src Buf) { copy(f32(dst), f32(src)) }

// Floats exposes a CPU buffer's float32 storage (tests and the host-side code use it).
func Floats(b Buf) []float32 { return f32(b) }

// Ints exposes a CPU buffer's int32 storage.
func Ints(b Buf) []int32 { return i32(b) }

func f32(b Buf) []float32 {
	cb, ok := b.(*cpuBuf)
	if !ok {
		panic(fmt.Sprintf("ops: %T is not a CPU buffer", b))
	}
	if cb.i != nil {
		panic("ops: int32 buffer used as float32")
	}
	return cb.f
}

func i32(b Buf) []int32 {
	cb, ok := b.(*cpuBuf)
	if !ok {
		panic(fmt.Sprintf("ops: %T is not a CPU buffer", b))
	}
	if cb.i == nil && len(cb.f) > 0 {
		panic("ops: float32 buffer used as int32")
	}
	return cb.i
}

package webgpu

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/gogpu/wgpu"

	"pretune/core/ops"
)

// buffer is a ops.Buf: n float32s or int32s in a GPU storage buffer.
type buffer struct {
	gpu  *wgpu.Buffer
	size uint64 // the GPU buffer's byte size (its pool class)
	n    int
	ints bool
}

// Len is the number of elements.
func (b *buffer) Len() int { return b.n }

// bindSize is the binding's byte size: the elements, at least one (WebGPU has no empty binding).
func (b *buffer) bindSize() uint64 {
	if b.n == 0 {
		return 4
	}
	return uint64(b.n) * 4
}

// poolSize is the byte size class of an n-element buffer: whole 16-byte units, at least one.
func poolSize(n int) uint64 {
	s := (uint64(n)*4 + 15) &^ 15
	if s == 0 {
		s = 16
	}
	return s
}

// Alloc returns n float32 zeros.
func (d *Device) Alloc(n int) ops.Buf { return d.alloc(n, false) }

// AllocInts returns n int32 zeros.
func (d *Device) AllocInts(n int) ops.Buf { return d.alloc(n, true) }

func (d *Device) alloc(n int, ints bool) *buffer {
	if n < 0 {
		panic(fmt.Sprintf("webgpu: Alloc(%d)", n))
	}
	b := &buffer{n: n, ints: ints, size: poolSize(n)}
	if !d.ok() {
		return b
	}
	if limit := d.info.Limits.MaxStorageBufferBindingSize; limit > 0 && b.bindSize() > limit {
		d.fail(fmt.Errorf("a buffer of %d values (%d MiB) exceeds the adapter's storage binding limit of %d MiB",
			n, b.bindSize()>>20, limit>>20))
		return b
	}
	if free := d.pool[b.size]; len(free) > 0 {
		b.gpu = free[len(free)-1]
		d.pool[b.size] = free[:len(free)-1]
	} else {
		gb, err := d.dev.CreateBuffer(&wgpu.BufferDescriptor{
			Label: "tensor",
			Size:  b.size,
			Usage: wgpu.BufferUsageStorage | wgpu.BufferUsageCopySrc | wgpu.BufferUsageCopyDst,
		})
		if err != nil {
			d.fail(fmt.Errorf("allocating %d values: %w", n, err))
			return b
		}
		b.gpu = gb
		d.all = append(d.all, gb)
	}
	d.live++
	// A recycled buffer holds old values, and gogpu v0.31.5 does not zero new buffers on Vulkan
	// as WebGPU requires (a fresh lavapipe buffer held garbage): clear it in order with the other
	// recorded work.
	d.zero(b)
	return b
}

// Free returns the buffer to the device's pool for a later Alloc of the same size. Work already
// recorded on it still runs: the pool only hands it out again to later ops, which the GPU
// executes after.
func (d *Device) Free(x ops.Buf) {
	b := d.buf(x)
	if b == nil || b.gpu == nil {
		return
	}
	if d.pool != nil {
		d.pool[b.size] = append(d.pool[b.size], b.gpu)
	}
	b.gpu = nil
	d.live--
}

// buf unwraps a ops.Buf that must belong to this device.
func (d *Device) buf(x ops.Buf) *buffer {
	b, ok := x.(*buffer)
	if !ok {
		panic(fmt.Sprintf("webgpu: %T is not a WebGPU buffer", x))
	}
	return b
}

// fbuf unwraps a float32 buffer.
func (d *Device) fbuf(x ops.Buf) *buffer {
	b := d.buf(x)
	if b.ints {
		panic("webgpu: int32 buffer used as float32")
	}
	return b
}

// ibuf unwraps an int32 buffer.
func (d *Device) ibuf(x ops.Buf) *buffer {
	b := d.buf(x)
	if !b.ints && b.n > 0 {
		panic("webgpu: float32 buffer used as int32")
	}
	return b
}

// Upload copies src into b. Recorded work is submitted first, so ops recorded before the
// Upload see the old contents and ops after it the new ones.
func (d *Device) Upload(x ops.Buf, src []float32) {
	b := d.fbuf(x)
	if len(src) != b.n {
		panic(fmt.Sprintf("webgpu: Upload of %d values into a buffer of %d", len(src), b.n))
	}
	raw := make([]byte, 4*len(src))
	for i, v := range src {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	d.write(b, raw)
}

// UploadInts copies src into the int32 buffer b, ordered like Upload.
func (d *Device) UploadInts(x ops.Buf, src []int32) {
	b := d.ibuf(x)
	if len(src) != b.n {
		panic(fmt.Sprintf("webgpu: UploadInts of %d values into a buffer of %d", len(src), b.n))
	}
	raw := make([]byte, 4*len(src))
	for i, v := range src {
		binary.LittleEndian.PutUint32(raw[4*i:], uint32(v))
	}
	d.write(b, raw)
}

func (d *Device) write(b *buffer, raw []byte) {
	if !d.ok() || len(raw) == 0 {
		return
	}
	if b.gpu == nil {
		d.fail(fmt.Errorf("upload into a freed buffer"))
		return
	}
	d.submit(nil)
	if !d.ok() {
		return
	}
	if err := d.writeBuffer(b.gpu, 0, raw); err != nil {
		d.fail(fmt.Errorf("upload: %w", err))
	}
}

// downloadTimeout bounds the wait for a readback; a GPU that takes longer is treated as lost.
const downloadTimeout = 2 * time.Minute

// Download submits the recorded work with a copy of b into a staging buffer, waits for it and
// copies the values into dst.
func (d *Device) Download(x ops.Buf, dst []float32) error {
	b := d.fbuf(x)
	if len(dst) != b.n {
		return fmt.Errorf("webgpu: Download of a %d-value buffer into %d", b.n, len(dst))
	}
	raw, err := d.read(b)
	if err != nil {
		return err
	}
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return nil
}

// DownloadInts is Download for an int32 buffer (tests and inspection use it).
func (d *Device) DownloadInts(x ops.Buf, dst []int32) error {
	b := d.ibuf(x)
	if len(dst) != b.n {
		return fmt.Errorf("webgpu: DownloadInts of a %d-value buffer into %d", b.n, len(dst))
	}
	raw, err := d.read(b)
	if err != nil {
		return err
	}
	for i := range dst {
		dst[i] = int32(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return nil
}

func (d *Device) read(b *buffer) ([]byte, error) {
	if !d.ok() {
		d.discardBatch()
		return nil, d.err
	}
	if b.n == 0 {
		return nil, d.Flush()
	}
	if b.gpu == nil {
		return nil, fmt.Errorf("webgpu: download from a freed buffer")
	}
	size := uint64(b.n) * 4
	if d.staging == nil || d.staging.Size() < size {
		if d.staging != nil {
			d.staging.Release()
		}
		var err error
		d.staging, err = d.dev.CreateBuffer(&wgpu.BufferDescriptor{
			Label: "staging",
			Size:  poolSize(b.n),
			Usage: wgpu.BufferUsageMapRead | wgpu.BufferUsageCopyDst,
		})
		if err != nil {
			d.staging = nil
			d.fail(fmt.Errorf("staging buffer: %w", err))
			return nil, d.err
		}
	}
	staging := d.staging
	// The recorded work first, then the copy in a submission of its own after transferBarrier
	// (see native.go: gogpu does not order a copy after a compute pass by itself).
	d.submit(nil)
	if d.ok() {
		if err := d.transferBarrier(); err != nil {
			d.fail(fmt.Errorf("download: %w", err))
		}
	}
	d.submit(func(enc *wgpu.CommandEncoder) {
		enc.CopyBufferToBuffer(b.gpu, 0, staging, 0, size)
	})
	if !d.ok() {
		return nil, d.err
	}
	ctx, cancel := context.WithTimeout(context.Background(), downloadTimeout)
	defer cancel()
	if err := staging.Map(ctx, wgpu.MapModeRead, 0, size); err != nil {
		d.fail(fmt.Errorf("download: mapping the staging buffer: %w", err))
		return nil, d.err
	}
	defer func() { _ = staging.Unmap() }()
	rng, err := staging.MappedRange(0, size)
	if err != nil {
		d.fail(fmt.Errorf("download: %w", err))
		return nil, d.err
	}
	raw := make([]byte, size)
	copy(raw, rng.Bytes())
	return raw, nil
}

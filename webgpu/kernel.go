package webgpu

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/gogpu/gputypes"
	"github.com/gogpu/wgpu"

	"pretune/shaders"
)

const (
	// defaultBatch is how many dispatches one batch holds before it is submitted by default.
	defaultBatch = 256
	// uniformSize is the byte size of every kernel's uniform buffer: room for 16 u32/f32 fields.
	uniformSize = 64
	// maxUniforms bounds the uniform cache (and 4·maxUniforms the bind group cache); past it
	// both are dropped at a submit.
	maxUniforms = 4096
	// maxStorage is WebGPU's default maxStorageBuffersPerShaderStage, which every kernel fits.
	maxStorage = 8
)

// kernel is one compiled .wgsl file.
type kernel struct {
	name     string
	kinds    []shaders.BindingKind
	module   *wgpu.ShaderModule
	layout   *wgpu.BindGroupLayout
	plLayout *wgpu.PipelineLayout
	pipeline *wgpu.ComputePipeline
}

func (k *kernel) release() {
	for _, r := range []interface{ Release() }{k.pipeline, k.plLayout, k.layout, k.module} {
		if r != nil {
			r.Release()
		}
	}
}

// bindKey names a bind group: the kernel, the uniform buffer and each storage binding (buffer
// and bound size; a pooled buffer may come back with another length).
type bindKey struct {
	k       *kernel
	uniform *wgpu.Buffer
	bufs    [maxStorage]struct {
		b    *wgpu.Buffer
		size uint64
	}
}

// kernel compiles the named kernel on first use (pipelines are cached for the device's life).
func (d *Device) kernel(name string) *kernel {
	if k, ok := d.kernels[name]; ok {
		return k
	}
	k, err := d.compile(name)
	if err != nil {
		d.fail(fmt.Errorf("kernel %s: %w", name, err))
		return nil
	}
	d.kernels[name] = k
	return k
}

func (d *Device) compile(name string) (*kernel, error) {
	src, err := shaders.Source(name)
	if err != nil {
		return nil, err
	}
	kinds, err := shaders.Bindings(src)
	if err != nil {
		return nil, err
	}
	if len(kinds)-1 > maxStorage {
		return nil, fmt.Errorf("%d storage bindings, more than %d", len(kinds)-1, maxStorage)
	}
	src, err = shaders.Specialize(src, nil)
	if err != nil {
		return nil, err
	}
	k := &kernel{name: name, kinds: kinds}
	if k.module, err = d.dev.CreateShaderModule(&wgpu.ShaderModuleDescriptor{Label: name, WGSL: src}); err != nil {
		return nil, err
	}
	entries := make([]wgpu.BindGroupLayoutEntry, len(kinds))
	for i, kind := range kinds {
		bl := &gputypes.BufferBindingLayout{Type: gputypes.BufferBindingTypeReadOnlyStorage}
		switch kind {
		case shaders.ReadWrite:
			bl.Type = gputypes.BufferBindingTypeStorage
		case shaders.Uniform:
			bl.Type = gputypes.BufferBindingTypeUniform
		}
		entries[i] = wgpu.BindGroupLayoutEntry{Binding: uint32(i), Visibility: wgpu.ShaderStageCompute, Buffer: bl}
	}
	if k.layout, err = d.dev.CreateBindGroupLayout(&wgpu.BindGroupLayoutDescriptor{Label: name, Entries: entries}); err != nil {
		k.release()
		return nil, err
	}
	if k.plLayout, err = d.dev.CreatePipelineLayout(&wgpu.PipelineLayoutDescriptor{
		Label: name, BindGroupLayouts: []*wgpu.BindGroupLayout{k.layout},
	}); err != nil {
		k.release()
		return nil, err
	}
	if k.pipeline, err = d.dev.CreateComputePipeline(&wgpu.ComputePipelineDescriptor{
		Label: name, Layout: k.plLayout, Module: k.module, EntryPoint: shaders.EntryPoint,
	}); err != nil {
		k.release()
		return nil, err
	}
	return k, nil
}

// uniformKey is a uniform's contents.
type uniformKey [uniformSize / 4]uint32

// uniform returns an immutable uniform buffer holding params, cached by contents. Each distinct
// set of sizes and scalars gets its own buffer, written once at creation: rewriting one shared
// buffer between dispatches would need ordering that gogpu v0.31.5 does not give (its Vulkan
// backend ignores dynamic offsets, and Queue.WriteBuffer lands without a barrier).
func (d *Device) uniform(params u32s) *wgpu.Buffer {
	var key uniformKey
	copy(key[:], params)
	if u, ok := d.uniforms[key]; ok {
		return u
	}
	u, err := d.dev.CreateBuffer(&wgpu.BufferDescriptor{
		Label: "params", Size: uniformSize, Usage: wgpu.BufferUsageUniform, MappedAtCreation: true,
	})
	if err != nil {
		d.fail(fmt.Errorf("uniform buffer: %w", err))
		return nil
	}
	rng, err := u.MappedRange(0, uniformSize)
	if err != nil {
		u.Release()
		d.fail(fmt.Errorf("uniform buffer: %w", err))
		return nil
	}
	raw := rng.BytesMut()
	for i, v := range key {
		binary.LittleEndian.PutUint32(raw[4*i:], v)
	}
	if err := rng.Flush(); err != nil {
		u.Release()
		d.fail(fmt.Errorf("uniform buffer: %w", err))
		return nil
	}
	if err := u.Unmap(); err != nil {
		u.Release()
		d.fail(fmt.Errorf("uniform buffer: %w", err))
		return nil
	}
	d.uniforms[key] = u
	return u
}

// bindGroup returns the cached bind group of k over bufs and the uniform buffer u.
func (d *Device) bindGroup(k *kernel, bufs []*buffer, u *wgpu.Buffer) *wgpu.BindGroup {
	key := bindKey{k: k, uniform: u}
	for i, b := range bufs {
		key.bufs[i].b = b.gpu
		key.bufs[i].size = b.bindSize()
	}
	if bg, ok := d.binds[key]; ok {
		return bg
	}
	entries := make([]wgpu.BindGroupEntry, len(bufs)+1)
	for i, b := range bufs {
		entries[i] = wgpu.BindGroupEntry{Binding: uint32(i), Buffer: b.gpu, Size: b.bindSize()}
	}
	entries[len(bufs)] = wgpu.BindGroupEntry{Binding: uint32(len(bufs)), Buffer: u, Size: uniformSize}
	bg, err := d.dev.CreateBindGroup(&wgpu.BindGroupDescriptor{Label: k.name, Layout: k.layout, Entries: entries})
	if err != nil {
		d.fail(fmt.Errorf("bind group for %s: %w", k.name, err))
		return nil
	}
	d.binds[key] = bg
	return bg
}

// u32s packs a uniform: u32 fields as they are, f32 fields through f().
type u32s []uint32

// f is a float32 uniform field.
func f(x float32) uint32 { return math.Float32bits(x) }

// dispatch records one dispatch of the named kernel over bufs (in binding order) with the
// uniform params and a grid of x×y×z workgroups.
func (d *Device) dispatch(name string, bufs []*buffer, params u32s, x, y, z int) {
	if !d.ok() || x == 0 || y == 0 || z == 0 {
		return
	}
	k := d.kernel(name)
	if k == nil {
		return
	}
	if len(bufs) != len(k.kinds)-1 {
		d.fail(fmt.Errorf("kernel %s takes %d buffers, given %d", name, len(k.kinds)-1, len(bufs)))
		return
	}
	if len(params)*4 > uniformSize {
		d.fail(fmt.Errorf("kernel %s: %d bytes of uniforms", name, len(params)*4))
		return
	}
	lim := int(d.info.Limits.MaxComputeWorkgroupsPerDimension)
	if lim == 0 {
		lim = 65535
	}
	if x > lim || y > lim || z > lim {
		d.fail(fmt.Errorf("kernel %s: grid %d×%d×%d exceeds %d workgroups a dimension", name, x, y, z, lim))
		return
	}
	for i, b := range bufs {
		if b.gpu == nil {
			d.fail(fmt.Errorf("kernel %s: buffer %d was freed", name, i))
			return
		}
		// WebGPU rejects a buffer bound both as an input and as a writable output of one dispatch
		// (the browser with a validation error, natively the result would be a race).
		for j := i + 1; j < len(bufs); j++ {
			if b.gpu == bufs[j].gpu && (k.kinds[i] == shaders.ReadWrite || k.kinds[j] == shaders.ReadWrite) {
				panic(fmt.Sprintf("webgpu: %s: buffers %d and %d alias, and one is an output", name, i, j))
			}
		}
	}
	if d.nDisp >= d.opts.MaxBatch {
		d.submit(nil)
		if !d.ok() {
			return
		}
	}
	if !d.beginBatch() {
		return
	}
	u := d.uniform(params)
	if u == nil {
		return
	}
	bg := d.bindGroup(k, bufs, u)
	if bg == nil {
		return
	}
	d.pass.SetPipeline(k.pipeline)
	d.pass.SetBindGroup(0, bg, nil)
	d.pass.Dispatch(uint32(x), uint32(y), uint32(z))
	d.nDisp++
}

// beginBatch opens the encoder and compute pass if none is open.
func (d *Device) beginBatch() bool {
	if d.pass != nil {
		return true
	}
	var err error
	if d.enc == nil {
		if d.enc, err = d.dev.CreateCommandEncoder(&wgpu.CommandEncoderDescriptor{Label: "batch"}); err != nil {
			d.fail(err)
			return false
		}
	}
	if d.pass, err = d.enc.BeginComputePass(nil); err != nil {
		d.fail(err)
		return false
	}
	return true
}

// submit closes the batch, lets extra record copies after the compute pass (Download's), and
// submits it. It is a no-op with nothing recorded and no extra.
func (d *Device) submit(extra func(enc *wgpu.CommandEncoder)) {
	if !d.ok() {
		d.discardBatch()
		return
	}
	if d.enc == nil && extra == nil {
		return
	}
	if d.pass != nil {
		err := d.pass.End()
		d.pass = nil
		if err != nil {
			d.fail(err)
			d.discardBatch()
			return
		}
	}
	if d.enc == nil {
		var err error
		if d.enc, err = d.dev.CreateCommandEncoder(&wgpu.CommandEncoderDescriptor{Label: "batch"}); err != nil {
			d.fail(err)
			return
		}
	}
	if extra != nil {
		extra(d.enc)
	}
	cb, err := d.enc.Finish()
	d.enc = nil
	if err != nil {
		d.fail(err)
		d.nDisp = 0
		return
	}
	if _, err := d.queue.Submit(cb); err != nil {
		d.fail(err)
	}
	d.nDisp = 0
	if len(d.uniforms) > d.maxUniforms || len(d.binds) > 4*d.maxUniforms {
		d.dropCaches()
	}
}

// dropCaches releases every cached bind group and uniform buffer. Work already submitted keeps
// what it uses alive (gogpu and WebGPU free a resource only after the GPU is done with it).
func (d *Device) dropCaches() {
	for _, bg := range d.binds {
		bg.Release()
	}
	for _, u := range d.uniforms {
		u.Release()
	}
	clear(d.binds)
	clear(d.uniforms)
}

// discardBatch drops whatever is recorded (after a failure, or at Close).
func (d *Device) discardBatch() {
	if d.pass != nil {
		_ = d.pass.End()
		d.pass = nil
	}
	if d.enc != nil {
		d.enc.DiscardEncoding()
		d.enc = nil
	}
	d.nDisp = 0
}

// Flush submits the recorded work and returns the device's first error.
func (d *Device) Flush() error {
	if d.closed {
		return d.err
	}
	d.submit(nil)
	return d.err
}

// grid1 splits n invocations of wg each into a workgroup grid whose x and y stay within the
// per-dimension limit; kernels flatten it back as gid.x + gid.y·num_workgroups.x·wg.
func grid1(n, wg int) (x, y int) {
	groups := (n + wg - 1) / wg
	return gridGroups(groups)
}

// gridGroups splits a count of workgroups into x×y; kernels flatten it as wid.x + wid.y·nwg.x.
func gridGroups(groups int) (x, y int) {
	if groups == 0 {
		return 0, 0
	}
	const lim = 65535
	if groups <= lim {
		return groups, 1
	}
	y = (groups + lim - 1) / lim
	x = (groups + y - 1) / y
	return x, y
}

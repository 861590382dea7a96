// Package webgpu is pretune's GPU device: every ops.Device op as a WGSL compute kernel (package
// shaders) run through github.com/gogpu/wgpu, natively on Vulkan and in the browser on
// navigator.gpu. Tensors stay on the GPU; ops are recorded into one command encoder per batch and
// submitted at Flush, at Download, before an Upload, or when a batch is full.
package webgpu

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gogpu/gputypes"
	"github.com/gogpu/wgpu"

	"pretune/core/ops"
)

// Options configures New.
type Options struct {
	// AllowSoftware accepts adapters that emulate a GPU on the CPU (Mesa's llvmpipe/lavapipe,
	// Chromium's SwiftShader). They compute correctly but slower than the CPU device, so the
	// `auto` device choice refuses them; tests and an explicit `-device webgpu` allow them.
	// gogpu's own pure-Go fallback adapter is refused whatever this says: it runs a workgroup's
	// invocations one after another with barriers as no-ops, so kernels that share workgroup
	// memory compute wrong results on it.
	AllowSoftware bool
	// MaxBatch is the number of dispatches recorded before the batch is submitted; 0 means 256.
	MaxBatch int
}

// Limits are the adapter limits that bound what the device can run.
type Limits struct {
	MaxStorageBufferBindingSize       uint64
	MaxBufferSize                     uint64
	MaxComputeWorkgroupStorageSize    uint32
	MaxComputeInvocationsPerWorkgroup uint32
	MaxComputeWorkgroupsPerDimension  uint32
	MaxStorageBuffersPerShaderStage   uint32
}

// Info describes the adapter behind a Device.
type Info struct {
	Name, Vendor, Driver, Backend string
	// DeviceType is "discrete", "integrated", "cpu", ... as the adapter reports it.
	DeviceType string
	// Limits are the limits of the device as created (raised above WebGPU's defaults where the
	// adapter allows).
	Limits Limits
	// Software is true for an adapter that emulates a GPU on the CPU.
	Software bool
}

// ErrNoAdapter is returned (wrapped) by New when the system offers no usable WebGPU adapter.
var ErrNoAdapter = errors.New("webgpu: no GPU adapter")

// ErrSoftwareAdapter is returned (wrapped) by New for a CPU-emulated adapter without
// Options.AllowSoftware, and always for gogpu's own software fallback.
var ErrSoftwareAdapter = errors.New("webgpu: software adapter")

// Device is the WebGPU ops.Device. It is not safe for concurrent use: one goroutine (the
// trainer's) drives it, as the ops' ordering requires.
type Device struct {
	opts     Options
	info     Info
	instance *wgpu.Instance
	adapter  *wgpu.Adapter
	dev      *wgpu.Device
	queue    *wgpu.Queue

	err    error // first failure; every op after it does nothing
	closed bool

	kernels     map[string]*kernel
	binds       map[bindKey]*wgpu.BindGroup
	uniforms    map[uniformKey]*wgpu.Buffer
	maxUniforms int // the cache bound: the constant maxUniforms, lowered by a test

	// The batch being recorded: one encoder, one compute pass.
	enc   *wgpu.CommandEncoder
	pass  *wgpu.ComputePassEncoder
	nDisp int

	pool    map[uint64][]*wgpu.Buffer // free storage buffers by byte size
	all     []*wgpu.Buffer            // every storage buffer created, released at Close
	staging *wgpu.Buffer              // map-read buffer for Download, grown on demand
	live    int                       // buffers handed out and not freed (for tests)
}

var _ ops.Device = (*Device)(nil)

// New opens the system's WebGPU adapter (natively the first Vulkan/Metal/DX12 adapter gogpu
// finds, in the browser navigator.gpu's) and creates a device on it.
func New(opts Options) (*Device, error) {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = defaultBatch
	}
	// Primary backends only: Vulkan, Metal, DX12 and the browser's WebGPU. gogpu's OpenGL ES path
	// is a compatibility fallback the kernels are not tested on.
	instance, err := wgpu.CreateInstance(&wgpu.InstanceDescriptor{Backends: wgpu.BackendsPrimary})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoAdapter, err)
	}
	adapter, err := instance.RequestAdapter(&wgpu.RequestAdapterOptions{
		PowerPreference: wgpu.PowerPreferenceHighPerformance,
	})
	if err != nil || adapter == nil {
		instance.Release()
		if err == nil {
			err = errors.New("no adapter returned")
		}
		return nil, fmt.Errorf("%w: %v", ErrNoAdapter, err)
	}
	info := describe(adapterInfo(adapter), adapter.Limits())
	if err := checkAdapter(info, opts.AllowSoftware); err != nil {
		adapter.Release()
		instance.Release()
		return nil, err
	}
	dev, err := adapter.RequestDevice(&wgpu.DeviceDescriptor{
		Label:          "pretune",
		RequiredLimits: requiredLimits(adapter.Limits()),
	})
	if err != nil {
		adapter.Release()
		instance.Release()
		return nil, fmt.Errorf("webgpu: creating a device on %q: %w", info.Name, err)
	}
	info.Limits = limitsOf(dev.Limits())
	d := &Device{
		opts:     opts,
		info:     info,
		instance: instance,
		adapter:  adapter,
		dev:      dev,
		queue:    dev.Queue(),
		kernels:  map[string]*kernel{},
		binds:    map[bindKey]*wgpu.BindGroup{},
		pool:     map[uint64][]*wgpu.Buffer{},
		uniforms: map[uniformKey]*wgpu.Buffer{},

		maxUniforms: maxUniforms,
	}
	return d, nil
}

// describe turns gogpu's adapter info into Info and classifies it.
func describe(ai gputypes.AdapterInfo, l gputypes.Limits) Info {
	info := Info{
		Name:       ai.Name,
		Vendor:     ai.Vendor,
		Driver:     ai.Driver,
		Backend:    ai.Backend.String(),
		DeviceType: ai.DeviceType.String(),
		Limits:     limitsOf(l),
	}
	if ai.DriverInfo != "" {
		info.Driver = strings.TrimSpace(info.Driver + " " + ai.DriverInfo)
	}
	info.Software = ai.DeviceType == gputypes.DeviceTypeCPU || isGoGPUFallback(ai) ||
		containsAny(strings.ToLower(ai.Name+" "+ai.Vendor+" "+ai.Driver+" "+ai.DriverInfo),
			"llvmpipe", "lavapipe", "swiftshader", "softpipe", "software", "microsoft basic render")
	return info
}

// isGoGPUFallback recognises gogpu's pure-Go software adapter, which reports Name "Software
// Renderer", Vendor "GoGPU", Driver "software-1.0" and no real backend.
func isGoGPUFallback(ai gputypes.AdapterInfo) bool {
	return ai.Vendor == "GoGPU" || ai.Driver == "software-1.0" ||
		(ai.Name == "Software Renderer" && ai.Backend == gputypes.BackendEmpty)
}

// checkAdapter refuses the adapters New must not use.
func checkAdapter(info Info, allowSoftware bool) error {
	if info.Vendor == "GoGPU" || strings.HasPrefix(info.Driver, "software-1.0") ||
		(info.Name == "Software Renderer" && info.Backend == gputypes.BackendEmpty.String()) {
		return fmt.Errorf("%w: gogpu's built-in fallback %q (no Vulkan/Metal/DX12 driver found); "+
			"it runs workgroups without real barriers and computes wrong results", ErrSoftwareAdapter, info.Name)
	}
	if info.Software && !allowSoftware {
		return fmt.Errorf("%w: %q emulates a GPU on the CPU and would be slower than the CPU device "+
			"(allow it explicitly to use it anyway)", ErrSoftwareAdapter, info.Name)
	}
	return nil
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func limitsOf(l gputypes.Limits) Limits {
	return Limits{
		MaxStorageBufferBindingSize:       l.MaxStorageBufferBindingSize,
		MaxBufferSize:                     l.MaxBufferSize,
		MaxComputeWorkgroupStorageSize:    l.MaxComputeWorkgroupStorageSize,
		MaxComputeInvocationsPerWorkgroup: l.MaxComputeInvocationsPerWorkgroup,
		MaxComputeWorkgroupsPerDimension:  l.MaxComputeWorkgroupsPerDimension,
		MaxStorageBuffersPerShaderStage:   l.MaxStorageBuffersPerShaderStage,
	}
}

// Name is the fingerprint class, "webgpu/<adapter name>": results are bit-identical on one
// adapter, not across adapters.
func (d *Device) Name() string { return "webgpu/" + d.info.Name }

// Info describes the adapter.
func (d *Device) Info() Info { return d.info }

// Close submits nothing further and releases every GPU resource. The device is unusable after.
func (d *Device) Close() {
	if d.closed {
		return
	}
	d.closed = true
	if d.pass != nil || d.enc != nil {
		d.discardBatch()
	}
	d.dropCaches()
	for _, k := range d.kernels {
		k.release()
	}
	for _, b := range d.all {
		b.Release()
	}
	d.all = nil
	if d.staging != nil {
		d.staging.Release()
	}
	d.binds, d.uniforms, d.kernels, d.pool = nil, nil, nil, nil
	if d.dev != nil {
		d.dev.Release()
	}
	if d.adapter != nil {
		d.adapter.Release()
	}
	if d.instance != nil {
		d.instance.Release()
	}
	if d.err == nil {
		d.err = errors.New("webgpu: device closed")
	}
}

// fail records the first error; later ops do nothing.
func (d *Device) fail(err error) {
	if d.err == nil && err != nil {
		d.err = fmt.Errorf("webgpu: %w", err)
	}
}

// ok reports whether ops may still run.
func (d *Device) ok() bool { return d.err == nil }

//go:build js

package webgpu

import (
	"syscall/js"

	"github.com/gogpu/gputypes"
	"github.com/gogpu/wgpu"
)

// adapterInfo fills in what gogpu's browser adapter leaves out: at v0.31.5 it reports only
// Name "WebGPU Adapter". The browser's GPUAdapter.info (vendor, architecture, device,
// description) is what tells SwiftShader apart from a real GPU, so it is read from a second
// navigator.gpu.requestAdapter() with the same options (browsers return the same adapter).
func adapterInfo(a *wgpu.Adapter) gputypes.AdapterInfo {
	ai := a.Info()
	ai.Backend = gputypes.BackendBrowserWebGPU
	gpu := js.Global().Get("navigator").Get("gpu")
	if gpu.IsUndefined() || gpu.IsNull() {
		return ai
	}
	opts := js.Global().Get("Object").New()
	opts.Set("powerPreference", "high-performance")
	adapter, ok := await(gpu.Call("requestAdapter", opts))
	if !ok || adapter.IsNull() || adapter.IsUndefined() {
		return ai
	}
	if fb := adapter.Get("isFallbackAdapter"); fb.Type() == js.TypeBoolean && fb.Bool() {
		ai.DeviceType = gputypes.DeviceTypeCPU
	}
	info := adapter.Get("info")
	if info.IsUndefined() || info.IsNull() {
		return ai
	}
	// Newer browsers moved isFallbackAdapter from the adapter into its info.
	if fb := info.Get("isFallbackAdapter"); fb.Type() == js.TypeBoolean && fb.Bool() {
		ai.DeviceType = gputypes.DeviceTypeCPU
	}
	str := func(k string) string {
		if v := info.Get(k); v.Type() == js.TypeString {
			return v.String()
		}
		return ""
	}
	vendor, arch, device, desc := str("vendor"), str("architecture"), str("device"), str("description")
	name := desc
	if name == "" {
		name = vendor
		if arch != "" {
			name += " " + arch
		}
		if device != "" {
			name += " " + device
		}
	}
	if name != "" {
		ai.Name = name
	}
	ai.Vendor = vendor
	ai.Driver = arch
	if arch == "swiftshader" || vendor == "google" && device == "swiftshader" {
		ai.DeviceType = gputypes.DeviceTypeCPU
	}
	return ai
}

// await blocks the calling goroutine (never a JS callback) until the promise settles; the Go
// runtime keeps serving the event loop meanwhile.
func await(p js.Value) (js.Value, bool) {
	type result struct {
		v  js.Value
		ok bool
	}
	ch := make(chan result, 1)
	then := js.FuncOf(func(_ js.Value, args []js.Value) any {
		v := js.Undefined()
		if len(args) > 0 {
			v = args[0]
		}
		ch <- result{v, true}
		return nil
	})
	catch := js.FuncOf(func(_ js.Value, _ []js.Value) any {
		ch <- result{js.Undefined(), false}
		return nil
	})
	defer then.Release()
	defer catch.Release()
	p.Call("then", then, catch)
	r := <-ch
	return r.v, r.ok
}

// requiredLimits asks for the adapter's storage binding and buffer sizes (beyond WebGPU's
// default 128 MiB / 256 MiB where it allows); gogpu's browser backend sends only the non-zero
// fields, so every other limit stays at its default.
func requiredLimits(adapter gputypes.Limits) gputypes.Limits {
	return gputypes.Limits{
		MaxStorageBufferBindingSize: adapter.MaxStorageBufferBindingSize,
		MaxBufferSize:               adapter.MaxBufferSize,
	}
}

// transferBarrier does nothing in the browser: WebGPU orders copies and dispatches itself.
func (d *Device) transferBarrier() error { return nil }

// writeBuffer copies raw into dst at off: the browser's queue.writeBuffer is ordered after the
// work submitted before it and before the work submitted after, as WebGPU specifies.
func (d *Device) writeBuffer(dst *wgpu.Buffer, off uint64, raw []byte) error {
	return d.queue.WriteBuffer(dst, off, raw)
}

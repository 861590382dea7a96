//go:build js && wasm

// Command wasm is pretune's trainer, compiled to web/trainer.wasm and started in a Web Worker by
// web/worker.js. It hands the page's requests to wasm/worker, which answers them (core/protocol),
// and posts the answers back: training in a worker never freezes the page. Only the browser's
// side lives here: the JS callback, postMessage, and WebGPU as the device.
package main

import (
	"syscall/js"

	"pretune/core/ops"
	"pretune/core/protocol"
	"pretune/wasm/worker"
	"pretune/webgpu"
)

func main() {
	h := worker.New(open, post).WithHelpers(spawnHelper)
	serveShards(h)
	js.Global().Set("pretuneRequest", js.FuncOf(func(this js.Value, args []js.Value) any {
		if len(args) == 0 {
			return nil
		}
		data := args[0].String()
		go h.Handle([]byte(data)) // never block inside a JS callback
		return nil
	}))
	post(protocol.Message{Kind: protocol.Ready})
	select {}
}

// post sends one message to the page.
func post(m protocol.Message) {
	js.Global().Call("postMessage", m.Encode())
}

// open picks a request's device (webgpu.Select) and describes it for the page, with a WebGPU
// adapter's limits.
func open(name string) (ops.Device, protocol.DeviceInfo, error) {
	dev, fallback, err := webgpu.Select(name)
	if err != nil {
		return nil, protocol.DeviceInfo{}, err
	}
	info := protocol.DeviceInfo{Name: dev.Name(), Fallback: fallback}
	if _, cpu := dev.(*ops.CPU); cpu {
		info.Kernel = ops.CPUKernel()
	}
	if g, ok := dev.(*webgpu.Device); ok {
		info.MaxBufferMiB = g.MaxBufferElements() * 4 >> 20
		info.WorkgroupKiB = int(g.Info().Limits.MaxComputeWorkgroupStorageSize >> 10)
	}
	return dev, info, nil
}

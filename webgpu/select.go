package webgpu

import (
	"errors"
	"fmt"

	"pretune/core/ops"
)

// Select opens the device a run asks for (core/runspec's device choices) and says why, when it
// had to use another one:
//   - "cpu": the CPU device.
//   - "webgpu": this package's device on any real or CPU-emulated adapter (an explicit request
//     accepts lavapipe and SwiftShader); an error if there is none.
//   - "auto" or "": the WebGPU device on a real GPU, else the CPU device with fallback saying why
//     (no adapter, or a software one that would be slower than the CPU).
func Select(choice string) (dev ops.Device, fallback string, err error) {
	switch choice {
	case "cpu":
		return ops.NewCPU(), "", nil
	case "webgpu":
		d, err := New(Options{AllowSoftware: true})
		if err != nil {
			return nil, "", err
		}
		return d, "", nil
	case "", "auto":
		d, err := New(Options{})
		switch {
		case err == nil:
			return d, "", nil
		case errors.Is(err, ErrSoftwareAdapter):
			return ops.NewCPU(), "the WebGPU adapter runs on the CPU and would be slower than the CPU device: " + err.Error(), nil
		default:
			return ops.NewCPU(), "no usable WebGPU: " + err.Error(), nil
		}
	}
	return nil, "", fmt.Errorf("webgpu: unknown device %q (want auto, cpu or webgpu)", choice)
}

package webgpu

// See backends_linux.go. DX12 is left out too: it needs golang.org/x/sys/windows, absent from
// go.sum; Vulkan covers Windows GPUs.
import _ "github.com/gogpu/wgpu/hal/vulkan"

package webgpu

// See backends_linux.go: Metal, and Vulkan through MoltenVK.
import (
	_ "github.com/gogpu/wgpu/hal/metal"
	_ "github.com/gogpu/wgpu/hal/vulkan"
)

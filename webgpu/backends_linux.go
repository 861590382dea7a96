package webgpu

// Native builds must register gogpu's HAL backends. hal/allbackends would also register gogpu's
// pure-Go software adapter, which New refuses anyway and whose package needs golang.org/x/sys
// (absent from go.sum), and OpenGL ES, which New does not ask for; so each OS imports its
// primary backends directly.
import _ "github.com/gogpu/wgpu/hal/vulkan"

package webgpu

import (
	"errors"
	"fmt"
	"math"
	"os"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/testenv"
	"pretune/shaders"
)

var (
	sharedOnce sync.Once
	sharedDev  *Device
	sharedErr  error
)

// testDevice returns one device shared by the package's tests (creating a Vulkan device and
// compiling kernels costs seconds on lavapipe). A machine without a Vulkan adapter ends the test
// by noAdapter's rule; any other failure fails the test.
func testDevice(t testing.TB) *Device {
	t.Helper()
	sharedOnce.Do(func() {
		sharedDev, sharedErr = newTestDevice(Options{AllowSoftware: true})
	})
	noAdapter(t, sharedErr)
	require.NoError(t, sharedErr)
	return sharedDev
}

// noAdapterHint says what is missing and how to install it.
const noAdapterHint = "no Vulkan adapter on this machine (apt-get install mesa-vulkan-drivers libvulkan1 for lavapipe; .ci/run does)"

// noAdapter ends the test when err says the machine has no Vulkan adapter: it fails where the
// WebGPU tests are required (make test, CI) and skips elsewhere (core/testenv's rule).
func noAdapter(t testing.TB, err error) {
	t.Helper()
	if errors.Is(err, ErrNoAdapter) {
		testenv.Missing(t, testenv.Vulkan, fmt.Sprintf("%s: %v", noAdapterHint, err))
	}
}

// newTestDevice opens a device with XDG_RUNTIME_DIR pointing at a writable folder (Mesa warns
// without one).
func newTestDevice(opts Options) (*Device, error) {
	if os.Getenv("XDG_RUNTIME_DIR") == "" {
		dir, err := os.MkdirTemp("", "xdg")
		if err == nil {
			_ = os.Chmod(dir, 0o700)
			os.Setenv("XDG_RUNTIME_DIR", dir)
		}
	}
	return New(opts)
}

// rng is a small seeded generator for test inputs (xorshift64*), so inputs do not depend on
// math/rand's global state.
type rng uint64

func (r *rng) next() uint64 {
	x := uint64(*r)
	x ^= x >> 12
	x ^= x << 25
	x ^= x >> 27
	*r = rng(x)
	return x * 2685821657736338717
}

// uniform returns n values in [-1, 1).
func (r *rng) uniform(n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(r.next()>>40)/float32(1<<24)*2 - 1
	}
	return out
}

// close reports the first index where |got-want| > atol + rtol·|want|, or -1.
func mismatch(got, want []float32, atol, rtol float64) int {
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		if math.IsNaN(g) != math.IsNaN(w) || math.Abs(g-w) > atol+rtol*math.Abs(w) {
			return i
		}
	}
	return -1
}

// requireClose fails with the first mismatching index and values.
func requireClose(t testing.TB, got, want []float32, atol, rtol float64) {
	t.Helper()
	require.Len(t, got, len(want))
	if i := mismatch(got, want, atol, rtol); i >= 0 {
		bad := 0
		for j := range want {
			if mismatch(got[j:j+1], want[j:j+1], atol, rtol) >= 0 {
				bad++
			}
		}
		t.Fatalf("%d of %d values differ; first at %d: got %g, want %g (atol %g, rtol %g)",
			bad, len(want), i, got[i], want[i], atol, rtol)
	}
}

// upload allocates a buffer holding vals.
func upload(t testing.TB, d *Device, vals []float32) *buffer {
	t.Helper()
	b := d.Alloc(len(vals)).(*buffer)
	d.Upload(b, vals)
	return b
}

// download reads a buffer back, failing the test on a device error.
func download(t testing.TB, d *Device, b *buffer) []float32 {
	t.Helper()
	out := make([]float32, b.Len())
	require.NoError(t, d.Download(b, out))
	return out
}

// shaderNames lists every kernel in package shaders.
func shaderNames() []string { return shaders.Names() }

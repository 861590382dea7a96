package webgpu

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/testenv"
)

// TestSelect checks the device choices on this machine: with lavapipe (CI) auto must fall back
// to the CPU and webgpu must take it; with no adapter at all, auto falls back saying so and
// webgpu fails with ErrNoAdapter.
func TestSelect(t *testing.T) {
	dev, fallback, err := Select("cpu")
	require.NoError(t, err)
	require.Equal(t, "cpu", dev.Name())
	require.Empty(t, fallback)

	_, _, err = Select("tpu")
	require.ErrorContains(t, err, "tpu")

	d, err := newTestDevice(Options{AllowSoftware: true})
	if errors.Is(err, ErrNoAdapter) {
		dev, fallback, err = Select("auto")
		require.NoError(t, err)
		require.Equal(t, "cpu", dev.Name())
		require.Contains(t, fallback, "no GPU adapter")
		_, _, err = Select("webgpu")
		require.ErrorIs(t, err, ErrNoAdapter)
		if testenv.Required(testenv.Vulkan) {
			t.Fatalf("%s: the fallback works, but the WebGPU tests are required here", noAdapterHint)
		}
		return
	}
	require.NoError(t, err)
	defer d.Close()

	dev, fallback, err = Select("webgpu")
	require.NoError(t, err)
	require.Equal(t, d.Name(), dev.Name())
	require.Empty(t, fallback)
	dev.(*Device).Close()

	dev, fallback, err = Select("auto")
	require.NoError(t, err)
	if d.Info().Software {
		require.Equal(t, "cpu", dev.Name())
		require.Contains(t, fallback, "slower than the CPU")
	} else {
		require.Equal(t, d.Name(), dev.Name())
		require.Empty(t, fallback)
		dev.(*Device).Close()
	}
}

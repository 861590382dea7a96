package webgpu

import (
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/ops"
)

// requireHardware is set by .ci/device-bench on a machine lent with a real GPU: the benchmarks'
// figures are only worth reporting from a hardware adapter, so the script runs TestRealAdapter
// first and stops if it fails.
var requireHardware = os.Getenv("PRETUNE_REQUIRE_HARDWARE") != ""

// TestRealAdapter opens the adapter as `-device auto` would (software adapters refused) and logs
// what it is. It runs only when PRETUNE_REQUIRE_HARDWARE is set.
func TestRealAdapter(t *testing.T) {
	if !requireHardware {
		t.Skip("set PRETUNE_REQUIRE_HARDWARE=1 on a machine with a GPU (.ci/device-bench does)")
	}
	d, err := newTestDevice(Options{})
	require.NoError(t, err, "no hardware WebGPU adapter: refusing to report GPU figures")
	defer d.Close()
	info := d.Info()
	t.Logf("adapter %q vendor %q driver %q backend %s type %s; max storage binding %d MiB",
		info.Name, info.Vendor, info.Driver, info.Backend, info.DeviceType, info.Limits.MaxStorageBufferBindingSize>>20)
	require.False(t, info.Software)
}

// BenchmarkMatMulLarge measures the tiled kernel from 1024 to 4096, where a real GPU should pass
// a quarter of its fp32 peak. Software adapters would take minutes, so it needs
// PRETUNE_REQUIRE_HARDWARE.
//
//	PRETUNE_REQUIRE_HARDWARE=1 go test -run '^$' -bench MatMulLarge -benchtime 10x ./webgpu/
func BenchmarkMatMulLarge(b *testing.B) {
	if !requireHardware {
		b.Skip("set PRETUNE_REQUIRE_HARDWARE=1 on a machine with a GPU")
	}
	d, err := newTestDevice(Options{})
	require.NoError(b, err)
	defer d.Close()
	for _, n := range []int{1024, 2048, 4096} {
		for _, layout := range []struct {
			name   string
			ta, tb bool
		}{{"NN", false, false}, {"NT", false, true}, {"TN", true, false}} {
			p := ops.MatMulArgs{M: n, N: n, K: n, TransA: layout.ta, TransB: layout.tb}
			b.Run(fmt.Sprintf("%s/%d", layout.name, n), func(b *testing.B) {
				a, bv, _ := matmulInputs(p, 1)
				ga, gb, gc := upload(b, d, a), upload(b, d, bv), d.Alloc(n*n).(*buffer)
				defer func() { d.Free(ga); d.Free(gb); d.Free(gc) }()
				d.MatMul(gc, ga, gb, p)
				_ = download(b, d, gc)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					d.MatMul(gc, ga, gb, p)
				}
				_ = download(b, d, gc)
				b.ReportMetric(2*float64(n)*float64(n)*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

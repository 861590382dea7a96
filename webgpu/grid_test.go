package webgpu

import (
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/ops"
)

// TestGridSplit checks the ops whose work exceeds one grid dimension (65535 workgroups): an
// elementwise op over more than 65535·256 values and a row op over more than 65535 rows are
// split across x and y and must still cover every element exactly once.
func TestGridSplit(t *testing.T) {
	for _, c := range []struct {
		n, wg        int
		wantX, wantY int
	}{
		{1, 256, 1, 1},
		{65535 * 256, 256, 65535, 1},
		{65535*256 + 1, 256, 32768, 2},
		{70000, 1, 35000, 2},
	} {
		x, y := grid1(c.n, c.wg)
		require.Equal(t, [2]int{c.wantX, c.wantY}, [2]int{x, y}, "n=%d", c.n)
		require.GreaterOrEqual(t, x*y*c.wg, c.n)
	}

	d := testDevice(t)
	t.Run("elementwise", func(t *testing.T) {
		n := 65535*256 + 300
		vals := make([]float32, n)
		for i := range vals {
			vals[i] = float32(i % 1000)
		}
		x := upload(t, d, vals)
		d.Scale(x, n, 2)
		got := download(t, d, x)
		d.Free(x)
		for i := range vals {
			if got[i] != 2*vals[i] {
				t.Fatalf("value %d: got %g, want %g", i, got[i], 2*vals[i])
			}
		}
	})
	t.Run("rows", func(t *testing.T) {
		const N, C = 70001, 3
		r := rng(11)
		xv, wv, bv := r.uniform(N*C), r.uniform(C), r.uniform(C)
		cpu := ops.NewCPU()
		want := make([][]float32, 3)
		{
			out, mean, rstd := cpu.Alloc(N*C), cpu.Alloc(N), cpu.Alloc(N)
			x, w, b := cpu.Alloc(N*C), cpu.Alloc(C), cpu.Alloc(C)
			cpu.Upload(x, xv)
			cpu.Upload(w, wv)
			cpu.Upload(b, bv)
			cpu.LayerNorm(out, mean, rstd, x, w, b, N, C)
			for i, buf := range []ops.Buf{out, mean, rstd} {
				want[i] = make([]float32, buf.Len())
				require.NoError(t, cpu.Download(buf, want[i]))
			}
		}
		out, mean, rstd := d.Alloc(N*C), d.Alloc(N), d.Alloc(N)
		x, w, b := upload(t, d, xv), upload(t, d, wv), upload(t, d, bv)
		d.LayerNorm(out, mean, rstd, x, w, b, N, C)
		for i, buf := range []ops.Buf{out, mean, rstd} {
			requireClose(t, download(t, d, buf.(*buffer)), want[i], 1e-5, 1e-4)
		}
		for _, buf := range []ops.Buf{out, mean, rstd, x, w, b} {
			d.Free(buf)
		}
	})
}

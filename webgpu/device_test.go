package webgpu

import (
	"math"
	"strings"
	"testing"

	"github.com/gogpu/gputypes"
	"github.com/stretchr/testify/require"

	"pretune/core/ops"
)

// TestAdapterClassification feeds describe and checkAdapter the adapter infos that matter: gogpu's
// own fallback (refused always), CPU emulations (refused unless allowed) and real GPUs.
func TestAdapterClassification(t *testing.T) {
	cases := []struct {
		name     string
		info     gputypes.AdapterInfo
		software bool
		refused  bool // without AllowSoftware
		always   bool // refused even with AllowSoftware
	}{
		{"gogpu fallback", gputypes.AdapterInfo{Name: "Software Renderer", Vendor: "GoGPU", Driver: "software-1.0",
			DeviceType: gputypes.DeviceTypeCPU, Backend: gputypes.BackendEmpty}, true, true, true},
		{"gogpu fallback, other device type", gputypes.AdapterInfo{Name: "Software Renderer", Vendor: "GoGPU",
			Driver: "software-1.0", DeviceType: gputypes.DeviceTypeOther, Backend: gputypes.BackendEmpty}, true, true, true},
		{"lavapipe", gputypes.AdapterInfo{Name: "llvmpipe (LLVM 15.0.6, 256 bits)", Vendor: "0x10005", Driver: "Vulkan",
			DriverInfo: "Vulkan 1.3.230", DeviceType: gputypes.DeviceTypeCPU, Backend: gputypes.BackendVulkan}, true, true, false},
		{"llvmpipe reported as other", gputypes.AdapterInfo{Name: "llvmpipe (LLVM 17.0.6, 256 bits)",
			DeviceType: gputypes.DeviceTypeOther, Backend: gputypes.BackendVulkan}, true, true, false},
		{"swiftshader", gputypes.AdapterInfo{Name: "google swiftshader", Vendor: "google", Driver: "swiftshader",
			Backend: gputypes.BackendBrowserWebGPU}, true, true, false},
		{"discrete GPU", gputypes.AdapterInfo{Name: "NVIDIA GeForce RTX 4090", Vendor: "NVIDIA", Driver: "550.54",
			DeviceType: gputypes.DeviceTypeDiscreteGPU, Backend: gputypes.BackendVulkan}, false, false, false},
		{"integrated GPU", gputypes.AdapterInfo{Name: "Intel(R) Iris(R) Xe Graphics", Vendor: "Intel",
			DeviceType: gputypes.DeviceTypeIntegratedGPU, Backend: gputypes.BackendVulkan}, false, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			info := describe(c.info, gputypes.DefaultLimits())
			require.Equal(t, c.software, info.Software)
			err := checkAdapter(info, false)
			require.Equal(t, c.refused, err != nil, "without AllowSoftware: %v", err)
			if err != nil {
				require.ErrorIs(t, err, ErrSoftwareAdapter)
			}
			err = checkAdapter(info, true)
			require.Equal(t, c.always, err != nil, "with AllowSoftware: %v", err)
		})
	}
}

// TestNew checks the device on this machine's adapter: its name, info and that `auto`'s
// options (no AllowSoftware) refuse lavapipe.
func TestNew(t *testing.T) {
	d := testDevice(t)
	info := d.Info()
	t.Logf("%s: %+v", d.Name(), info)
	require.NotEmpty(t, info.Name)
	require.Equal(t, "webgpu/"+info.Name, d.Name())
	require.GreaterOrEqual(t, info.Limits.MaxStorageBufferBindingSize, uint64(128<<20))
	require.GreaterOrEqual(t, info.Limits.MaxComputeInvocationsPerWorkgroup, uint32(256))
	if info.Software {
		_, err := newTestDevice(Options{})
		require.ErrorIs(t, err, ErrSoftwareAdapter)
		require.Contains(t, err.Error(), info.Name)
	}
}

// TestBuffers checks round trips, int32 buffers, zeroed allocation (fresh and recycled from the
// pool), Copy/Zero, Upload ordering and length errors.
func TestBuffers(t *testing.T) {
	d := testDevice(t)
	t.Run("roundtrip", func(t *testing.T) {
		for _, n := range []int{1, 3, 4, 1000, 65536*4 + 3} {
			r := rng(n)
			vals := r.uniform(n)
			vals[0] = float32(math.Inf(-1))
			b := upload(t, d, vals)
			got := download(t, d, b)
			d.Free(b)
			for i := range vals {
				require.Equal(t, math.Float32bits(vals[i]), math.Float32bits(got[i]), "n=%d i=%d", n, i)
			}
		}
	})
	t.Run("ints", func(t *testing.T) {
		vals := []int32{0, -1, 7, math.MaxInt32, math.MinInt32}
		b := d.AllocInts(len(vals))
		d.UploadInts(b, vals)
		got := make([]int32, len(vals))
		require.NoError(t, d.DownloadInts(b, got))
		require.Equal(t, vals, got)
		d.Free(b)
	})
	t.Run("alloc zeroes recycled buffers", func(t *testing.T) {
		n := 1537
		r5 := rng(5)
		b := upload(t, d, r5.uniform(n))
		_ = download(t, d, b)
		gpu := b.gpu
		d.Free(b)
		c := d.Alloc(n).(*buffer)
		require.Same(t, gpu, c.gpu, "the pool should hand back the freed buffer")
		require.Equal(t, make([]float32, n), download(t, d, c))
		d.Free(c)
	})
	t.Run("zero and copy", func(t *testing.T) {
		r6 := rng(6)
		src := r6.uniform(300)
		a, b := upload(t, d, src), upload(t, d, r6.uniform(300))
		d.Copy(b, a)
		d.Zero(a)
		require.Equal(t, src, download(t, d, b))
		require.Equal(t, make([]float32, 300), download(t, d, a))
		d.Free(a)
		d.Free(b)
	})
	t.Run("upload after recorded ops", func(t *testing.T) {
		// The Scale is recorded before the second Upload, so it must see the first values.
		x := upload(t, d, []float32{1, 2, 3})
		y := d.Alloc(3)
		d.Copy(y, x)
		d.Scale(y, 3, 10)
		d.Upload(x, []float32{7, 8, 9})
		d.Add(y, y, x, 3)
		require.Equal(t, []float32{17, 28, 39}, download(t, d, y.(*buffer)))
		d.Free(x)
		d.Free(y)
	})
	t.Run("add aliasing", func(t *testing.T) {
		a := upload(t, d, []float32{1, 2, 3})
		b := upload(t, d, []float32{10, 20, 30})
		d.Add(a, a, b, 3) // a = 11 22 33
		d.Add(b, a, b, 3) // b = 21 42 63
		d.Add(a, a, a, 3) // a = 22 44 66
		require.Equal(t, []float32{22, 44, 66}, download(t, d, a))
		require.Equal(t, []float32{21, 42, 63}, download(t, d, b))
		d.Free(a)
		d.Free(b)
	})
	t.Run("length errors", func(t *testing.T) {
		b := d.Alloc(4)
		require.Error(t, d.Download(b, make([]float32, 3)))
		require.Panics(t, func() { d.Upload(b, make([]float32, 5)) })
		require.Panics(t, func() { d.UploadInts(b, make([]int32, 4)) })
		d.Free(b)
		require.NoError(t, d.Flush())
	})
}

// TestFailureIsSticky checks that after a failure every op is a no-op and Flush and Download
// return the first error; and that a closed device reports itself closed.
func TestFailureIsSticky(t *testing.T) {
	d, err := newTestDevice(Options{AllowSoftware: true})
	noAdapter(t, err)
	require.NoError(t, err)
	defer d.Close()
	x := upload(t, d, []float32{1, 2})
	// A grid past the per-dimension limit is refused on the host and recorded as the failure.
	d.dispatch("scale", []*buffer{x}, u32s{2, f(3)}, 1<<20, 1, 1)
	first := d.Flush()
	require.Error(t, first)
	require.Contains(t, first.Error(), "exceeds")
	d.Scale(x, 2, 5)
	require.Equal(t, first, d.Flush())
	require.Equal(t, first, d.Download(x, make([]float32, 2)))

	d2, err := newTestDevice(Options{AllowSoftware: true})
	require.NoError(t, err)
	y := upload(t, d2, []float32{1})
	d2.Close()
	require.ErrorContains(t, d2.Download(y, make([]float32, 1)), "closed")
	d2.Close() // twice is fine
}

// trainingLikeRun records a chain of ops that covers every kernel, over several batches, and
// returns the bits of every result.
func trainingLikeRun(t *testing.T, d ops.Device) []uint32 {
	up := func(vals []float32) ops.Buf {
		b := d.Alloc(len(vals))
		d.Upload(b, vals)
		return b
	}
	const B, T, C, V, H = 2, 13, 24, 37, 3
	D := C / H
	r := rng(99)
	ids := make([]int32, B*T)
	for i := range ids {
		ids[i] = int32(r.next() % V)
	}
	idb := d.AllocInts(B * T)
	d.UploadInts(idb, ids)
	wte, wpe := up(r.uniform(V*C)), up(r.uniform(T*C))
	w, bias := up(r.uniform(C)), up(r.uniform(C))
	x, ln, mean, rstd := d.Alloc(B*T*C), d.Alloc(B*T*C), d.Alloc(B*T), d.Alloc(B*T)
	h, s, p := d.Alloc(B*T*C), d.Alloc(B*H*T*T), d.Alloc(B*H*T*T)
	h2 := up(r.uniform(B * H * T * T))
	logits, probs, losses := d.Alloc(B*T*V), d.Alloc(B*T*V), d.Alloc(B*T)
	weights := up(r.uniform(B * T))
	dl, dx, dw, db := d.Alloc(B*T*V), d.Alloc(B*T*C), d.Alloc(C), d.Alloc(C)
	dwte, dwpe, m, v, norm := d.Alloc(V*C), d.Alloc(T*C), d.Alloc(V*C), d.Alloc(V*C), d.Alloc(2)
	d.Embed(x, idb, wte, wpe, B, T, C)
	d.LayerNorm(ln, mean, rstd, x, w, bias, B*T, C)
	d.SplitHeads(h, ln, B, T, H, D)
	d.MatMul(s, h, h, ops.MatMulArgs{M: T, N: T, K: D, TransB: true, Batch: B * H, StrideA: T * D, StrideB: T * D, StrideC: T * T})
	d.AttnSoftmax(p, s, B*H, T, T, 0.3, ops.Causal)
	d.MatMul(h, p, ln, ops.MatMulArgs{M: T, N: D, K: T, Batch: B * H, StrideA: T * T, StrideB: T * D, StrideC: T * D})
	d.MergeHeads(x, h, B, T, H, D)
	d.GELU(ln, x, B*T*C)
	d.Dropout(x, ln, B*T*C, 0.2, ops.DropoutKey{Seed: 5, Step: 1, Site: 2})
	d.MatMul(logits, x, wte, ops.MatMulArgs{M: B * T, N: V, K: C, TransB: true})
	d.AddBias(logits, wpe, B*T, V)
	d.CrossEntropy(losses, probs, logits, idb, weights, B*T, V)
	d.CrossEntropyBackward(dl, probs, idb, weights, B*T, V, 0.1)
	d.AddBiasBackward(dwpe, dl, B*T, V)
	d.MatMul(dx, dl, wte, ops.MatMulArgs{M: B * T, N: C, K: V})
	d.MatMul(dwte, dl, x, ops.MatMulArgs{M: V, N: C, K: B * T, TransA: true, Accumulate: true})
	d.DropoutBackward(ln, dx, B*T*C, 0.2, ops.DropoutKey{Seed: 5, Step: 1, Site: 2})
	d.GELUBackward(dx, x, ln, B*T*C)
	d.AttnSoftmaxBackward(s, p, h2, B*H, T, T, 0.3)
	d.LayerNormBackward(ln, dw, db, dx, x, w, mean, rstd, B*T, C)
	d.EmbedBackward(dwte, dwpe, ln, idb, B, T, C)
	d.SumSquares(norm, 1, dwte, V*C)
	d.AdamW(wte, dwte, m, v, V*C, ops.AdamWArgs{LR: 1e-2, Beta1: 0.9, Beta2: 0.99, Eps: 1e-8,
		WeightDecay: 0.1, BiasCorr1: 0.1, BiasCorr2: 0.01, GradScale: 0.5})
	var bits []uint32
	for _, b := range []ops.Buf{wte, dwpe, dw, db, s, losses, norm, m, v} {
		vals := make([]float32, b.Len())
		require.NoError(t, d.Download(b, vals))
		for _, x := range vals {
			require.False(t, math.IsNaN(float64(x)), "NaN in the run")
			bits = append(bits, math.Float32bits(x))
		}
	}
	for _, b := range []ops.Buf{idb, wte, wpe, w, bias, x, ln, mean, rstd, h, h2, s, p, logits, probs, losses,
		weights, dl, dx, dw, db, dwte, dwpe, m, v, norm} {
		d.Free(b)
	}
	return bits
}

// TestDeterministic runs the same chain of ops twice on one device and on a second device that
// submits every 3 dispatches: the bits must be identical (fixed reduction orders, no atomics,
// batching invisible). The first run on a fresh device also checks the chain against the CPU
// device (it caught gogpu handing out new buffers that were not zeroed).
func TestDeterministic(t *testing.T) {
	d, err := newTestDevice(Options{AllowSoftware: true})
	noAdapter(t, err)
	require.NoError(t, err)
	defer d.Close()
	first := trainingLikeRun(t, d)
	want := trainingLikeRun(t, ops.NewCPU())
	got := make([]float32, len(first))
	cpu := make([]float32, len(want))
	for i := range first {
		got[i], cpu[i] = math.Float32frombits(first[i]), math.Float32frombits(want[i])
	}
	requireClose(t, got, cpu, 1e-4, 1e-3)
	requireSameBits(t, "second run", first, trainingLikeRun(t, d))

	small, err := newTestDevice(Options{AllowSoftware: true, MaxBatch: 3})
	require.NoError(t, err)
	defer small.Close()
	requireSameBits(t, "run in batches of 3", first, trainingLikeRun(t, small))
	require.Equal(t, 0, small.live, "every buffer freed")
}

// TestKernelConventions compiles every kernel on the device: the pipelines build and the layouts
// derived from the sources are accepted.
func TestKernelConventions(t *testing.T) {
	d, err := newTestDevice(Options{AllowSoftware: true})
	noAdapter(t, err)
	require.NoError(t, err)
	defer d.Close()
	for _, name := range shaderNames() {
		t.Run(name, func(t *testing.T) {
			require.NotNil(t, d.kernel(name), "%v", d.err)
		})
	}
	require.NoError(t, d.Flush())
	require.False(t, strings.Contains(d.Name(), "GoGPU"))
}

// requireSameBits compares two runs' bits, naming the first difference (not the whole arrays).
func requireSameBits(t *testing.T, what string, want, got []uint32) {
	t.Helper()
	require.Len(t, got, len(want), what)
	for i := range want {
		if want[i] != got[i] {
			t.Fatalf("%s differs first at value %d: %#x, want %#x", what, i, got[i], want[i])
		}
	}
}

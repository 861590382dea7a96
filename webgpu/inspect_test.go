package webgpu

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core"
	"pretune/core/ops"
)

// TestInspectAgreesWithTheCPU looks inside the same model on WebGPU and on the CPU device: the
// next tokens, every head's attention map (read back from the GPU's attention buffers, packed
// for a prompt shorter than the context) and a text's token probabilities, past the context too,
// agree within float32 re-association.
func TestInspectAgreesWithTheCPU(t *testing.T) {
	d := testDevice(t)
	tk, err := core.NewTokenizer("abcdefghij klmno.")
	require.NoError(t, err)
	cfg := core.DefaultConfig()
	cfg.Vocab, cfg.Context, cfg.Layers, cfg.Heads, cfg.Dim, cfg.Batch = tk.VocabSize(), 12, 2, 4, 16, 3
	models := [2]*core.Model{}
	for i, dev := range []ops.Device{ops.NewCPU(), d} {
		m, err := core.NewModel(dev, cfg)
		require.NoError(t, err)
		defer m.Free()
		// The same weights on both, far from the initialisation, so attention is not uniform.
		r := rand.New(rand.NewPCG(3, 4))
		for _, p := range m.Params {
			w := make([]float32, p.Size())
			for j := range w {
				w[j] = float32(r.NormFloat64() * 0.4)
			}
			dev.Upload(p.W, w)
		}
		models[i] = m
	}
	cpu, gpu := models[0], models[1]

	want, err := cpu.Inspect(tk, "hello, a fine cab", 5)
	require.NoError(t, err)
	got, err := gpu.Inspect(tk, "hello, a fine cab", 5)
	require.NoError(t, err)
	require.Equal(t, want.Tokens, got.Tokens)
	require.Equal(t, want.Cut, got.Cut)
	for i := range want.Next {
		require.Equal(t, want.Next[i].ID, got.Next[i].ID, "rank %d", i)
		require.InDelta(t, want.Next[i].Prob, got.Next[i].Prob, 1e-4)
	}
	for l := range want.Attention {
		for h := range want.Attention[l] {
			for q := range want.Attention[l][h] {
				for k, p := range want.Attention[l][h][q] {
					require.InDelta(t, p, got.Attention[l][h][q][k], 1e-4, "layer %d head %d [%d,%d]", l, h, q, k)
				}
			}
		}
	}

	text := "a bad hid jig, feed me a cold one." // 34 characters: past the context of 12
	wantP, err := cpu.TokenProbs(tk, text)
	require.NoError(t, err)
	gotP, err := gpu.TokenProbs(tk, text)
	require.NoError(t, err)
	require.Len(t, gotP, len(wantP))
	for i := range wantP {
		require.InDelta(t, wantP[i].Prob, gotP[i].Prob, 1e-4+1e-3*float64(wantP[i].Prob), "token %d", i+1)
	}
	require.NoError(t, d.Flush())
}

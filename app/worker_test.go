package app

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDeltasThroughFloat64: decodeMessage's browser path reads a LoRA update's numbers with
// JSON.parse (a float64 each) and Float32Array (rounded to float32); Go's encoding/json parses
// the worker's shortest float32 digits straight to float32. Both give the worker's float32 back,
// here for a million random finite float32s and the edges.
func TestDeltasThroughFloat64(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	xs := []float32{0, 1, -1, math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, 1.1754942e-38, 1.1754944e-38, 0.1, 1e-7, 16777217}
	for len(xs) < 1_000_000 {
		x := math.Float32frombits(r.Uint32())
		if !math.IsNaN(float64(x)) && !math.IsInf(float64(x), 0) {
			xs = append(xs, x)
		}
	}
	for _, x := range xs {
		s := strconv.FormatFloat(float64(x), 'g', -1, 32) // the digits encoding/json writes
		f, err := strconv.ParseFloat(s, 64)               // JSON.parse
		require.NoError(t, err)
		if float32(f) != x { // Float32Array's rounding
			t.Fatalf("%v (%s) came back as %v", x, s, float32(f))
		}
	}
}

// TestDeltasFromBytes: the Float32Array's bytes (little-endian) read back as the numbers.
func TestDeltasFromBytes(t *testing.T) {
	want := []float32{1.5, -2, 0, float32(math.Inf(1)), 3e-9}
	b := make([]byte, 4*len(want))
	for i, x := range want {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	require.Equal(t, want, deltasFromBytes(b))
	require.Empty(t, deltasFromBytes(nil))
}

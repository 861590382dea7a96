package core

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRNGStreamsAreSeparateAndRepeatable(t *testing.T) {
	a, b := NewRNG(1, StreamInit), NewRNG(1, StreamInit)
	c := NewRNG(1, StreamData)
	d := NewRNG(2, StreamInit)
	same, diffStream, diffSeed := true, 0, 0
	for i := 0; i < 100; i++ {
		x := a.Uint64()
		same = same && x == b.Uint64()
		if x != c.Uint64() {
			diffStream++
		}
		if x != d.Uint64() {
			diffSeed++
		}
	}
	require.True(t, same, "same seed and stream must repeat")
	require.Equal(t, 100, diffStream)
	require.Equal(t, 100, diffSeed)
}

func TestRNGDistributions(t *testing.T) {
	r := NewRNG(7, "test")
	const n = 200000
	var sum, sumSq float64
	counts := make([]int, 10)
	for i := 0; i < n; i++ {
		u := r.Float32()
		require.True(t, u >= 0 && u < 1)
		counts[r.Intn(10)]++
		z := float64(r.Normal())
		sum += z
		sumSq += z * z
	}
	for k, c := range counts {
		// Binomial(n, 0.1): sd ≈ 134; allow 5 sd.
		require.InDelta(t, n/10, c, 700, "bucket %d", k)
	}
	mean := sum / n
	require.InDelta(t, 0, mean, 0.01)
	require.InDelta(t, 1, math.Sqrt(sumSq/n-mean*mean), 0.01)
}

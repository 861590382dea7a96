package fingerprint

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestOf(t *testing.T) {
	losses := []float64{4.17, 3.5, 2.25}
	const wh = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	fp := Of("cpu", losses, wh)

	// The documented bytes, written another way: binary.Write of the float64s, then the hash.
	var buf bytes.Buffer
	require.NoError(t, binary.Write(&buf, binary.LittleEndian, losses))
	buf.WriteString(wh)
	sum := sha256.Sum256(buf.Bytes())
	require.Equal(t, "cpu:"+hex.EncodeToString(sum[:])[:12], fp)

	class, h, err := Parse(fp)
	require.NoError(t, err)
	require.Equal(t, "cpu", class)
	require.Len(t, h, 12)
	require.Equal(t, fp, Of("cpu", []float64{4.17, 3.5, 2.25}, wh), "deterministic")

	// Any change to the inputs changes the fingerprint: the last bit of one loss, the weights,
	// the number of losses, the class.
	nudged := []float64{4.17, math.Nextafter(3.5, 4), 2.25}
	for name, other := range map[string]string{
		"one loss bit":  Of("cpu", nudged, wh),
		"weights":       Of("cpu", losses, wh[:63]+"9"),
		"one loss less": Of("cpu", losses[:2], wh),
		"class":         Of("webgpu/x", losses, wh),
	} {
		require.NotEqual(t, fp, other, name)
	}
	_, h2, err := Parse(Of("webgpu/x", losses, wh))
	require.NoError(t, err)
	require.Equal(t, h, h2, "the class is not hashed: same numbers in two classes share the hash")
}

func TestParse(t *testing.T) {
	tests := []struct {
		in, class, hash, err string
	}{
		{"cpu:0123456789ab", "cpu", "0123456789ab", ""},
		{"webgpu/NVIDIA GeForce RTX 3080:ffffffffffff", "webgpu/NVIDIA GeForce RTX 3080", "ffffffffffff", ""},
		{"webgpu/Adapter: 2:000000000000", "webgpu/Adapter: 2", "000000000000", ""},
		{"webgpu/苹果 M2:0123456789ab", "webgpu/苹果 M2", "0123456789ab", ""},
		{"cpu", "", "", "no ':'"},
		{":0123456789ab", "", "", "device class must have 1 to"},
		{"cpu:0123456789AB", "", "", "lowercase hex"},
		{"cpu:0123456789a", "", "", "lowercase hex"},
		{"cpu:0123456789abc", "", "", "lowercase hex"},
		{"cpu:0123456789ag", "", "", "lowercase hex"},
		{"c\npu:0123456789ab", "", "", "cannot be shown"},
		{"\xffcpu:0123456789ab", "", "", "cannot be shown"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			class, hash, err := Parse(tc.in)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.class, class)
			require.Equal(t, tc.hash, hash)
		})
	}
}

func TestSameClass(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		{"cpu:0123456789ab", "cpu:ba9876543210", true},
		{"cpu:0123456789ab", "cpu", true},
		{"cpu", "cpu", true},
		{"cpu:0123456789ab", "webgpu/A:0123456789ab", false},
		{"webgpu/A:0123456789ab", "webgpu/B:0123456789ab", false},
		{"webgpu/A: 1:0123456789ab", "webgpu/A: 1", true},
		{"webgpu/A", "cpu", false},
	}
	for _, tc := range tests {
		require.Equal(t, tc.same, SameClass(tc.a, tc.b), "%q vs %q", tc.a, tc.b)
		require.Equal(t, tc.same, SameClass(tc.b, tc.a), "%q vs %q", tc.b, tc.a)
	}
}

func TestVerdict(t *testing.T) {
	tests := []struct {
		name, expected, got, want string
	}{
		{"same class and hash", "cpu:0123456789ab", "cpu:0123456789ab", Matches},
		{"same class, another hash", "cpu:0123456789ab", "cpu:ba9876543210", Differs},
		{"another class, same hash", "webgpu/Some GPU:0123456789ab", "cpu:0123456789ab", OtherDevice},
		{"another class, another hash", "cpu:0123456789ab", "webgpu/A:ba9876543210", OtherDevice},
		{"two adapters", "webgpu/A:0123456789ab", "webgpu/B:0123456789ab", OtherDevice},
		{"a class with a colon", "webgpu/A: 1:0123456789ab", "webgpu/A: 1:0123456789ab", Matches},
		{"a mixed run", "cpu:0123456789ab", "mixed:0123456789ab", OtherDevice},
		{"nothing expected", "", "cpu:0123456789ab", ""},
		{"no result yet", "cpu:0123456789ab", "", ""},
		{"neither", "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, Verdict(tc.expected, tc.got))
		})
	}
}

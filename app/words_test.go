package app

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFmtNum(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{2, "2"}, {float64(float32(0.003)), "0.003"}, {float64(float32(3e-4)), "0.0003"}, {0, "0"},
		{1 << 40, "1099511627776"}, {float64(float32(0.1)), "0.1"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) { require.Equal(t, tc.want, fmtNum(tc.in)) })
	}
}

func TestGroupDigits(t *testing.T) {
	for in, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 29824: "29,824", 1234567: "1,234,567"} {
		require.Equal(t, want, groupDigits(in))
	}
}

func TestRunNames(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 3*len(runNames); i++ {
		n := runName(i)
		require.False(t, seen[n], "run %d got the name %q again", i, n)
		seen[n] = true
		require.NotContains(t, runLabel(ZH, n), "[", "every name has its Chinese")
		require.Regexp(t, `\p{Han}`, runLabel(ZH, n))
	}
	require.Equal(t, "otter 2", runLabel(EN, runName(len(runNames))))
}

func TestFmtFigure(t *testing.T) {
	for in, want := range map[float64]string{13216.4: "13,216", 4.8412: "4.84", 109.2: "109", 0.5: "0.5"} {
		require.Equal(t, want, fmtFigure(in))
	}
}

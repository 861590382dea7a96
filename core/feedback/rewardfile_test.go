package feedback

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core"
	"pretune/core/checkpoint"
	"pretune/core/ops"
)

// tinyRewardModel is tinySFT with a score head whose weights are not zero.
func tinyRewardModel(t *testing.T) (*core.Model, *core.Tokenizer) {
	t.Helper()
	m, tk := tinySFT(t)
	_, err := m.AttachScoreHead(true, 3)
	require.NoError(t, err)
	return m, tk
}

// TestRewardFileRoundTrip: a reward model written by ExportReward and read by OpenReward gives
// every answer the score the trained model gives it, bit for bit; the file names its head as
// Hugging Face does; a damaged or foreign file is refused with an error, never a panic.
func TestRewardFileRoundTrip(t *testing.T) {
	m, tk := tinyRewardModel(t)
	defer m.Free()
	var buf bytes.Buffer
	require.NoError(t, ExportReward(&buf, m, tk))
	require.Contains(t, buf.String(), `"score.weight"`)
	s, err := OpenReward(buf.Bytes(), ops.NewCPU())
	require.NoError(t, err)
	defer s.Close()
	x := newModel(m, tk)
	for _, a := range []string{"eggs", "in the forest", "a"} {
		seq, err := textSequence(tk, "what does the fox like?", a, m.Cfg.Context)
		require.NoError(t, err)
		want, err := x.scores([]sequence{seq})
		require.NoError(t, err)
		got, err := s.Score("what does the fox like?", a)
		require.NoError(t, err)
		require.Equal(t, want[0], got, a)
	}
	_, err = s.Score("what does the fox like?", string(make([]byte, 100)))
	require.Error(t, err, "an answer longer than the context")

	data := buf.Bytes()
	for name, bad := range map[string][]byte{
		"empty":      nil,
		"truncated":  data[:len(data)/2],
		"header cut": data[:20],
	} {
		_, err := OpenReward(bad, ops.NewCPU())
		require.Error(t, err, name)
	}
	plain, err := m.Clone()
	require.NoError(t, err)
	defer plain.Free()
	var foreign bytes.Buffer
	require.NoError(t, checkpoint.ExportSafetensors(&foreign, plain, tk))
	_, err = OpenReward(foreign.Bytes(), ops.NewCPU())
	require.ErrorContains(t, err, "not a pretune reward model")
	require.Error(t, ExportReward(&bytes.Buffer{}, plain, tk), "a model without a score head")
}

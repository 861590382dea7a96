package worker

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/protocol"
)

var update = flag.Bool("update", false, "rewrite testdata/comparison.jsonl from this run")

// checkConversation pins the messages of TestComparison's run as the page receives them, one
// encoded message a line, so the wire format (and the events behind it) cannot change unseen.
// What varies from run to run is zeroed: speeds and times. Snapshots keep their step only (gob
// bytes).
func checkConversation(t *testing.T, msgs []protocol.Message) {
	var lines []string
	for _, m := range msgs {
		if e := m.Event; e != nil {
			e.TokensPerS = 0
			if e.MsPerStep != nil {
				zero := 0.0
				e.MsPerStep = &zero
			}
		}
		if m.Kind == protocol.Snapshot {
			m.Data = nil
		}
		lines = append(lines, m.Encode())
	}
	got := strings.Join(lines, "\n") + "\n"
	path := filepath.Join("testdata", "comparison.jsonl")
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, string(want), got)
}

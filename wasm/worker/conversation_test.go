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
// What varies from run to run, a measured speed or time, is written as 1 (0 where it is 0). Snapshots keep their step only (gob
// bytes). Of the progress messages only each trainer's first step's is kept: the others come
// once a second, so how many depends on the machine.
func checkConversation(t *testing.T, msgs []protocol.Message) {
	var lines []string
	for _, m := range msgs {
		if m.Kind == protocol.Progress && m.Event != nil && m.Event.Step != 1 {
			continue
		}
		if e := m.Event; e != nil {
			if e.TokensPerS != 0 {
				e.TokensPerS = 1
			}
			if e.MsPerStep != nil && *e.MsPerStep != 0 {
				one := 1.0
				e.MsPerStep = &one
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

package worker

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core"
	"pretune/core/protocol"
	"pretune/core/runspec"
)

// localHelper is a helper worker in this process: a Handler of its own answering the leader's
// shard requests on a goroutine, as a nested Web Worker does on its thread. notReady keeps it
// loading; failAfter > 0 makes its reply to that request (and later ones) an error.
type localHelper struct {
	h         *Handler
	replies   chan []byte
	notReady  bool
	failAfter int
	requests  *atomic.Int64
	closed    atomic.Bool
}

func (l *localHelper) Ready() bool { return !l.notReady }

func (l *localHelper) Send(msg []byte) error {
	if l.closed.Load() {
		return errors.New("closed")
	}
	n := l.requests.Add(1)
	msg = slices.Clone(msg) // postMessage's copy: the leader reuses its buffer
	go func() {
		if l.failAfter > 0 && int(n) >= l.failAfter {
			data, _ := protocol.EncodeShardReply(protocol.ShardReply{Error: "the helper ran out of memory"})
			l.replies <- data
			return
		}
		l.replies <- slices.Clone(l.h.HandleShard(msg))
	}()
	return nil
}

func (l *localHelper) Recv() ([]byte, error) { return <-l.replies, nil }
func (l *localHelper) Close()                { l.closed.Store(true) }

// helperPage is a page whose worker starts helpers made by mk (i counts them from 0); requests
// counts the shard requests all of them got.
func helperPage(t *testing.T, mk func(i int) *localHelper) (*page, *atomic.Int64) {
	p := newPage(t)
	var requests atomic.Int64
	var mu sync.Mutex
	n := 0
	p.h.WithHelpers(func() (Helper, error) {
		mu.Lock()
		defer mu.Unlock()
		l := mk(n)
		n++
		if l == nil {
			return nil, errors.New("the browser refused a worker")
		}
		l.h, l.replies, l.requests = New(cpuOnly, func(protocol.Message) {}), make(chan []byte, 1), &requests
		return l, nil
	})
	return p, &requests
}

// shardedTinyCode is en-tiny cut to steps, its batch in 4 shards, dropout on.
func shardedTinyCode(t *testing.T, steps int) string {
	t.Helper()
	p, err := runspec.PresetByName("en-tiny")
	require.NoError(t, err)
	spec := p.Spec
	spec.Config.Steps, spec.Config.Warmup, spec.Config.EvalEvery = steps, 2, steps/2
	spec.Config.Shards, spec.Config.Dropout = 4, 0.1
	code, err := runspec.Encode(spec)
	require.NoError(t, err)
	return code
}

// fingerprint runs code on p with workers and returns the result's fingerprint.
func fingerprint(t *testing.T, p *page, code string, workers int) string {
	fp, _ := fingerprintAndWorkers(t, p, code, workers)
	return fp
}

// fingerprintAndWorkers also returns how many workers the result says computed shards.
func fingerprintAndWorkers(t *testing.T, p *page, code string, workers int) (string, int) {
	t.Helper()
	got := p.of(p.ask(protocol.Request{Kind: protocol.Start, Code: code, Device: "cpu", Workers: workers}))
	require.Equal(t, []string{protocol.Result, protocol.Done}, kinds(got[len(got)-2:]), "%v", got[len(got)-1])
	return got[len(got)-2].Event.Fingerprint, got[len(got)-2].Event.Workers
}

// TestShardedRunSameOnAnyWorkers: a sharded run's fingerprint is the same with 1, 2 and 3
// workers (the leader alone; one helper; two helpers sharing 4 shards unevenly), and the
// helpers did compute shards.
func TestShardedRunSameOnAnyWorkers(t *testing.T) {
	code := shardedTinyCode(t, 10)
	alone, _ := helperPage(t, func(int) *localHelper { return &localHelper{} })
	want := fingerprint(t, alone, code, 1)
	for _, workers := range []int{2, 3} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			p, requests := helperPage(t, func(int) *localHelper { return &localHelper{} })
			fp, used := fingerprintAndWorkers(t, p, code, workers)
			require.Equal(t, want, fp)
			require.Equal(t, workers, used, "the result counts the workers")
			require.Equal(t, int64(10*(workers-1)), requests.Load(), "every step, every helper")
		})
	}
}

// TestShardedRunWithoutHelpers: helpers that are still loading, that the browser refuses, or
// that fail part way change nothing: the leader computes their shards, and the fingerprint is
// the one of a single worker.
func TestShardedRunWithoutHelpers(t *testing.T) {
	code := shardedTinyCode(t, 10)
	alone, _ := helperPage(t, func(int) *localHelper { return &localHelper{} })
	want := fingerprint(t, alone, code, 1)
	for name, mk := range map[string]func(i int) *localHelper{
		"loading": func(int) *localHelper { return &localHelper{notReady: true} },
		"refused": func(int) *localHelper { return nil },
		"failing": func(i int) *localHelper { return &localHelper{failAfter: 4 + i} },
		"mixed": func(i int) *localHelper {
			if i == 0 {
				return nil
			}
			return &localHelper{failAfter: 7 * (i - 1)}
		},
	} {
		t.Run(name, func(t *testing.T) {
			p, _ := helperPage(t, mk)
			require.Equal(t, want, fingerprint(t, p, code, 4))
		})
	}
}

// TestHandleShardRefusesDamage: a helper answers a damaged request or one that does not fit
// its model with an error reply, never a panic.
func TestHandleShardRefusesDamage(t *testing.T) {
	h := New(cpuOnly, func(protocol.Message) {})
	for _, msg := range [][]byte{nil, []byte("PTSH\x00\x00\x00\x00"), []byte("hello")} {
		_, err := protocol.DecodeShardReply(h.HandleShard(msg))
		require.Error(t, err)
	}
	cfg := core.DefaultConfig()
	cfg.Vocab, cfg.Shards = 40, 2
	bad, err := protocol.EncodeShardRequest(protocol.ShardRequest{Config: cfg, Weights: [][]float32{{1}}})
	require.NoError(t, err)
	_, err = protocol.DecodeShardReply(h.HandleShard(bad))
	require.ErrorContains(t, err, "weight tensors")
}

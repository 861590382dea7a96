package core

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/grammar"
	"pretune/core/ops"
)

// shardConfig is the golden run's shape (core/golden), dropout on, a few steps.
func shardConfig(shards int) Config {
	cfg := DefaultConfig()
	cfg.Context, cfg.Layers, cfg.Heads, cfg.Dim = 16, 2, 2, 16
	cfg.Batch, cfg.Steps, cfg.Warmup, cfg.EvalEvery, cfg.EvalBatches = 4, 8, 2, 4, 1
	cfg.Dropout, cfg.Seed, cfg.Shards = 0.1, 42, shards
	return cfg
}

// shardRun trains cfg (causal, or masked LM) with its shards on workers goroutines (0: no
// runner set, the trainer's default) and returns the losses and the final weights' hash.
func shardRun(t *testing.T, cfg Config, masked bool, workers int) ([]float64, string) {
	t.Helper()
	train, val := grammar.Text(5, 120), grammar.Text(6, 20)
	var tr *Trainer
	var err error
	if masked {
		tr, err = NewMLMTrainer(ops.NewCPU(), cfg, train, val, DefaultMLM())
	} else {
		tr, err = NewTrainer(ops.NewCPU(), cfg, train, val)
	}
	require.NoError(t, err)
	if workers > 0 {
		ls := NewLocalShards(tr.Model, workers)
		require.Equal(t, min(workers, cfg.Shards), ls.Workers())
		tr.Runner = ls
	}
	var losses []float64
	for !tr.Done() {
		loss, err := tr.Step()
		require.NoError(t, err)
		losses = append(losses, loss)
	}
	hash, err := tr.Model.WeightsHash()
	require.NoError(t, err)
	return losses, hash
}

// TestShardsSameOnAnyWorkerCount: a sharded run gives the same losses and weights, bit for bit,
// whether 1, 2 or 3 goroutines compute its 4 shards (3 workers share them unevenly), with
// dropout on, for both objectives; and it is a different run from the unsharded one (the
// shards really are computed apart). One worker is the in-place path (the trainer's model
// computes the shards and sums them on its device), more are replicas summed on the host: the
// two implementations check each other.
func TestShardsSameOnAnyWorkerCount(t *testing.T) {
	for _, masked := range []bool{false, true} {
		t.Run(fmt.Sprintf("masked=%v", masked), func(t *testing.T) {
			wantLosses, wantHash := shardRun(t, shardConfig(4), masked, 1)
			for _, w := range []int{2, 3, 0} {
				losses, hash := shardRun(t, shardConfig(4), masked, w)
				require.Equal(t, wantLosses, losses, "%d workers", w)
				require.Equal(t, wantHash, hash, "%d workers", w)
			}
			_, oneHash := shardRun(t, shardConfig(1), masked, 0)
			require.NotEqual(t, wantHash, oneHash, "4 shards trained exactly like 1")
		})
	}
}

// TestOneShardIsUnsharded: Shards 1 is the step of Shards 0 (every old link), bit for bit;
// TestGoldenRun pins Shards 0 itself.
func TestOneShardIsUnsharded(t *testing.T) {
	l0, h0 := shardRun(t, shardConfig(0), false, 0)
	l1, h1 := shardRun(t, shardConfig(1), false, 0)
	require.Equal(t, l0, l1)
	require.Equal(t, h0, h1)
}

// TestShardGradientsSumToBatchGradient: the replicas' shard gradients, summed, are the whole
// batch's gradient (up to float32 rounding: the sums are grouped differently) and their losses
// the batch's loss, for even and uneven shards. It catches a shard scaled by its own loss
// weight instead of the batch's, and rows cut wrongly.
func TestShardGradientsSumToBatchGradient(t *testing.T) {
	for _, tc := range []struct{ B, S int }{{4, 2}, {5, 3}, {5, 5}} {
		t.Run(fmt.Sprintf("B%d_S%d", tc.B, tc.S), func(t *testing.T) {
			cfg := shardConfig(tc.S)
			cfg.Batch, cfg.Dropout = tc.B, 0
			tr, err := NewTrainer(ops.NewCPU(), cfg, grammar.Text(5, 120), grammar.Text(6, 20))
			require.NoError(t, err)
			m := tr.Model
			T := cfg.Context
			in, tg := make([]int32, tc.B*T), make([]int32, tc.B*T)
			for b := 0; b < tc.B; b++ {
				window(tr.train, 7*b+3, T, in[b*T:(b+1)*T], tg[b*T:(b+1)*T])
			}
			// Some positions weigh 0 and some 2, so the batch weight is not B·T.
			wt := make([]float32, tc.B*T)
			for i := range wt {
				wt[i] = float32(i % 3)
			}
			tr.batch.Set(m.Dev, tc.B, T, in, tg, wt)
			for _, p := range m.Params {
				m.Dev.Zero(p.DW)
			}
			pass := Pass{Train: true, DropoutSeed: 1, Step: 3}
			m.forward(m.train, tr.batch, pass)
			wantLoss, weight, err := m.loss(m.train, tr.batch)
			require.NoError(t, err)
			m.backward(m.train, tr.batch, pass, weight)

			ws, err := m.Weights()
			require.NoError(t, err)
			r, err := NewReplica(ops.NewCPU(), m.Cfg, m.Mask)
			require.NoError(t, err)
			require.NoError(t, r.SetWeights(ws))
			var res []ShardResult
			for k := 0; k < tc.S; k++ {
				lo, hi := ShardRows(tc.B, tc.S, k)
				got, err := r.Grad(ShardJob{Shard: k, Row: lo, B: hi - lo, T: T, Inputs: in[lo*T : hi*T], Targets: tg[lo*T : hi*T],
					Weights: wt[lo*T : hi*T], Weight: weight, DropoutSeed: 1, Step: 3})
				require.NoError(t, err)
				res = append(res, got)
			}
			var lossSum float64
			for _, s := range res {
				lossSum += s.LossSum
			}
			require.InDelta(t, wantLoss, lossSum/weight, 1e-6)
			for i, p := range m.Params {
				want := make([]float32, p.Size())
				require.NoError(t, m.Dev.Download(p.DW, want))
				got, err := SumShardGrads(res, i, p.Size())
				require.NoError(t, err)
				for j := range want {
					if d := math.Abs(float64(got[j] - want[j])); d > 1e-6+1e-4*math.Abs(float64(want[j])) {
						t.Fatalf("%s[%d]: shards sum to %g, the batch's gradient is %g", p.Name, j, got[j], want[j])
					}
				}
			}
		})
	}
}

// TestShardRows: shards cover the batch in order, contiguous, sizes within one of each other.
func TestShardRows(t *testing.T) {
	for B := 1; B <= 9; B++ {
		for S := 1; S <= B; S++ {
			next := 0
			for k := 0; k < S; k++ {
				lo, hi := ShardRows(B, S, k)
				require.Equal(t, next, lo)
				require.True(t, hi-lo == B/S || hi-lo == B/S+1, "B=%d S=%d k=%d: %d rows", B, S, k, hi-lo)
				next = hi
			}
			require.Equal(t, B, next)
		}
	}
	cfg := shardConfig(5)
	require.ErrorContains(t, cfg.Validate(), "shards 5")
}

// TestShardDropoutKeys: shard 0 (row 0) keys dropout exactly as the unsharded step did, and
// shards starting at other rows draw other masks at every site (none repeats another shard's).
func TestShardDropoutKeys(t *testing.T) {
	p := Pass{Train: true, DropoutSeed: 9, Step: 4}
	require.Equal(t, ops.DropoutKey{Seed: 9, Step: 4, Site: siteMLP(1)}, p.key(siteMLP(1)))
	seen := map[uint32]bool{}
	for row := 0; row < MaxBatch; row++ {
		p.Row = row
		for _, site := range []uint32{siteEmbed(), siteAttn(MaxLayers - 1), siteMLP(MaxLayers - 1), siteLoRA(MaxLayers-1, numLoRATargets-1)} {
			k := p.key(site).Site
			require.False(t, seen[k], "row %d site %d repeats a key", row, site)
			seen[k] = true
		}
	}
}

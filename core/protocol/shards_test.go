package protocol

import (
	"math"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"

	"pretune/core"
	"pretune/core/ops"
)

// TestShardMessagesRoundTrip: a request and a reply come back exactly (every float's bits,
// the loss sums' float64s, a frozen parameter's missing gradient), so a helper computes on the
// leader's very weights and the leader sums the helper's very gradients.
func TestShardMessagesRoundTrip(t *testing.T) {
	cfg := core.DefaultConfig()
	cfg.Vocab, cfg.Shards = 70, 4
	req := ShardRequest{Config: cfg, Mask: ops.Bidirectional, Jobs: []core.ShardJob{
		{Shard: 1, Row: 2, B: 2, T: 3, Inputs: []int32{1, 2, 3, 4, 5, 6}, Targets: []int32{2, 3, 4, 5, 6, 7}, Weight: 48, DropoutSeed: 1<<63 + 5, Step: 9},
		{Shard: 3, Row: 6, B: 2, T: 3, Inputs: []int32{1, 2, 3, 4, 5, 6}, Targets: []int32{2, 3, 4, 5, 6, 7}, Weights: []float32{0, 1, 0.5, 1, 1, 0}, Weight: 48},
	}, Weights: [][]float32{{1.5, float32(math.Inf(-1)), math.Float32frombits(0x7fc00001)}, {}, {math.SmallestNonzeroFloat32}}}
	data, err := EncodeShardRequest(req)
	require.NoError(t, err)
	got, err := DecodeShardRequest(data)
	require.NoError(t, err)
	require.Equal(t, req.Config, got.Config)
	require.Equal(t, req.Mask, got.Mask)
	require.Equal(t, req.Jobs, got.Jobs)
	requireSameBits(t, req.Weights, got.Weights)

	rep := ShardReply{Results: []core.ShardResult{
		{LossSum: 0.1 + 0.2, Grads: [][]float32{{1, 2}, nil, {-0.0}}},
		{LossSum: math.Nextafter(7, 8), Grads: [][]float32{{3, 4}, nil, {5}}},
	}}
	data, err = EncodeShardReply(rep)
	require.NoError(t, err)
	back, err := DecodeShardReply(data)
	require.NoError(t, err)
	require.Len(t, back.Results, 2)
	for k := range rep.Results {
		require.Equal(t, math.Float64bits(rep.Results[k].LossSum), math.Float64bits(back.Results[k].LossSum))
		require.Nil(t, back.Results[k].Grads[1])
		requireSameBits(t, rep.Results[k].Grads, back.Results[k].Grads)
	}

	data, err = EncodeShardReply(ShardReply{Error: "replica: out of memory"})
	require.NoError(t, err)
	_, err = DecodeShardReply(data)
	require.EqualError(t, err, "replica: out of memory")
}

func requireSameBits(t *testing.T, want, got [][]float32) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		require.Len(t, got[i], len(want[i]))
		for j := range want[i] {
			require.Equal(t, math.Float32bits(want[i][j]), math.Float32bits(got[i][j]), "tensor %d value %d", i, j)
		}
	}
}

// TestShardMessagesRefuseDamage: a message cut short, with bytes added, another magic or a
// header that does not fit is an error, never a panic or a wrong tensor.
func TestShardMessagesRefuseDamage(t *testing.T) {
	req := ShardRequest{Config: core.DefaultConfig(), Jobs: []core.ShardJob{{B: 1, T: 1, Inputs: []int32{1}, Targets: []int32{2}, Weight: 1}},
		Weights: [][]float32{{1, 2, 3}, {4}}}
	data, err := EncodeShardRequest(req)
	require.NoError(t, err)
	for name, bad := range map[string][]byte{
		"empty":         nil,
		"magic":         append([]byte("XXXX"), data[4:]...),
		"cut value":     data[:len(data)-1],
		"missing value": data[:len(data)-4],
		"extra value":   append(append([]byte{}, data...), 0, 0, 0, 0),
		"header length": append(append([]byte{}, data[:4]...), 0xff, 0xff, 0xff, 0x7f),
		"header":        append(append([]byte{}, data[:8]...), []byte("{\"nope\":1}")...),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := DecodeShardRequest(bad)
			require.Error(t, err)
			_, err = DecodeShardReply(bad)
			require.Error(t, err)
		})
	}
}

// BenchmarkShardMessages: encoding a step's request and decoding a two-shard reply for the
// small preset's ~110k parameters, the per-step cost a leader pays for each helper.
func BenchmarkShardMessages(b *testing.B) {
	sizes := []int{100 * 64, 64 * 64, 12 * 64 * 64 * 2, 100 * 64}
	ws := make([][]float32, len(sizes))
	for i, n := range sizes {
		ws[i] = make([]float32, n)
	}
	reply, err := EncodeShardReply(ShardReply{Results: []core.ShardResult{{Grads: ws}, {Grads: ws}}})
	require.NoError(b, err)
	cfg := core.DefaultConfig()
	cfg.Vocab = 100
	for i := 0; i < b.N; i++ {
		if _, err := EncodeShardRequest(ShardRequest{Config: cfg, Weights: ws}); err != nil {
			b.Fatal(err)
		}
		if _, err := DecodeShardReply(reply); err != nil {
			b.Fatal(err)
		}
	}
}

// TestShardMessagesReadInPlace: whatever the header's length, the values start at a multiple of
// 4 bytes and decode without a copy (the tensors share the message's memory); a message whose
// values sit unaligned (inside a bigger buffer, say) still decodes, from a copy; and a buffer
// handed to AppendShardRequest is reused when it is big enough.
func TestShardMessagesReadInPlace(t *testing.T) {
	cfg := core.DefaultConfig()
	cfg.Vocab = 70
	weights := [][]float32{{1, 2, 3}, {4}}
	var buf []byte
	for rows := range 8 { // headers of every length modulo 4
		req := ShardRequest{Config: cfg, Jobs: []core.ShardJob{{Shard: 0, B: 1, T: rows, Inputs: make([]int32, rows), Targets: make([]int32, rows)}}, Weights: weights}
		data, err := AppendShardRequest(buf, req)
		require.NoError(t, err)
		if buf != nil {
			require.Equal(t, &buf[:1][0], &data[:1][0], "the buffer is reused")
		}
		buf = data
		n := int(data[4]) | int(data[5])<<8 | int(data[6])<<16 | int(data[7])<<24
		require.Zero(t, (8+n)%4, "values at a multiple of 4 (header %d bytes)", n)
		got, err := DecodeShardRequest(data)
		require.NoError(t, err)
		requireSameBits(t, weights, got.Weights)
		require.Equal(t, &data[len(data)-16], (*byte)(unsafe.Pointer(&got.Weights[0][0])), "read in place")

		shifted := append(make([]byte, 1, len(data)+1), data...)[1:] // the same bytes, one byte off
		again, err := DecodeShardRequest(shifted)
		require.NoError(t, err)
		requireSameBits(t, weights, again.Weights)
	}
}

package protocol

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"unsafe"

	"pretune/core"
	"pretune/core/ops"
)

// Shard messages: a sharded pretraining's leader worker (the one the page started) and its
// helper workers exchange one binary message each way per step, sent as a transferable
// ArrayBuffer (no copy between threads, no JSON for a hundred thousand floats). A message is
//
//	"PTSH" | uint32 n | n bytes of JSON header | float32 values (little endian)
//
// The header is padded with spaces to make the values start at a multiple of 4 bytes, so that a
// receiver reads them in place, without a copy: a step's gradients are half a megabyte a shard,
// and under wasm allocating and copying them cost more than computing a small model's shard.
// The leader's ShardRequest carries the model's config and mask, the helper's share of the
// step's shards (core.ShardJob: rows, tokens, keys) and the weights; the helper's ShardReply
// carries each shard's loss sum and gradients, or an error. The header lists the length of
// every tensor that follows, so a message is checked before any value is used.

// shardMagic starts every shard message.
const shardMagic = "PTSH"

// maxShardHeader bounds a header (tokens of up to 64×512 positions in JSON fit easily).
const maxShardHeader = 16 << 20

// ShardRequest is a leader's step for one helper: compute Jobs on a model of Config (its
// vocabulary set) and Mask, with Weights (one slice per parameter, in core.Model.Params order).
type ShardRequest struct {
	Config  core.Config     `json:"config"`
	Mask    ops.MaskMode    `json:"mask"`
	Jobs    []core.ShardJob `json:"jobs"`
	Weights [][]float32     `json:"-"`
}

// ShardReply is a helper's answer: one result per job of the request, in its order, or Error.
type ShardReply struct {
	Results []core.ShardResult `json:"-"`
	Error   string             `json:"error,omitempty"`
}

type shardRequestHeader struct {
	ShardRequest
	Sizes []int `json:"sizes"`
}

type shardReplyHeader struct {
	Error    string    `json:"error,omitempty"`
	LossSums []float64 `json:"loss_sums"`
	// Sizes has one list per result: each gradient's length (0 for a frozen parameter's).
	Sizes [][]int `json:"sizes"`
}

// EncodeShardRequest writes r as one message.
func EncodeShardRequest(r ShardRequest) ([]byte, error) { return AppendShardRequest(nil, r) }

// AppendShardRequest writes r as one message into dst's storage (dst[:0], grown if need be), so
// a leader reuses one buffer from step to step.
func AppendShardRequest(dst []byte, r ShardRequest) ([]byte, error) {
	h := shardRequestHeader{ShardRequest: r}
	for _, w := range r.Weights {
		h.Sizes = append(h.Sizes, len(w))
	}
	return encodeShard(dst, h, [][][]float32{r.Weights})
}

// DecodeShardRequest reads what EncodeShardRequest wrote. The weights share data's memory where
// it is aligned (always, for this package's messages on a little-endian machine): data must
// stay unchanged while they are in use.
func DecodeShardRequest(data []byte) (ShardRequest, error) {
	var h shardRequestHeader
	vals, err := decodeShard(data, &h)
	if err != nil {
		return ShardRequest{}, err
	}
	r := h.ShardRequest
	if r.Weights, err = split(vals, h.Sizes); err != nil {
		return ShardRequest{}, err
	}
	return r, nil
}

// EncodeShardReply writes r as one message.
func EncodeShardReply(r ShardReply) ([]byte, error) { return AppendShardReply(nil, r) }

// AppendShardReply writes r as one message into dst's storage, as AppendShardRequest.
func AppendShardReply(dst []byte, r ShardReply) ([]byte, error) {
	h := shardReplyHeader{Error: r.Error}
	var tensors [][][]float32
	for _, res := range r.Results {
		h.LossSums = append(h.LossSums, res.LossSum)
		sizes := make([]int, len(res.Grads))
		for i, g := range res.Grads {
			sizes[i] = len(g)
		}
		h.Sizes = append(h.Sizes, sizes)
		tensors = append(tensors, res.Grads)
	}
	return encodeShard(dst, h, tensors)
}

// DecodeShardReply reads what EncodeShardReply wrote. A reply with an error is returned with
// it as a Go error. The gradients share data's memory, as DecodeShardRequest's weights do.
func DecodeShardReply(data []byte) (ShardReply, error) {
	var h shardReplyHeader
	vals, err := decodeShard(data, &h)
	if err != nil {
		return ShardReply{}, err
	}
	if h.Error != "" {
		return ShardReply{Error: h.Error}, errors.New(h.Error)
	}
	if len(h.LossSums) != len(h.Sizes) {
		return ShardReply{}, fmt.Errorf("protocol: a shard reply has %d losses for %d results", len(h.LossSums), len(h.Sizes))
	}
	var r ShardReply
	for k, sizes := range h.Sizes {
		n := 0
		for _, s := range sizes {
			if s < 0 {
				return ShardReply{}, fmt.Errorf("protocol: a shard reply has a negative length")
			}
			n += s
		}
		if n > len(vals) {
			return ShardReply{}, fmt.Errorf("protocol: a shard reply is cut short")
		}
		grads, err := split(vals[:n], sizes)
		if err != nil {
			return ShardReply{}, err
		}
		for i := range grads {
			if len(grads[i]) == 0 {
				grads[i] = nil // a frozen parameter's
			}
		}
		vals = vals[n:]
		r.Results = append(r.Results, core.ShardResult{LossSum: h.LossSums[k], Grads: grads})
	}
	if len(vals) != 0 {
		return ShardReply{}, fmt.Errorf("protocol: %d values follow a shard reply", len(vals))
	}
	return r, nil
}

// encodeShard writes the magic, the header's JSON (padded with spaces so that the values start
// at a multiple of 4 bytes) and every tensor's values into dst[:0].
func encodeShard(dst []byte, header any, tensors [][][]float32) ([]byte, error) {
	js, err := json.Marshal(header)
	if err != nil {
		return nil, err
	}
	pad := (4 - (len(shardMagic)+4+len(js))%4) % 4
	n := 0
	for _, ts := range tensors {
		for _, t := range ts {
			n += len(t)
		}
	}
	size := len(shardMagic) + 4 + len(js) + pad + 4*n
	out := dst[:0]
	if cap(out) < size {
		out = make([]byte, 0, size)
	}
	out = append(out, shardMagic...)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(js)+pad))
	out = append(out, js...)
	out = append(out, "   "[:pad]...)
	for _, ts := range tensors {
		for _, t := range ts {
			out = appendFloats(out, t)
		}
	}
	return out, nil
}

// littleEndian says whether this machine stores a float32 as its little-endian bytes (wasm,
// amd64 and arm64 do): then tensors are copied as memory, a step's hundred thousand values at
// memmove speed, which matters under wasm; elsewhere value by value.
var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// appendFloats appends vs as little-endian float32s.
func appendFloats(out []byte, vs []float32) []byte {
	if littleEndian && len(vs) > 0 {
		return append(out, unsafe.Slice((*byte)(unsafe.Pointer(&vs[0])), 4*len(vs))...)
	}
	for _, v := range vs {
		out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
	}
	return out
}

// readFloats reads little-endian float32s from body (a multiple of 4 bytes long): in place where
// the machine is little-endian and body is aligned for float32s, else into a copy.
func readFloats(body []byte) []float32 {
	if len(body) == 0 {
		return nil
	}
	if littleEndian && uintptr(unsafe.Pointer(&body[0]))%4 == 0 {
		return unsafe.Slice((*float32)(unsafe.Pointer(&body[0])), len(body)/4)
	}
	vals := make([]float32, len(body)/4)
	if littleEndian {
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&vals[0])), len(body)), body)
		return vals
	}
	for i := range vals {
		vals[i] = math.Float32frombits(binary.LittleEndian.Uint32(body[4*i:]))
	}
	return vals
}

// decodeShard checks the framing, reads the header into header (strictly) and returns the
// values after it.
func decodeShard(data []byte, header any) ([]float32, error) {
	if len(data) < len(shardMagic)+4 || string(data[:len(shardMagic)]) != shardMagic {
		return nil, fmt.Errorf("protocol: not a shard message")
	}
	n := int(binary.LittleEndian.Uint32(data[len(shardMagic):]))
	rest := data[len(shardMagic)+4:]
	if n > maxShardHeader || n > len(rest) {
		return nil, fmt.Errorf("protocol: a shard message's header is cut short")
	}
	dec := json.NewDecoder(bytes.NewReader(rest[:n]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(header); err != nil {
		return nil, fmt.Errorf("protocol: a shard message's header: %v", err)
	}
	body := rest[n:]
	if len(body)%4 != 0 {
		return nil, fmt.Errorf("protocol: a shard message's values are cut short")
	}
	return readFloats(body), nil
}

// split cuts vals into tensors of the given sizes, which must use every value.
func split(vals []float32, sizes []int) ([][]float32, error) {
	out := make([][]float32, len(sizes))
	for i, s := range sizes {
		if s < 0 || s > len(vals) {
			return nil, fmt.Errorf("protocol: a shard message's tensor %d is cut short", i)
		}
		out[i], vals = vals[:s:s], vals[s:]
	}
	if len(vals) != 0 {
		return nil, fmt.Errorf("protocol: %d values follow a shard message's tensors", len(vals))
	}
	return out, nil
}

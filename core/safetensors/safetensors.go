// Package safetensors writes and reads the framing of the safetensors format that PyTorch and
// PEFT read: an 8-byte little-endian header length, a JSON header (an optional "__metadata__"
// map of strings, then one entry per tensor: dtype, shape, data_offsets), and the tensors' bytes.
// It knows nothing of models: core (LoRA adapters) and core/checkpoint (whole models) each say
// which tensors a file must hold and check them with their own errors. Only F32 is written.
package safetensors

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
)

// Tensor is one tensor to write: its name, shape and float32 values (row-major).
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32
}

// Entry is one tensor's header entry as read.
type Entry struct {
	Dtype       string  `json:"dtype"`
	Shape       []int64 `json:"shape"`
	DataOffsets []int64 `json:"data_offsets"`
}

// MetadataKey is the header key of the string map of metadata.
const MetadataKey = "__metadata__"

// Size is the length of the file Write would write: the header's length, then the whole.
func Size(meta map[string]string, tensors []Tensor) (header, total int64, err error) {
	h, err := headerBytes(meta, tensors)
	if err != nil {
		return 0, 0, err
	}
	total = 8 + int64(len(h))
	for _, t := range tensors {
		total += 4 * int64(len(t.Data))
	}
	return int64(len(h)), total, nil
}

// Write writes meta and the tensors, in the order given, with contiguous offsets; the header is
// padded with spaces so the data starts 8-byte aligned, as the reference writer does.
func Write(w io.Writer, meta map[string]string, tensors []Tensor) error {
	h, err := headerBytes(meta, tensors)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(h)))
	bw.Write(n[:])
	bw.Write(h)
	var buf [4]byte
	for _, t := range tensors {
		for _, v := range t.Data {
			binary.LittleEndian.PutUint32(buf[:], math.Float32bits(v))
			bw.Write(buf[:])
		}
	}
	return bw.Flush()
}

// headerBytes is the padded JSON header. It is written piece by piece so the tensors keep the
// caller's order (a Go map would sort them); each piece is marshalled by encoding/json.
func headerBytes(meta map[string]string, tensors []Tensor) ([]byte, error) {
	var hb bytes.Buffer
	hb.WriteByte('{')
	if meta != nil {
		mj, err := json.Marshal(meta)
		if err != nil {
			return nil, err
		}
		hb.WriteString(`"` + MetadataKey + `":`)
		hb.Write(mj)
	}
	var off int64
	for i, t := range tensors {
		n := 1
		shape := make([]int64, len(t.Shape))
		for j, d := range t.Shape {
			shape[j] = int64(d)
			n *= d
		}
		if n != len(t.Data) {
			return nil, fmt.Errorf("safetensors: tensor %s has %d values for shape %v", t.Name, len(t.Data), t.Shape)
		}
		size := 4 * int64(n)
		ej, err := json.Marshal(Entry{Dtype: "F32", Shape: shape, DataOffsets: []int64{off, off + size}})
		if err != nil {
			return nil, err
		}
		nj, err := json.Marshal(t.Name)
		if err != nil {
			return nil, err
		}
		if meta != nil || i > 0 {
			hb.WriteByte(',')
		}
		hb.Write(nj)
		hb.WriteByte(':')
		hb.Write(ej)
		off += size
	}
	hb.WriteByte('}')
	for (8+hb.Len())%8 != 0 {
		hb.WriteByte(' ')
	}
	return hb.Bytes(), nil
}

// DecodeHeader reads a header's JSON: the metadata (nil when absent) and every tensor's entry.
// Its errors say which part is wrong; callers wrap them in their own kind of error.
func DecodeHeader(h []byte) (meta map[string]string, entries map[string]Entry, err error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(h, &raw); err != nil {
		return nil, nil, err
	}
	if mj, ok := raw[MetadataKey]; ok {
		if err := json.Unmarshal(mj, &meta); err != nil {
			return nil, nil, fmt.Errorf("%s must map strings to strings: %v", MetadataKey, err)
		}
		delete(raw, MetadataKey)
	}
	entries = make(map[string]Entry, len(raw))
	for name, ej := range raw {
		var e Entry
		if err := json.Unmarshal(ej, &e); err != nil {
			return nil, nil, fmt.Errorf("tensor %q: %v", name, err)
		}
		entries[name] = e
	}
	return meta, entries, nil
}

// Floats decodes n little-endian float32 values from b (which holds at least 4n bytes).
func Floats(b []byte, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

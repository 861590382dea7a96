package core

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"sort"

	"pretune/core/safetensors"
)

// The reading shared by every adapter file (LoRA and DoRA in lora_file.go, IA3 in ia3_file.go):
// the safetensors framing and the tensors a config asks for, each refusal wrapping
// ErrLoRADamaged, ErrLoRANotAdapter or ErrLoRAMismatch and named after the file's kind (what).

// readAdapter reads a safetensors file's metadata, tensor entries and data.
func readAdapter(r io.Reader, what string) (meta map[string]string, entries map[string]safetensors.Entry, body []byte, err error) {
	data, err := io.ReadAll(io.LimitReader(r, 1<<30))
	if err != nil {
		return nil, nil, nil, err
	}
	if len(data) < 8 {
		return nil, nil, nil, fmt.Errorf("%s: %w: %d bytes is too short for a safetensors header", what, ErrLoRADamaged, len(data))
	}
	hlen := binary.LittleEndian.Uint64(data[:8])
	if hlen > maxLoRAHeader || hlen > uint64(len(data)-8) {
		return nil, nil, nil, fmt.Errorf("%s: %w: header length %d does not fit the file of %d bytes", what, ErrLoRADamaged, hlen, len(data))
	}
	meta, entries, err = safetensors.DecodeHeader(data[8 : 8+hlen])
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w: header: %v", what, ErrLoRADamaged, err)
	}
	return meta, entries, data[8+hlen:], nil
}

// adapterValues checks that the file holds exactly the tensors of want (name → shape), F32
// with finite values inside the data, and returns their values. config names the metadata
// entry that decided want (in the message for an unexpected tensor).
func adapterValues(entries map[string]safetensors.Entry, body []byte, want map[string][]int, what, config string) (map[string][]float32, error) {
	values := map[string][]float32{}
	// In name order, so a file with several faults always names the same one first.
	names := make([]string, 0, len(want))
	for name := range want {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		shape := want[name]
		e, ok := entries[name]
		if !ok {
			return nil, fmt.Errorf("%s: %w: tensor %s is missing", what, ErrLoRAMismatch, name)
		}
		if e.Dtype != "F32" {
			return nil, fmt.Errorf("%s: %w: tensor %s is %s, not F32", what, ErrLoRAMismatch, name, e.Dtype)
		}
		if fmt.Sprint(e.Shape) != fmt.Sprint(shape) {
			return nil, fmt.Errorf("%s: %w: tensor %s has shape %v, want %v", what, ErrLoRAMismatch, name, e.Shape, shape)
		}
		n := int64(1)
		for _, d := range shape {
			n *= int64(d)
		}
		off := e.DataOffsets
		// Start within the data first: a start near the int64 limit would wrap start+4n
		// around to a small end that passes the other checks.
		if len(off) != 2 || off[0] < 0 || off[0] > int64(len(body)) || off[1] != off[0]+4*n || off[1] > int64(len(body)) {
			return nil, fmt.Errorf("%s: %w: tensor %s has data offsets %v outside the %d bytes of data", what, ErrLoRADamaged, name, off, len(body))
		}
		v := safetensors.Floats(body[off[0]:off[1]], int(n))
		for i := range v {
			if math.IsNaN(float64(v[i])) || math.IsInf(float64(v[i]), 0) {
				return nil, fmt.Errorf("%s: %w: tensor %s has a non-finite value at %d", what, ErrLoRADamaged, name, i)
			}
		}
		values[name] = v
	}
	extra := make([]string, 0, len(entries))
	for name := range entries {
		extra = append(extra, name)
	}
	sort.Strings(extra)
	for _, name := range extra {
		if _, ok := want[name]; !ok {
			return nil, fmt.Errorf("%s: %w: unexpected tensor %s (not in its %s)", what, ErrLoRAMismatch, name, config)
		}
	}
	return values, nil
}

// ImportAdapter reads an adapter file of any kind the model writes, by its peft_type: IA3
// (ExportIA3) or else LoRA, DoRA included (ExportLoRA). It returns the file's peft_type, "IA3"
// or "LORA", and the importer's error, if any.
func (m *Model) ImportAdapter(data []byte) (peftType string, err error) {
	meta, _, _, err := readAdapter(bytes.NewReader(data), "adapter file")
	if err != nil {
		return "", err
	}
	if meta["peft_type"] == "IA3" {
		return "IA3", m.ImportIA3(bytes.NewReader(data))
	}
	return "LORA", m.ImportLoRA(bytes.NewReader(data))
}

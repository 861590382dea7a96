package safetensors

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestWriteReadBack: what Write writes has the announced size, an 8-byte aligned data start,
// the tensors in the given order with contiguous offsets, and reads back exactly.
func TestWriteReadBack(t *testing.T) {
	meta := map[string]string{"format": "pt", "note": "x"}
	tensors := []Tensor{
		{Name: "z.weight", Shape: []int{2, 3}, Data: []float32{1, -2, 3.5, 0, 1e-9, -7}},
		{Name: "a.bias", Shape: []int{3}, Data: []float32{0.25, 0.5, 0.75}},
	}
	var buf bytes.Buffer
	require.NoError(t, Write(&buf, meta, tensors))
	header, total, err := Size(meta, tensors)
	require.NoError(t, err)
	file := buf.Bytes()
	require.Equal(t, total, int64(len(file)))
	hl := binary.LittleEndian.Uint64(file)
	require.Equal(t, header, int64(hl))
	require.Zero(t, (8+hl)%8, "the data starts 8-byte aligned")
	require.Less(t, bytes.Index(file, []byte("z.weight")), bytes.Index(file, []byte("a.bias")), "the caller's order, not sorted")

	gotMeta, entries, err := DecodeHeader(file[8 : 8+hl])
	require.NoError(t, err)
	require.Equal(t, meta, gotMeta)
	body := file[8+hl:]
	var off int64
	for _, tt := range tensors {
		e := entries[tt.Name]
		require.Equal(t, "F32", e.Dtype)
		require.Equal(t, []int64{off, off + 4*int64(len(tt.Data))}, e.DataOffsets, tt.Name)
		require.Equal(t, tt.Data, Floats(body[e.DataOffsets[0]:], len(tt.Data)))
		off = e.DataOffsets[1]
	}

	require.ErrorContains(t, Write(&buf, nil, []Tensor{{Name: "w", Shape: []int{2, 2}, Data: []float32{1}}}), "1 values for shape [2 2]")
	_, _, err = DecodeHeader([]byte(`{"__metadata__": {"n": 1}}`))
	require.ErrorContains(t, err, "must map strings to strings")
	_, _, err = DecodeHeader([]byte(`{"w": {"dtype": 3}}`))
	require.ErrorContains(t, err, `tensor "w"`)
	m, e, err := DecodeHeader([]byte(`{}`))
	require.NoError(t, err)
	require.Nil(t, m)
	require.Empty(t, e)
}

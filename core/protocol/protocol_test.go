package protocol

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/job"
)

func TestParseRequest(t *testing.T) {
	tests := []struct {
		name, in, err string
		want          Request
	}{
		{"start", `{"id":3,"kind":"start","code":"1abc","device":"cpu"}`, "", Request{ID: 3, Kind: Start, Code: "1abc", Device: "cpu"}},
		{"start with a base", `{"id":1,"kind":"start","code":"1a","base":"UFJFVFVORQA="}`, "", Request{ID: 1, Kind: Start, Code: "1a", Base: []byte("PRETUNE\x00")}},
		{"start resuming", `{"id":1,"kind":"start","code":"1a","resume":"AAE=","snapshots":true}`, "", Request{ID: 1, Kind: Start, Code: "1a", Resume: []byte{0, 1}, Snapshots: true}},
		{"start with a base and a resume", `{"id":1,"kind":"start","code":"1a","resume":"AAE=","base":"AAE="}`, "not both", Request{}},
		{"start without code", `{"id":1,"kind":"start"}`, "start needs a code", Request{}},
		{"save default format", `{"id":2,"kind":"save"}`, "", Request{ID: 2, Kind: Save}},
		{"save safetensors", `{"id":2,"kind":"save","format":"safetensors"}`, "", Request{ID: 2, Kind: Save, Format: FormatSafetensors}},
		{"save a base", `{"id":2,"kind":"save","format":"base"}`, "", Request{ID: 2, Kind: Save, Format: FormatBase}},
		{"save unknown format", `{"id":2,"kind":"save","format":"pickle"}`, "unknown checkpoint format", Request{}},
		{"pause", `{"id":4,"kind":"pause"}`, "", Request{ID: 4, Kind: Pause}},
		{"bench on webgpu", `{"id":5,"kind":"bench","device":"webgpu"}`, "", Request{ID: 5, Kind: Bench, Device: "webgpu"}},
		{"unknown kind", `{"id":1,"kind":"dance"}`, "unknown request kind", Request{}},
		{"unknown device", `{"id":1,"kind":"bench","device":"tpu"}`, "unknown device", Request{}},
		{"not JSON", `start`, "bad request", Request{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseRequest([]byte(tc.in))
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

// TestMessageRoundTrip: what the worker encodes, the page decodes to the same message; a saved
// checkpoint's bytes survive JSON (as base64).
func TestMessageRoundTrip(t *testing.T) {
	msgs := []Message{
		{ID: 1, Kind: Device, Device: &DeviceInfo{Name: "cpu", Fallback: "no usable WebGPU"}},
		{ID: 1, Kind: Eval, Event: &job.Event{Event: "eval", Method: job.MethodPretrain, Step: 20, Steps: 60, TrainLoss: 2.5, ValLoss: 2.75}},
		{ID: 1, Kind: Sample, Step: 20, Text: "The fox 狐狸"},
		{ID: 7, Kind: Saved, Format: FormatPretune, Data: []byte{0, 1, 2, 255}},
		{ID: 1, Kind: Snapshot, Step: 40, Data: []byte{9, 8, 7}},
		{ID: 2, Kind: Metric, Name: "matmul NN 64", Value: 1.25, Unit: "GFLOP/s"},
	}
	for _, m := range msgs {
		t.Run(m.Kind, func(t *testing.T) {
			var got Message
			require.NoError(t, json.Unmarshal([]byte(m.Encode()), &got))
			require.Equal(t, m, got)
		})
	}
}

// TestEncodeNaN: a message JSON cannot carry becomes an error message instead of being lost.
func TestEncodeNaN(t *testing.T) {
	var got Message
	require.NoError(t, json.Unmarshal([]byte(Message{ID: 9, Kind: Metric, Value: math.NaN()}.Encode()), &got))
	require.Equal(t, 9, got.ID)
	require.Equal(t, Error, got.Kind)
	require.Contains(t, got.Error, "protocol:")
}

package protocol

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core"
	"pretune/core/compare"
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
		{"calibrate", `{"id":4,"kind":"calibrate","code":"1a","device":"cpu"}`, "", Request{ID: 4, Kind: Calibrate, Code: "1a", Device: "cpu"}},
		{"calibrate without code", `{"id":4,"kind":"calibrate"}`, "calibrate needs a code", Request{}},
		{"start from a file as the SFT model", `{"id":1,"kind":"start","code":"5a","base":"AAE=","as_sft":true}`, "", Request{ID: 1, Kind: Start, Code: "5a", Base: []byte{0, 1}, AsSFT: true}},
		{"start as_sft without a base", `{"id":1,"kind":"start","code":"5a","as_sft":true}`, "there is no base", Request{}},
		{"save default format", `{"id":2,"kind":"save"}`, "", Request{ID: 2, Kind: Save}},
		{"save safetensors", `{"id":2,"kind":"save","format":"safetensors"}`, "", Request{ID: 2, Kind: Save, Format: FormatSafetensors}},
		{"save a base", `{"id":2,"kind":"save","format":"base"}`, "", Request{ID: 2, Kind: Save, Format: FormatBase}},
		{"save an adapter", `{"id":2,"kind":"save","format":"adapter","method":"lora"}`, "", Request{ID: 2, Kind: Save, Format: FormatAdapter, Method: "lora"}},
		{"save the only adapter", `{"id":2,"kind":"save","format":"adapter"}`, "", Request{ID: 2, Kind: Save, Format: FormatAdapter}},
		{"save a checkpoint of a method", `{"id":2,"kind":"save","method":"lora"}`, "only for a LoRA adapter", Request{}},
		{"load an adapter", `{"id":3,"kind":"load_adapter","code":"2a","base":"AAE=","adapter":"AgM=","device":"cpu"}`, "",
			Request{ID: 3, Kind: LoadAdapter, Code: "2a", Base: []byte{0, 1}, Adapter: []byte{2, 3}, Device: "cpu"}},
		{"load an adapter without a code", `{"id":3,"kind":"load_adapter","base":"AAE=","adapter":"AgM="}`, "needs the comparison's code", Request{}},
		{"load an adapter without a base", `{"id":3,"kind":"load_adapter","code":"2a","adapter":"AgM="}`, "needs the base model", Request{}},
		{"load an empty adapter", `{"id":3,"kind":"load_adapter","code":"2a","base":"AAE=","adapter":""}`, "this one is empty", Request{}},
		{"load an adapter and resume", `{"id":3,"kind":"load_adapter","code":"2a","base":"AAE=","adapter":"AgM=","resume":"AAE="}`, "resumes nothing", Request{}},
		{"load an adapter on a tpu", `{"id":3,"kind":"load_adapter","code":"2a","base":"AAE=","adapter":"AgM=","device":"tpu"}`, "unknown device", Request{}},
		{"save unknown format", `{"id":2,"kind":"save","format":"pickle"}`, "unknown checkpoint format", Request{}},
		{"pause", `{"id":4,"kind":"pause"}`, "", Request{ID: 4, Kind: Pause}},
		{"bench on webgpu", `{"id":5,"kind":"bench","device":"webgpu"}`, "", Request{ID: 5, Kind: Bench, Device: "webgpu"}},
		{"inspect", `{"id":6,"kind":"inspect","prompt":"The fox"}`, "", Request{ID: 6, Kind: Inspect, Prompt: "The fox"}},
		{"inspect without a prompt", `{"id":6,"kind":"inspect"}`, "inspect needs a prompt", Request{}},
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
		{ID: 1, Kind: Sample, Step: 40, Text: "The fox ran", Tokens: []core.TokenProb{{ID: 4, Token: "r", Prob: 0.125}, {ID: 5, Token: "a", Prob: 0.71875}, {ID: 6, Token: "n", Prob: 1e-7}}},
		{ID: 8, Kind: Inspection, Step: 60, Inspection: &core.Inspection{
			Tokens: []string{"狐", "<unk>"}, Cut: 3,
			Next: []core.TokenProb{{ID: 9, Token: " ", Prob: 0.6}, {ID: 3, Token: "狸", Prob: 0.1}},
			// [layer][head][query][key]: causal, each row sums to 1.
			Attention: [][][][]float32{{{{1, 0}, {0.25, 0.75}}, {{1, 0}, {0.33333334, 0.6666667}}}},
		}},
		{ID: 7, Kind: Saved, Format: FormatPretune, Data: []byte{0, 1, 2, 255}},
		{ID: 3, Kind: Saved, Format: FormatAdapter, Data: []byte{8, 0, 0, 0}},
		{ID: 4, Kind: Error, Error: "lora file: made for another model: tensor x has shape [4 64], want [4 32]", Code: CodeAdapterMismatch},
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

// TestErrorCode: each kind of adapter refusal, however deeply wrapped, has its code; any other
// error none.
func TestErrorCode(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("compare: %w", fmt.Errorf("lora file: %w: header", core.ErrLoRADamaged)), CodeAdapterDamaged},
		{fmt.Errorf("lora file: %w: no lora_config", core.ErrLoRANotAdapter), CodeAdapterNotLoRA},
		{fmt.Errorf("lora file: %w: shape", core.ErrLoRAMismatch), CodeAdapterMismatch},
		{errors.New("job: the base checkpoint has no model"), ""},
		{nil, ""},
	} {
		require.Equal(t, tc.want, ErrorCode(tc.err), "%v", tc.err)
	}
}

// TestInspectionJSONIsCompact: attention maps travel as JSON numbers, a float32's shortest form,
// so a small model's maps stay small enough to post at every click.
func TestInspectionJSONIsCompact(t *testing.T) {
	const L, H, T = 2, 4, 64 // the small preset over a full context
	att := make([][][][]float32, L)
	for l := range att {
		att[l] = make([][][]float32, H)
		for h := range att[l] {
			att[l][h] = make([][]float32, T)
			for q := range att[l][h] {
				att[l][h][q] = make([]float32, T)
				for k := 0; k <= q; k++ {
					att[l][h][q][k] = 1 / float32(q+1)
				}
			}
		}
	}
	data := Message{ID: 1, Kind: Inspection, Inspection: &core.Inspection{Attention: att}}.Encode()
	require.Less(t, len(data), 300<<10, "%d bytes for %d probabilities", len(data), L*H*T*T)
	var got Message
	require.NoError(t, json.Unmarshal([]byte(data), &got))
	require.Equal(t, att, got.Inspection.Attention, "float32 values survive JSON exactly")
}

// TestEncodeNaN: a message JSON cannot carry becomes an error message instead of being lost.
func TestEncodeNaN(t *testing.T) {
	var got Message
	require.NoError(t, json.Unmarshal([]byte(Message{ID: 9, Kind: Metric, Value: math.NaN()}.Encode()), &got))
	require.Equal(t, 9, got.ID)
	require.Equal(t, Error, got.Kind)
	require.Contains(t, got.Error, "protocol:")
}

// TestEventWireFormat pins the JSON of the messages that carry a run's events, byte for byte:
// the page (and the CLI's -json, which writes the same events) reads these names.
func TestEventWireFormat(t *testing.T) {
	acc, forgot, share, fill, ms := 0.5, 0.25, 0.125, 0.75, 2.5
	opt, act := 1024, 2048
	for _, tc := range []struct {
		name string
		msg  Message
		want string
	}{
		{"eval", Message{ID: 1, Kind: Eval, Event: &job.Event{Event: "eval", Method: job.MethodPretrain, Step: 20, Steps: 60, TrainLoss: 2.5, ValLoss: 2.75, TokensPerS: 1000, Device: "cpu"}},
			`{"id":1,"kind":"eval","event":{"event":"eval","method":"pretrain","step":20,"steps":60,"train_loss":2.5,"val_loss":2.75,"tokens_per_s":1000,"device":"cpu"}}`},
		{"eval at a held-out loss of 0", Message{ID: 1, Kind: Eval, Event: &job.Event{Event: "eval", Method: "lora", Step: 10, Steps: 20}},
			`{"id":1,"kind":"eval","event":{"event":"eval","method":"lora","step":10,"steps":20,"val_loss":0}}`},
		{"device change", Message{ID: 2, Kind: Eval, Event: &job.Event{Event: "device", Method: job.MethodPretrain, Step: 20, Steps: 60, Device: "cpu", Note: "device lost"}},
			`{"id":2,"kind":"eval","event":{"event":"device","method":"pretrain","step":20,"steps":60,"val_loss":0,"device":"cpu","note":"device lost"}}`},
		{"pretraining result", Message{ID: 3, Kind: Result, Event: &job.Event{Event: "result", Method: job.MethodPretrain, Steps: 60, ValLoss: 2.5, TokensPerS: 900,
			TrainableParams: 30016, Params: 30016, Device: "cpu", Fingerprint: "cpu:28b6ea55ba86", Expected: "cpu:000000000000", Match: "differs", FillBlank: &fill}},
			`{"id":3,"kind":"result","event":{"event":"result","method":"pretrain","steps":60,"val_loss":2.5,"tokens_per_s":900,"trainable_params":30016,"params":30016,"device":"cpu","fingerprint":"cpu:28b6ea55ba86","expected_fingerprint":"cpu:000000000000","match":"differs","fill_blank_accuracy":0.75}}`},
		{"method result", Message{ID: 4, Kind: Result, Event: &job.Event{Event: "result", Method: "lora", Kind: "lora", Steps: 20, ValLoss: 2.9, TrainableParams: 1024, Device: "cpu", Fingerprint: "cpu:5dfdbf0bebab",
			TaskAccuracy: &acc, Forgetting: &forgot, TrainableShare: &share, OptimizerBytes: &opt, ActivationBytes: &act, MsPerStep: &ms,
			Answers: []compare.Answer{{Prompt: "Q", Answer: "A"}}, AnswersOff: []compare.Answer{{Prompt: "Q", Answer: "B"}}, LoRAUpdates: []core.LoRAUpdate{{Layer: 0, Target: "q_proj", Rows: 1, Cols: 2, Delta: []float32{0.5, -1}}}}},
			`{"id":4,"kind":"result","event":{"event":"result","method":"lora","steps":20,"val_loss":2.9,"trainable_params":1024,"device":"cpu","fingerprint":"cpu:5dfdbf0bebab","kind":"lora","task_accuracy":0.5,"forgetting":0.25,"trainable_share":0.125,"optimizer_bytes":1024,"activation_bytes":2048,"ms_per_step":2.5,"answers":[{"prompt":"Q","answer":"A"}],"lora_updates":[{"layer":0,"target":"q_proj","rows":1,"cols":2,"delta":[0.5,-1]}],"answers_off":[{"prompt":"Q","answer":"B"}]}}`},
		{"sample", Message{ID: 5, Kind: Sample, Step: 20, Text: "The fox", Tokens: []core.TokenProb{{ID: 9, Token: "x", Prob: 0.5}}},
			`{"id":5,"kind":"sample","step":20,"text":"The fox","tokens":[{"id":9,"token":"x","prob":0.5}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, tc.msg.Encode())
		})
	}
}

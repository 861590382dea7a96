package app

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/compare"
	"pretune/core/job"
	"pretune/core/protocol"
	"pretune/core/runspec"
	"pretune/core/task"
)

func ptr[T any](v T) *T { return &v }

// twoMethods is a short comparison of full fine-tuning and LoRA from the en-tiny base.
func twoMethods(t *testing.T) runspec.Spec {
	t.Helper()
	tiny, err := runspec.PresetByName("en-tiny")
	require.NoError(t, err)
	f := newCompareSetup(basePretrained, tiny.Spec)
	require.NoError(t, f.SetSteps("20"))
	for i := range f.Methods {
		f.Methods[i].On = f.Methods[i].Kind == compare.Full || f.Methods[i].Kind == compare.LoRA
	}
	spec, err := f.Spec(EN)
	require.NoError(t, err)
	require.Len(t, spec.Methods, 2)
	return spec
}

// heldOut are en-facts' first held-out prompts and answers, as the workers answer them.
func heldOut(t *testing.T, n int) []compare.Answer {
	t.Helper()
	tk, err := task.Builtin("en-facts")
	require.NoError(t, err)
	var out []compare.Answer
	for _, p := range tk.ValPairs[:n] {
		out = append(out, compare.Answer{Prompt: p.Prompt, Answer: p.Response})
	}
	return out
}

// workerMessages are what a method's worker sends for a comparison from a base: the device, the
// base's pretraining and the base, the method's evaluations, its result, done.
func workerMessages(id int, method string, answers []compare.Answer, acc, forget float64, params, opt int, ms float64) []protocol.Message {
	return []protocol.Message{
		{ID: id, Kind: protocol.Device, Device: &protocol.DeviceInfo{Name: "cpu", Fallback: "no usable WebGPU"}},
		{ID: id, Kind: protocol.Result, Event: &job.Event{Event: "result", Method: job.MethodPretrain, Fingerprint: "cpu:00000000000a", Note: "kept"}},
		{ID: id, Kind: protocol.Result, Event: &job.Event{Event: "result", Method: compare.Base, Kind: compare.Base, ValLoss: 3.0,
			TaskAccuracy: ptr(0.0), Forgetting: ptr(0.0), Answers: []compare.Answer{{Prompt: answers[0].Prompt, Answer: "no idea"}, {Prompt: answers[1].Prompt, Answer: "?"}}}},
		{ID: id, Kind: protocol.Eval, Event: &job.Event{Event: "eval", Method: method, Step: 10, Steps: 20, TrainLoss: 2.5, ValLoss: 2.6}},
		{ID: id + 100, Kind: protocol.Eval, Event: &job.Event{Event: "eval", Method: method, Step: 15, Steps: 20, TrainLoss: 9, ValLoss: 9}}, // another request's
		{ID: id, Kind: protocol.Eval, Event: &job.Event{Event: "eval", Method: method, Step: 20, Steps: 20, TrainLoss: 2.0, ValLoss: 2.2}},
		{ID: id, Kind: protocol.Result, Event: &job.Event{Event: "result", Method: method, Kind: method, ValLoss: 2.2, Steps: 20,
			TrainableParams: params, TaskAccuracy: ptr(acc), Forgetting: ptr(forget), TrainableShare: ptr(float64(params) / 30016),
			OptimizerBytes: ptr(opt), MsPerStep: ptr(ms), Fingerprint: "cpu:" + method + "0000000", Answers: answers}},
		{ID: id, Kind: protocol.Done},
	}
}

// TestComparisonFromMessages: two workers' messages fill the table (base first), the chart and
// the answers, and the comparison ends when both are done.
func TestComparisonFromMessages(t *testing.T) {
	spec := twoMethods(t)
	c := newComparison(spec)
	require.Equal(t, phaseBase, c.Phase)
	c.Lanes[0].ReqID, c.Lanes[1].ReqID = 1, 1 // each worker numbers its own requests
	c.fineTuning()
	answers := heldOut(t, 2)
	wrong := []compare.Answer{answers[0], {Prompt: answers[1].Prompt, Answer: "the moon"}}
	full := workerMessages(1, "full", answers, 1, 0.25, 30016, 240128, 12.5)
	lora := workerMessages(1, "lora", wrong, 0.5, 0, 1024, 8192, 7.25)
	for i := range full { // interleaved, as two workers side by side
		c.Apply(0, full[i])
		require.NotEqual(t, phaseDone, c.Phase, "not done before both are")
		c.Apply(1, lora[i])
	}
	require.Equal(t, phaseDone, c.Phase)
	require.Equal(t, "cpu:00000000000a", c.PretrainResult.Fingerprint)
	require.Equal(t, []point{{10, 2.5, 2.6}, {20, 2.0, 2.2}}, c.Lanes[0].Points, "another request's evaluation is not this lane's")
	require.Equal(t, "cpu", c.Lanes[1].Device)
	require.Equal(t, "no usable WebGPU", c.Lanes[1].Fallback)

	rows := c.Rows()
	require.Len(t, rows, 3)
	require.Equal(t, []string{"base", "full", "lora"}, []string{rows[0].Name, rows[1].Name, rows[2].Name})
	for _, r := range rows {
		require.Equal(t, statusDone, r.Status)
	}
	require.Nil(t, rows[0].Trainable, "the base trains nothing")
	require.Equal(t, 1024, *rows[2].Trainable)
	require.Equal(t, 7.25, *rows[2].MsPerStep)

	// The CSV: a header and one line a row, plain numbers (accuracy in percent). Each heading
	// names its unit and says what the column means, in the words the page shows on hover.
	recs, err := csv.NewReader(bytes.NewReader(c.CSV(EN))).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, 4)
	var names []string
	for _, h := range recs[0] {
		name, about, ok := strings.Cut(h, ": ")
		require.True(t, ok, "heading %q has no explanation", h)
		require.NotEmpty(t, about, h)
		names = append(names, name)
	}
	require.Equal(t, []string{"Method", "Task accuracy (%)", "Forgetting (nats/token)", "Trainable parameters", "Share of the model (%)",
		"Optimizer memory (bytes)", "ms/step", "Fingerprint", "State"}, names)
	require.Equal(t, "Forgetting (nats/token): how much worse the model predicts its pretraining text after fine-tuning", recs[0][2])
	require.Equal(t, []string{"base (not fine-tuned)", "0.0", "0.0000", "", "", "", "", "", "finished"}, recs[1])
	require.Equal(t, []string{"full fine-tuning", "100.0", "0.2500", "30016", "100.00", "240128", "12.5", "cpu:full0000000", "finished"}, recs[2])
	require.Equal(t, []string{"LoRA", "50.0", "0.0000", "1024", "3.41", "8192", "7.2", "cpu:lora0000000", "finished"}, recs[3])
	zhRecs, err := csv.NewReader(bytes.NewReader(c.CSV(ZH))).ReadAll()
	require.NoError(t, err)
	require.Equal(t, "方法："+ZH.T("about.table.method"), zhRecs[0][0])
	require.Equal(t, "低秩适配", zhRecs[3][0])

	// The chart: each method's held-out curve and its fainter training one.
	lines := c.chartLines(EN)
	require.Len(t, lines, 4)
	require.Equal(t, "full fine-tuning held-out", lines[0].Label)
	require.Equal(t, [][2]float64{{10, 2.6}, {20, 2.2}}, lines[0].Points)
	require.False(t, lines[0].Faint)
	require.True(t, lines[1].Faint)
	require.Equal(t, [][2]float64{{10, 2.5}, {20, 2.0}}, lines[1].Points)
	require.Equal(t, lines[0].Color, lines[1].Color)
	require.NotEqual(t, lines[0].Color, lines[2].Color)
	require.Equal(t, "LoRA training", lines[3].Label)
	var polylines, faint int
	parseSVG(t, c.chart(EN)).walk(func(n svgNode) {
		if n.XMLName.Local == "polyline" {
			polylines++
			if n.attr("stroke-opacity") != "" {
				faint++
			}
		}
	})
	require.Equal(t, 4, polylines)
	require.Equal(t, 2, faint)

	// The answers: one row a prompt, the expected answer, then base, full, LoRA.
	ans := c.AnswerRows()
	require.Len(t, ans, 2)
	require.Equal(t, answers[1].Prompt, ans[1].Prompt)
	require.Equal(t, answers[1].Answer, ans[1].Expected)
	require.Equal(t, []string{"?", answers[1].Answer, "the moon"}, ans[1].Answers)
}

// TestComparisonFailures: a worker's error fails its method only; a worker that dies (id 0)
// too; the comparison fails when no method finished; stopping ends what still runs and late
// messages change nothing.
func TestComparisonFailures(t *testing.T) {
	spec := twoMethods(t)
	answers := heldOut(t, 2)

	c := newComparison(spec)
	c.Lanes[0].ReqID, c.Lanes[1].ReqID = 1, 1
	c.fineTuning()
	c.Apply(0, protocol.Message{ID: 1, Kind: protocol.Error, Error: "checkpoint: the file is damaged"})
	require.Equal(t, statusFailed, c.Lanes[0].Status)
	require.Equal(t, phaseFineTune, c.Phase)
	for _, m := range workerMessages(1, "lora", answers, 0.5, 0, 1024, 8192, 7) {
		c.Apply(1, m)
	}
	require.Equal(t, phaseDone, c.Phase, "one method finished")
	rows := c.Rows()
	require.Equal(t, statusFailed, rows[1].Status)
	require.Equal(t, "checkpoint: the file is damaged", rows[1].Err)
	recs, err := csv.NewReader(bytes.NewReader(c.CSV(EN))).ReadAll()
	require.NoError(t, err)
	require.Equal(t, "failed: checkpoint: the file is damaged", recs[2][8])

	c = newComparison(spec)
	c.Lanes[0].ReqID, c.Lanes[1].ReqID = 1, 1
	c.fineTuning()
	c.Apply(0, protocol.Message{ID: 0, Kind: protocol.Error, Error: "the trainer stopped with an error: out of memory"})
	c.Apply(1, protocol.Message{ID: 1, Kind: protocol.Done}) // done without a result
	require.Equal(t, phaseFailed, c.Phase)
	require.Equal(t, "the trainer finished without a result", c.Lanes[1].Err)

	c = newComparison(spec)
	c.Lanes[0].ReqID, c.Lanes[1].ReqID = 1, 1
	c.fineTuning()
	c.Apply(0, protocol.Message{ID: 1, Kind: protocol.Device, Device: &protocol.DeviceInfo{Name: "cpu"}})
	c.stop()
	require.Equal(t, phaseStopped, c.Phase)
	require.Equal(t, statusStopped, c.Lanes[0].Status)
	require.Equal(t, statusStopped, c.Lanes[1].Status)
	c.Apply(0, workerMessages(1, "full", answers, 1, 0, 1, 1, 1)[6])
	require.Nil(t, c.Lanes[0].Result, "a stopped lane takes no late result")
	require.False(t, c.Active())

	c = newComparison(spec)
	c.fail("base.err.missing", "web/base/en-base.ckpt: HTTP 404 Not Found")
	require.Equal(t, phaseFailed, c.Phase)
	require.Equal(t, statusStopped, c.Rows()[0].Status)
}

func TestFmtBytes(t *testing.T) {
	for in, want := range map[int]string{0: "0 B", 1000: "1000 B", 2048: "2.0 KiB", 240128: "234.5 KiB", 3 << 20: "3.0 MiB"} {
		require.Equal(t, want, fmtBytes(&in))
	}
	require.Empty(t, fmtBytes(nil))
}

package worker

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pretune/core"
	"pretune/core/checkpoint"
	"pretune/core/compare"
	"pretune/core/job"
	"pretune/core/ops"
	"pretune/core/protocol"
	"pretune/core/runspec"
)

// TestStartReportsTheRun: a start answers, all with its id, which device it runs on, then every
// evaluation with a sample and a snapshot, then the result and done; a start from a snapshot
// ends with the same fingerprint.
func TestStartReportsTheRun(t *testing.T) {
	p := newPage(t)
	id := p.ask(protocol.Request{ID: 7, Kind: protocol.Start, Code: tinyCode(t, 0), Device: "cpu", Snapshots: true})
	got := p.of(id)
	require.Len(t, p.all(), len(got), "every message answers the start")
	require.Equal(t, protocol.Device, got[0].Kind)
	require.Equal(t, &protocol.DeviceInfo{Name: "cpu"}, got[0].Device)
	require.Equal(t, []string{protocol.Result, protocol.Done}, kinds(got[len(got)-2:]))

	var evals, samples, snaps []int
	for _, m := range got {
		switch m.Kind {
		case protocol.Eval:
			require.Equal(t, "eval", m.Event.Event)
			require.Equal(t, job.MethodPretrain, m.Event.Method)
			require.Positive(t, m.Event.ValLoss)
			evals = append(evals, m.Event.Step)
		case protocol.Sample:
			require.True(t, strings.HasPrefix(m.Text, samplePrompt(mustDecode(t, tinyCode(t, 0)))), m.Text)
			require.NotEmpty(t, m.Tokens)
			samples = append(samples, m.Step)
		case protocol.Snapshot:
			require.NotEmpty(t, m.Data)
			snaps = append(snaps, m.Step)
		}
	}
	require.Equal(t, []int{20, 40, 60}, evals)
	require.Equal(t, []int{20, 40, 60}, samples)
	require.Equal(t, []int{20, 40, 60}, snaps)
	result := got[len(got)-2].Event
	require.Equal(t, "result", result.Event)
	require.True(t, strings.HasPrefix(result.Fingerprint, "cpu:"), result.Fingerprint)

	var at40 []byte
	for _, m := range got {
		if m.Kind == protocol.Snapshot && m.Step == 40 {
			at40 = m.Data
		}
	}
	again := p.ask(protocol.Request{Kind: protocol.Start, Code: tinyCode(t, 0), Device: "cpu", Resume: at40})
	resumed := without(p.of(again), protocol.Progress)
	require.Equal(t, []string{protocol.Device, protocol.Eval, protocol.Sample, protocol.Result, protocol.Done}, kinds(resumed))
	require.Equal(t, 60, resumed[1].Event.Step, "it resumes after the evaluation at 40")
	require.Equal(t, result.Fingerprint, resumed[3].Event.Fingerprint)
}

func mustDecode(t *testing.T, code string) runspec.Spec {
	spec, err := runspec.Decode(code)
	require.NoError(t, err)
	return spec
}

// TestPauseResume: a paused run takes no step until it is resumed, lends its model to save and
// inspect meanwhile, and then runs on; a running one refuses a save and a second start.
func TestPauseResume(t *testing.T) {
	p := newPage(t)
	run := p.begin(protocol.Request{Kind: protocol.Start, Code: tinyCode(t, 100000), Device: "cpu"})
	p.waitKind(run, protocol.Sample) // the model exists from the first evaluation

	busy := p.ask(protocol.Request{Kind: protocol.Start, Code: tinyCode(t, 0)})
	require.Contains(t, p.answer(busy, protocol.Error).Error, "already in progress")
	early := p.ask(protocol.Request{Kind: protocol.Save})
	require.Equal(t, "pause the run before saving its model", p.answer(early, protocol.Error).Error)
	running := p.ask(protocol.Request{Kind: protocol.Inspect, Prompt: "The "})
	require.Equal(t, protocol.Inspection, p.of(running)[0].Kind, "a running run lends its model between steps")

	pause := p.ask(protocol.Request{Kind: protocol.Pause})
	p.answer(pause, protocol.Done)
	// The pause takes effect at the next step's end: the run may finish the step it is in.
	step := func() int { return p.of(p.ask(protocol.Request{Kind: protocol.Inspect, Prompt: "The "}))[0].Step }
	before := step()
	var paused int
	for settled, deadline := false, time.Now().Add(10*time.Second); !settled; {
		require.True(t, time.Now().Before(deadline), "the paused run never stops stepping")
		paused = step()
		time.Sleep(100 * time.Millisecond)
		settled = step() == paused
	}
	require.LessOrEqual(t, paused, before+1, "a run pauses at the end of the step it is in")
	evals := len(p.of(run))
	time.Sleep(500 * time.Millisecond) // dozens of steps, and an evaluation, were the run going on
	require.Equal(t, paused, step(), "a paused run takes no step")
	require.Len(t, p.of(run), evals, "a paused run reports nothing")
	save := p.ask(protocol.Request{Kind: protocol.Save})
	require.Equal(t, protocol.Saved, p.of(save)[0].Kind)
	p.answer(save, protocol.Done)

	resume := p.ask(protocol.Request{Kind: protocol.Resume})
	p.answer(resume, protocol.Done)
	p.wait(run, func(m protocol.Message) bool { return m.Kind == protocol.Eval && m.Event.Step > paused })

	stop := p.ask(protocol.Request{Kind: protocol.Stop})
	p.answer(stop, protocol.Done)
	require.Equal(t, "stopped", p.waitEnd(run).Error)
}

// TestStop: a stopped run (paused or not) answers the error "stopped" and no result; then there
// is no run to control.
func TestStop(t *testing.T) {
	for _, pauseFirst := range []bool{false, true} {
		name := map[bool]string{false: "running", true: "paused"}[pauseFirst]
		t.Run(name, func(t *testing.T) {
			p := newPage(t)
			run := p.begin(protocol.Request{Kind: protocol.Start, Code: tinyCode(t, 100000), Device: "cpu"})
			p.waitKind(run, protocol.Eval)
			if pauseFirst {
				p.answer(p.ask(protocol.Request{Kind: protocol.Pause}), protocol.Done)
			}
			stop := p.ask(protocol.Request{Kind: protocol.Stop})
			p.answer(stop, protocol.Done)
			end := p.waitEnd(run)
			require.Equal(t, protocol.Message{ID: run, Kind: protocol.Error, Error: "stopped"}, end)
			require.NotContains(t, kinds(p.of(run)), protocol.Result)
			for _, kind := range []string{protocol.Pause, protocol.Resume, protocol.Stop} {
				id := p.ask(protocol.Request{Kind: kind})
				require.Equal(t, "no run in progress", p.answer(id, protocol.Error).Error)
			}
		})
	}
}

// TestRefusals: a request that cannot be answered gets one error message, with its id (0 only
// when the request is not even JSON) and no code, saying why.
func TestRefusals(t *testing.T) {
	for _, tc := range []struct {
		name, req, err string
		id             int
	}{
		{"not JSON", `start`, "bad request", 0},
		{"unknown kind", `{"id":5,"kind":"dance"}`, `unknown request kind "dance"`, 5},
		{"start without a code", `{"id":6,"kind":"start"}`, "start needs a code", 6},
		{"start with a broken code", `{"id":7,"kind":"start","code":"9zz"}`, "runspec", 7},
		{"unknown device", `{"id":8,"kind":"bench","device":"tpu"}`, "unknown device", 8},
		{"pause without a run", `{"id":9,"kind":"pause"}`, "no run in progress", 9},
		{"save before any run", `{"id":10,"kind":"save"}`, "no model to save yet", 10},
		{"save a base before any run", `{"id":11,"kind":"save","format":"base"}`, "can be saved as a base", 11},
		{"save an adapter before any comparison", `{"id":12,"kind":"save","format":"adapter"}`, "compare:", 12},
		{"inspect before any run", `{"id":13,"kind":"inspect","prompt":"The"}`, "start a run first", 13},
		{"load an adapter onto a damaged base", `{"id":14,"kind":"load_adapter","code":"` + tinyComparison(t) + `","base":"AAE=","adapter":"AAE=","device":"cpu"}`, "checkpoint", 14},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPage(t)
			p.h.Handle([]byte(tc.req))
			var got []protocol.Message
			for _, m := range p.all() {
				if m.Kind != protocol.Device {
					got = append(got, m)
				}
			}
			require.Len(t, got, 1, "%v", kinds(p.all()))
			require.Equal(t, protocol.Error, got[0].Kind)
			require.Equal(t, tc.id, got[0].ID)
			require.Empty(t, got[0].Code)
			require.Contains(t, got[0].Error, tc.err)
		})
	}
}

// TestDeviceChoice: the page hears which device a request got; an explicit request for WebGPU
// where there is none goes on on the CPU and says why, and anything else the opener refuses is
// an error.
func TestDeviceChoice(t *testing.T) {
	gpu := protocol.DeviceInfo{Name: "webgpu/test adapter", MaxBufferMiB: 128, WorkgroupKiB: 16}
	opener := func(name string) (ops.Device, protocol.DeviceInfo, error) {
		switch name {
		case "auto", "webgpu":
			return nil, protocol.DeviceInfo{}, errWebGPUMissing
		case "":
			return ops.NewCPU(), gpu, nil // what the opener says is what the page hears
		}
		return ops.NewCPU(), protocol.DeviceInfo{Name: "cpu"}, nil
	}
	for _, tc := range []struct {
		device string
		want   *protocol.DeviceInfo
		err    string
	}{
		{"cpu", &protocol.DeviceInfo{Name: "cpu"}, ""},
		{"", &gpu, ""},
		{"webgpu", &protocol.DeviceInfo{Name: "cpu", Kernel: ops.CPUKernel(), Fallback: "WebGPU is not available here: " + errWebGPUMissing.Error()}, ""},
		{"auto", nil, errWebGPUMissing.Error()},
	} {
		t.Run(fmt.Sprintf("%q", tc.device), func(t *testing.T) {
			p := newPageWith(t, opener)
			id := p.ask(protocol.Request{Kind: protocol.Conformance, Device: tc.device})
			got := p.of(id)
			if tc.err != "" {
				require.Equal(t, []protocol.Message{{ID: id, Kind: protocol.Error, Error: tc.err}}, got)
				return
			}
			require.Equal(t, protocol.Message{ID: id, Kind: protocol.Device, Device: tc.want}, got[0])
			require.Equal(t, protocol.Done, got[len(got)-1].Kind)
		})
	}
}

var errWebGPUMissing = errString("no WebGPU adapter")

type errString string

func (e errString) Error() string { return string(e) }

// TestConformance: the CPU device passes every check of the suite, each reported with the
// request's id, then done.
func TestConformance(t *testing.T) {
	p := newPage(t)
	id := p.ask(protocol.Request{Kind: protocol.Conformance, Device: "cpu"})
	got := p.of(id)
	require.Len(t, p.all(), len(got))
	require.Equal(t, protocol.Done, got[len(got)-1].Kind)
	names := map[string]bool{}
	for _, m := range got[1 : len(got)-1] {
		require.Equal(t, protocol.Check, m.Kind)
		require.True(t, m.Pass, "%s: %s", m.Name, m.Error)
		require.False(t, names[m.Name], "%s reported twice", m.Name)
		names[m.Name] = true
	}
	require.GreaterOrEqual(t, len(names), 11, "one check or more per op")
}

// TestBench: the bench answers its figures (matrix products in GFLOP/s, training in tokens per
// second), each with the request's id, then done.
func TestBench(t *testing.T) {
	if testing.Short() {
		t.Skip("measures for seconds")
	}
	p := newPage(t)
	id := p.ask(protocol.Request{Kind: protocol.Bench, Device: "cpu"})
	got := p.of(id)
	require.Len(t, p.all(), len(got))
	require.Equal(t, protocol.Device, got[0].Kind)
	require.Equal(t, protocol.Done, got[len(got)-1].Kind)
	units := map[string]int{}
	for _, m := range got[1 : len(got)-1] {
		require.Equal(t, protocol.Metric, m.Kind)
		require.NotEmpty(t, m.Name)
		require.Positive(t, m.Value, m.Name)
		units[m.Unit]++
	}
	require.Equal(t, 9, units["GFLOP/s"], "NN, NT and TN at three sizes: %v", units)
	require.Equal(t, 2, units["tokens/s"], "the tiny and small presets: %v", units)
	require.Equal(t, 2, units["ms/step"], "the tiny and small presets: %v", units)
}

// loadInspect is what a checkpoint's model, loaded on the CPU by the reader of its format,
// answers an inspection with.
func loadInspect(t *testing.T, format string, data []byte, prompt string) *core.Inspection {
	t.Helper()
	read := checkpoint.Load
	if format == protocol.FormatSafetensors {
		read = checkpoint.ImportSafetensors
	}
	ck, err := read(bytes.NewReader(data), ops.NewCPU())
	require.NoError(t, err)
	defer ck.Model.Free()
	ins, err := ck.Model.Inspect(ck.Tok, prompt, protocol.InspectTop)
	require.NoError(t, err)
	return ins
}

// TestComparison: after a comparison, its model saves in every format as bytes that load back
// (the same model: it answers an inspection alike), its LoRA method's adapter saves and loads
// onto the saved base with the answers the method gave, and a file that cannot be used is
// refused with the code the page explains it by.
func TestComparison(t *testing.T) {
	p := newPage(t)
	code := tinyComparison(t)
	run := p.ask(protocol.Request{Kind: protocol.Start, Code: code, Device: "cpu", Snapshots: true})
	p.answer(run, protocol.Done)
	t.Run("conversation", func(t *testing.T) {
		checkConversation(t, p.of(run))
	})

	const prompt = "The fox"
	ins := p.ask(protocol.Request{Kind: protocol.Inspect, Prompt: prompt})
	p.answer(ins, protocol.Done)
	inspection := p.of(ins)[0]
	require.Equal(t, protocol.Inspection, inspection.Kind)
	require.Equal(t, 60, inspection.Step, "the pretrained base's model, after its 60 steps")

	saved := map[string][]byte{}
	for _, tc := range []struct{ format, want string }{
		{"", protocol.FormatPretune},
		{protocol.FormatPretune, protocol.FormatPretune},
		{protocol.FormatSafetensors, protocol.FormatSafetensors},
		{protocol.FormatBase, protocol.FormatBase},
	} {
		t.Run("save "+tc.want, func(t *testing.T) {
			p.t = t
			id := p.ask(protocol.Request{Kind: protocol.Save, Format: tc.format})
			p.answer(id, protocol.Done)
			m := p.of(id)[0]
			require.Equal(t, protocol.Saved, m.Kind)
			require.Equal(t, tc.want, m.Format)
			require.Equal(t, inspection.Inspection, loadInspect(t, tc.want, m.Data, prompt), "the saved model is the run's")
			saved[tc.want] = m.Data
		})
	}
	p.t = t
	ck, err := checkpoint.Load(bytes.NewReader(saved[protocol.FormatBase]), ops.NewCPU())
	require.NoError(t, err)
	require.True(t, job.IsBaseOf(ck, mustDecode(t, code)), "a base knows its pretraining")
	ck.Model.Free()

	var lora *job.Event
	for _, m := range p.of(run) {
		if m.Kind == protocol.Result && m.Event.Kind == compare.LoRA {
			lora = m.Event
		}
	}
	require.NotNil(t, lora)
	require.NotEmpty(t, lora.Answers)
	adapter := p.ask(protocol.Request{Kind: protocol.Save, Format: protocol.FormatAdapter})
	p.answer(adapter, protocol.Done)
	file := p.of(adapter)[0]
	require.Equal(t, protocol.Saved, file.Kind)
	require.Equal(t, protocol.FormatAdapter, file.Format)
	loaded := p.ask(protocol.Request{Kind: protocol.LoadAdapter, Code: code, Device: "cpu", Base: saved[protocol.FormatBase], Adapter: file.Data})
	got := p.of(loaded)
	require.Equal(t, []string{protocol.Device, protocol.Result, protocol.Done}, kinds(got))
	require.Equal(t, compare.Loaded, got[1].Event.Method)
	require.Equal(t, lora.Answers, got[1].Event.Answers, "the loaded adapter answers as the method did")
	require.Equal(t, lora.LoRAUpdates, got[1].Event.LoRAUpdates)

	for _, tc := range []struct {
		name    string
		adapter []byte
		code    string
	}{
		{"cut short", file.Data[:len(file.Data)/2], protocol.CodeAdapterDamaged},
		{"a damaged header", append([]byte{0xff, 0xff, 0, 0, 0, 0, 0, 0}, file.Data[8:]...), protocol.CodeAdapterDamaged},
		{"a whole model", saved[protocol.FormatSafetensors], protocol.CodeAdapterNotLoRA},
	} {
		t.Run("load an adapter file with "+tc.name, func(t *testing.T) {
			p.t = t
			id := p.ask(protocol.Request{Kind: protocol.LoadAdapter, Code: code, Device: "cpu", Base: saved[protocol.FormatBase], Adapter: tc.adapter})
			end := p.answer(id, protocol.Error)
			require.Equal(t, tc.code, end.Code, end.Error)
			require.Equal(t, id, end.ID)
		})
	}
}

package app

import (
	"bytes"
	"encoding/csv"
	"html"
	"regexp"
	"strings"
	"testing"

	"github.com/maxence-charriere/go-app/v9/pkg/app"
	"github.com/stretchr/testify/require"

	"pretune/core/compare"
	"pretune/core/feedback"
	"pretune/core/fingerprint"
	"pretune/core/job"
	"pretune/core/protocol"
	"pretune/core/runspec"
)

// tuningTestView draws the tuning piece as the Feedback view embeds it: the form, then the run.
type tuningTestView struct {
	app.Compo
	l     Lang
	setup *tuningSetup
	run   *tuning
}

func (v *tuningTestView) Render() app.UI {
	var form, run app.UI
	if v.setup != nil {
		form = v.setup.render(v.l, v.run != nil && v.run.Active())
	}
	if v.run != nil {
		run = v.run.render(v.l)
	}
	return app.Div().Body(form, run)
}

// tuningStage is the English feedback lesson with PPO and DPO, the fingerprints a link carried
// for the SFT model, the reward model and PPO, and a device.
func tuningStage(t *testing.T) runspec.Spec {
	t.Helper()
	p, err := runspec.PresetByName("en-feedback")
	require.NoError(t, err)
	spec := p.Spec
	fb := *spec.Feedback
	fb.Methods = []feedback.Method{feedback.Defaults(feedback.PPO), feedback.Defaults(feedback.DPO)}
	spec.Feedback = &fb
	spec.Device = runspec.DeviceCPU
	spec.Fingerprints = map[string]string{feedback.SFT: "cpu:5f7000000000", feedback.RewardModel: "cpu:4d0000000000", feedback.PPO: "cpu:990000000000"}
	_, err = runspec.Encode(spec)
	require.NoError(t, err)
	return spec
}

// tuningAnswers are an SFT model's or a method's answers to two held-out prompts.
func tuningAnswers(a, b string) []compare.Answer {
	return []compare.Answer{{Prompt: "What does the fox eat?", Answer: a}, {Prompt: "Where does the owl live?", Answer: b}}
}

// tuningMessages are what a method's worker sends for a stage from a kept SFT model: the device,
// the SFT model as the pretraining's result, the reward model's evaluations, a step's progress,
// the method's evaluations (and one of another request), the SFT model's, the reward model's
// and the method's results, done.
func tuningMessages(method string, sftFP string, reward, kl, win float64, fp string) []protocol.Message {
	return []protocol.Message{
		{ID: 1, Kind: protocol.Device, Device: &protocol.DeviceInfo{Name: "cpu", Fallback: "no usable WebGPU"}},
		{ID: 1, Kind: protocol.Result, Event: &job.Event{Event: "result", Method: job.MethodPretrain, Fingerprint: "cpu:00000000000a"}},
		{ID: 1, Kind: protocol.Eval, Event: &job.Event{Event: "eval", Method: feedback.RewardModel, Step: 75, Steps: 150, RMAccuracy: ptr(0.7)}},
		{ID: 1, Kind: protocol.Progress, Event: &job.Event{Event: "progress", Method: method, Step: 3, Steps: 40}},
		{ID: 1, Kind: protocol.Eval, Event: &job.Event{Event: "eval", Method: method, Step: 10, Steps: 40, Reward: ptr(reward / 2), KL: ptr(kl / 4)}},
		{ID: 101, Kind: protocol.Eval, Event: &job.Event{Event: "eval", Method: method, Step: 15, Steps: 40, Reward: ptr(99.0), KL: ptr(99.0)}},
		{ID: 1, Kind: protocol.Eval, Event: &job.Event{Event: "eval", Method: method, Step: 40, Steps: 40, Reward: ptr(reward), KL: ptr(kl)}},
		{ID: 1, Kind: protocol.Eval, Event: &job.Event{Event: "checkpoint?", Method: method, Step: 7}}, // a kind this page does not know
		{ID: 1, Kind: protocol.Result, Event: &job.Event{Event: "result", Method: feedback.SFT, Kind: feedback.SFT, Fingerprint: sftFP,
			Reward: ptr(-0.5), KL: ptr(0.0), GoldWinRate: ptr(0.5), WinJudge: feedback.JudgeTaste, TaskAccuracy: ptr(0.8), Forgetting: ptr(0.0),
			TrainableParams: 30016, OptimizerBytes: ptr(240128), MsPerStep: ptr(0.0), Answers: tuningAnswers("berries", "in the woods")}},
		{ID: 1, Kind: protocol.Result, Event: &job.Event{Event: "result", Method: feedback.RewardModel, Kind: feedback.RewardModel,
			Fingerprint: "cpu:4d0000000000", RMAccuracy: ptr(0.75), RMGoldAccuracy: ptr(0.8)}},
		{ID: 1, Kind: protocol.Result, Event: &job.Event{Event: "result", Method: method, Kind: method, Steps: 40, Fingerprint: fp,
			Reward: ptr(reward), KL: ptr(kl), GoldWinRate: ptr(win), WinJudge: feedback.JudgeTaste, TaskAccuracy: ptr(0.75), Forgetting: ptr(0.01),
			TrainableParams: 30016, OptimizerBytes: ptr(240128), MsPerStep: ptr(20.5), Answers: tuningAnswers("fish and "+method, "near food")}},
		{ID: 1, Kind: protocol.Done},
	}
}

// TestTuningStartsOneWorkerPerMethod: each method gets a worker of its own with a start request
// whose code is the stage with that one method (and the link's fingerprints for what it runs),
// the SFT model as Base, AsSFT and the device.
func TestTuningStartsOneWorkerPerMethod(t *testing.T) {
	spec := tuningStage(t)
	sft := []byte("the SFT model")
	for _, asSFT := range []bool{false, true} {
		h := &fakeHost{}
		tu := startTuning(h, spec, sft, asSFT)
		require.Len(t, h.workers, 2)
		require.True(t, tu.Active())
		for i, w := range h.workers {
			require.Len(t, w.sent, 1)
			start := w.sent[0]
			require.Equal(t, protocol.Start, start.Kind)
			require.Equal(t, sft, start.Base)
			require.Equal(t, asSFT, start.AsSFT)
			require.Equal(t, runspec.DeviceCPU, start.Device)
			got, err := runspec.Decode(start.Code)
			require.NoError(t, err)
			m := spec.Feedback.Methods[i]
			require.Equal(t, []feedback.Method{m}, got.Feedback.Methods, "worker %d runs its method alone", i)
			wantFP := map[string]string{feedback.SFT: "cpu:5f7000000000", feedback.RewardModel: "cpu:4d0000000000"}
			if m.Kind == feedback.PPO {
				wantFP[feedback.PPO] = "cpu:990000000000"
			}
			require.Equal(t, wantFP, got.Fingerprints)
			// Everything else is the stage's.
			got.Feedback.Methods, got.Fingerprints = spec.Feedback.Methods, spec.Fingerprints
			want := spec
			want.Version = got.Version
			require.Equal(t, want, got)
			require.Equal(t, start.ID, tu.Lanes[i].ReqID)
		}
	}
	require.Len(t, spec.Feedback.Methods, 2, "the stage's own spec keeps every method")
}

// TestTuningMessages: the workers' messages fill each lane (device, stage, progress, the reward
// and KL points), the SFT and reward model rows from the first report, the table with its
// fingerprint verdicts, the answers and the CSV; a worker closes once its method's result and
// done came, and only then.
func TestTuningMessages(t *testing.T) {
	spec := tuningStage(t)
	h := &fakeHost{}
	tu := startTuning(h, spec, []byte("sft"), false)
	ppo, dpo := h.workers[0], h.workers[1]
	pm := tuningMessages(feedback.PPO, "cpu:5f7000000000", 1.5, 0.25, 0.75, "cpu:990000000000")
	dm := tuningMessages(feedback.DPO, "cpu:5f7111111111", 1.0, 0.125, 0.625, "cpu:dd0000000000")

	ppo.say(pm[:3]...)
	ln := tu.Lanes[0]
	require.Equal(t, statusRunning, ln.Status)
	require.Equal(t, "cpu", ln.Device)
	require.Equal(t, feedback.RewardModel, ln.Stage)
	require.Equal(t, [2]int{75, 150}, [2]int{ln.Step, ln.Steps}, "the reward model's progress")
	ppo.say(pm[3])
	require.Equal(t, [2]int{3, 40}, [2]int{ln.Step, ln.Steps}, "a step's progress")
	require.Equal(t, feedback.PPO, ln.Stage)
	ppo.say(pm[4:8]...)
	require.Equal(t, []tuningPoint{{10, 0.75, 0.0625}, {40, 1.5, 0.25}}, ln.Points, "another request's evaluation is not this run's")
	require.Nil(t, tu.SFT)
	require.False(t, ppo.closed)

	ppo.say(pm[8:11]...)
	require.False(t, ppo.closed, "not before done")
	require.Equal(t, statusRunning, ln.Status)
	ppo.say(pm[11])
	require.Equal(t, statusDone, ln.Status)
	require.True(t, ppo.closed, "its method is over")
	require.True(t, tu.Active(), "DPO still trains")

	dpo.say(dm...)
	require.True(t, dpo.closed)
	require.False(t, tu.Active())
	require.Equal(t, "cpu:5f7000000000", tu.SFT.Fingerprint, "the first worker's SFT result")
	require.Equal(t, 0.75, *tu.RewardModel.RMAccuracy)

	rows := tu.Rows()
	require.Len(t, rows, 3)
	require.Equal(t, feedback.SFT, rows[0].Name)
	require.Equal(t, statusDone, rows[0].Status)
	require.Equal(t, -0.5, *rows[0].Reward)
	require.Nil(t, rows[0].Trainable, "the SFT model trains nothing here")
	require.Equal(t, fingerprint.Matches, rows[0].Match)
	require.Equal(t, feedback.PPO, rows[1].Name)
	require.Equal(t, 0.75, *rows[1].GoldWinRate)
	require.Equal(t, 30016, *rows[1].Trainable)
	require.Equal(t, fingerprint.Matches, rows[1].Match)
	require.Equal(t, "", rows[2].Match, "the link carried no DPO fingerprint")

	require.Equal(t, map[string]string{feedback.SFT: "cpu:5f7000000000", feedback.RewardModel: "cpu:4d0000000000",
		feedback.PPO: "cpu:990000000000", feedback.DPO: "cpu:dd0000000000"}, tu.Fingerprints())

	require.Equal(t, []answerRow{
		{Prompt: "What does the fox eat?", Answers: []string{"berries", "fish and ppo", "fish and dpo"}},
		{Prompt: "Where does the owl live?", Answers: []string{"in the woods", "near food", "near food"}},
	}, tu.AnswerRows())

	recs, err := csv.NewReader(bytes.NewReader(tu.CSV(EN))).ReadAll()
	require.NoError(t, err)
	// Headings with their units and explanations; win rate and accuracy in percent.
	var names []string
	for _, h := range recs[0] {
		name, about, ok := strings.Cut(h, ": ")
		require.True(t, ok && about != "", "heading %q has no explanation", h)
		names = append(names, name)
	}
	require.Equal(t, []string{"Method", "Reward (score)", "Gold win rate (%)", "KL to the reference (nats/token)", "Task accuracy (%)",
		"Forgetting (nats/token)", "Trainable parameters", "Optimizer memory (bytes)", "ms/step", "Fingerprint", "State"}, names)
	require.Equal(t, []string{"SFT model", "-0.500", "50.0", "0.0000", "80.0", "0.0000", "", "", "", "cpu:5f7000000000", "finished"}, recs[1])
	require.Equal(t, []string{"PPO", "1.500", "75.0", "0.2500", "75.0", "0.0100", "30016", "240128", "20.5", "cpu:990000000000", "finished"}, recs[2])
	require.Equal(t, "DPO", recs[3][0])
	require.Len(t, recs, 4)
	zh, err := csv.NewReader(bytes.NewReader(tu.CSV(ZH))).ReadAll()
	require.NoError(t, err)
	require.Equal(t, ZH.T("fbt.col.reward")+"："+ZH.T("about.fbt.col.reward"), zh[0][1], "headers in the page's language")
}

// TestTuningFailuresAndStop: an error or a done without a result fails a lane and closes its
// worker; stop closes every worker and marks what ran as stopped; late messages change nothing.
func TestTuningFailuresAndStop(t *testing.T) {
	spec := tuningStage(t)
	h := &fakeHost{}
	tu := startTuning(h, spec, []byte("sft"), false)
	h.workers[0].say(protocol.Message{ID: 0, Kind: protocol.Error, Error: "the trainer stopped with an error: out of memory"})
	require.Equal(t, statusFailed, tu.Lanes[0].Status)
	require.Contains(t, tu.Lanes[0].Err, "out of memory")
	require.True(t, h.workers[0].closed)
	h.workers[1].say(protocol.Message{ID: 1, Kind: protocol.Done})
	require.Equal(t, statusFailed, tu.Lanes[1].Status)
	require.True(t, h.workers[1].closed)
	require.False(t, tu.Active())
	require.Equal(t, statusStopped, tu.Rows()[0].Status, "no SFT result will come")

	h = &fakeHost{}
	tu = startTuning(h, spec, []byte("sft"), false)
	h.workers[0].say(tuningMessages(feedback.PPO, "cpu:5f7000000000", 1, 0.1, 0.6, "cpu:990000000000")...)
	tu.stop()
	for i, w := range h.workers {
		require.True(t, w.closed, "worker %d", i)
	}
	require.Equal(t, statusDone, tu.Lanes[0].Status, "a finished method stays finished")
	require.Equal(t, statusStopped, tu.Lanes[1].Status)
	h.workers[1].say(tuningMessages(feedback.DPO, "cpu:5f7000000000", 1, 0.1, 0.6, "cpu:dd0000000000")...)
	require.Equal(t, statusStopped, tu.Lanes[1].Status)
	require.Nil(t, tu.Lanes[1].Result)

	// Stopped between a method's result and its done: the run did not finish, so a link made
	// now carries no fingerprint for it.
	h = &fakeHost{}
	tu = startTuning(h, spec, []byte("sft"), false)
	h.workers[0].say(tuningMessages(feedback.PPO, "cpu:5f7000000000", 1, 0.1, 0.6, "cpu:990000000000")...)
	dm := tuningMessages(feedback.DPO, "cpu:5f7000000000", 1, 0.1, 0.6, "cpu:dd0000000000")
	h.workers[1].say(dm[:len(dm)-1]...)
	tu.stop()
	require.Equal(t, map[string]string{feedback.SFT: "cpu:5f7000000000", feedback.RewardModel: "cpu:4d0000000000", feedback.PPO: "cpu:990000000000"},
		tu.Fingerprints(), "a stopped method has no fingerprint")
}

// TestTuningRenders: a finished run shows its lanes, both charts with a curve per method (and
// the SFT model's reward dashed), the table with its verdicts and the judge's note, the answers
// and the exports, in both languages with no key missing; the form shows every method and field
// by its stable id, disabled while the methods run.
func TestTuningRenders(t *testing.T) {
	spec := tuningStage(t)
	h := &fakeHost{}
	tu := startTuning(h, spec, []byte("sft"), false)
	h.workers[0].say(tuningMessages(feedback.PPO, "cpu:5f7000000000", 1.5, 0.25, 0.75, "cpu:990000000001")...)
	for _, l := range []Lang{EN, ZH} {
		t.Run(string(l), func(t *testing.T) {
			s := newTuningSetup(l)
			page := render(t, &tuningTestView{l: l, setup: &s, run: tu})
			require.NotContains(t, page, "[fbt.", "a missing text shows as [key]")
			for _, id := range []string{"fbt-methods", "fbt-m-ppo", "fbt-m-ppo-kl_coef", "fbt-m-ppo-cliprange", "fbt-m-ppo-ppo_epochs",
				"fbt-m-ppo-lr", "fbt-m-ppo-r", "fbt-m-dpo-beta", "fbt-m-grpo-num_generations", "fbt-m-grpo-beta", "fbt-m-ppo-kl_coef-reset",
				"fbt-lane-ppo", "fbt-lane-dpo", "fbt-rm", "fbt-table", "fbt-reward-chart", "fbt-kl-chart", "fbt-answers",
				"fbt-csv", "fbt-reward-svg", "fbt-kl-svg", "fbt-judge-note"} {
				require.Contains(t, page, `id="`+id+`"`)
			}
			require.NotContains(t, page, `id="fbt-try-noleash"`, "no try-this while the methods run")
			require.True(t, hasTag(page, "input", `id="fbt-m-ppo-kl_coef"`, `value="0.2"`, " disabled"))
			require.Equal(t, [][2]string{{feedback.SFT, statusDone}, {feedback.PPO, statusDone}, {feedback.DPO, statusStarting}}, tableRows(page))
			require.Contains(t, page, `<td class="num data win">75%</td>`, "the win rate as a percentage")
			require.Contains(t, page, `<td class="num data accuracy">80%</td>`, "accuracy as a percentage")
			requireHeadingsExplained(t, page, "fbt-table", 10)
			require.Contains(t, page, `data-match="matches"`, "the SFT model's fingerprint matches the link's")
			require.Contains(t, page, `data-match="differs"`, "PPO's does not")
			require.Contains(t, page, `data-judge="taste"`)
			require.Contains(t, page, l.T("fbt.col.win.taste"))
			require.Contains(t, page, `data-stage="ppo"`)
			require.Len(t, regexp.MustCompile(`<polyline`).FindAllString(page, -1), 3, "PPO's reward and KL, the SFT model's reward")
			require.Contains(t, page, `stroke-dasharray`)
			require.Contains(t, page, "fish and ppo")
			require.Contains(t, page, "berries", "the SFT model's answer beside")
			require.NotContains(t, page, `id="fbt-over-time"`, "no samples over time until the workers send them")
		})
	}

	// No taste (a learner's own picks): the reward model judges, and the table says so. This
	// spec has no preference file either, so it cannot be encoded: no worker starts and each
	// lane says why.
	own := spec
	fb := *spec.Feedback
	fb.Taste = ""
	own.Feedback = &fb
	h = &fakeHost{}
	idle := startTuning(h, own, nil, true)
	require.Empty(t, h.workers)
	require.Equal(t, statusFailed, idle.Lanes[0].Status)
	page := render(t, &tuningTestView{l: EN, run: idle})
	require.Contains(t, page, `data-judge="reward_model"`)
	require.Contains(t, page, html.EscapeString(EN.T("fbt.col.win.reward_model")))
	require.Contains(t, page, "preference file", "the encoding's refusal, as data")

	// Before a run the form is enabled with its try-this link.
	s := newTuningSetup(EN)
	page = render(t, &tuningTestView{l: EN, setup: &s})
	require.Contains(t, page, `id="fbt-try-noleash"`)
	require.False(t, hasTag(page, "input", `id="fbt-m-ppo-kl_coef"`, " disabled"))
	require.NotContains(t, page, `id="fbt-setup-error"`)
	for i := range s.Methods {
		s.Methods[i].On = false
	}
	page = render(t, &tuningTestView{l: ZH, setup: &s})
	require.Contains(t, page, ZH.T("fbt.err.no_method"))
}

// TestTuningOverTimeSteps: samples over time group by the step they were drawn after, in order.
func TestTuningOverTimeSteps(t *testing.T) {
	got := overTimeSteps([]feedback.Sample{
		{Step: 10, Prompt: "a", Answer: "x"}, {Step: 10, Prompt: "b", Answer: "y"}, {Step: 20, Prompt: "a", Answer: "z"},
	})
	require.Equal(t, []overTimeStep{
		{Step: 10, Samples: []feedback.Sample{{Step: 10, Prompt: "a", Answer: "x"}, {Step: 10, Prompt: "b", Answer: "y"}}},
		{Step: 20, Samples: []feedback.Sample{{Step: 20, Prompt: "a", Answer: "z"}}},
	}, got)
	require.Nil(t, samplesOverTime(nil), "no result yet")
	over := []feedback.Sample{{Step: 10, Prompt: "a", Answer: "x"}}
	require.Equal(t, over, samplesOverTime(&job.Event{OverTime: over}))
}

package app

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/compare"
	"pretune/core/feedback"
	"pretune/core/job"
	"pretune/core/protocol"
	"pretune/core/runspec"
)

// TestVisibleSteps: a teacher's link shows only the steps it allows, in the path's order; no
// list, an empty one or one with no step this build knows shows every step.
func TestVisibleSteps(t *testing.T) {
	for _, c := range []struct {
		allowed, want []string
	}{
		{nil, pathSteps},
		{[]string{}, pathSteps},
		{[]string{stepPEFT, stepPretrain}, []string{stepPretrain, stepPEFT}},
		{[]string{stepFeedback, "rlhf-2"}, []string{stepFeedback}},
		{[]string{"rlhf-2"}, pathSteps},
	} {
		require.Equal(t, c.want, visibleSteps(c.allowed), "%q", c.allowed)
	}
}

// TestPathBase: steps 2 and 3 fine-tune the learner's own model only when it can learn the
// facts (a causal model of the facts' world, close to the kept base's held-out loss), else the
// kept base, and say why.
func TestPathBase(t *testing.T) {
	kept := keptBaseSpec(EN)
	own := pretrainSpec(EN, false)
	masked := own
	masked.Objective = runspec.ObjectiveMasked
	other := pretrainSpec(ZH, false)
	for _, c := range []struct {
		name string
		m    pretrainedModel
		base runspec.Spec
		why  string
	}{
		{"nothing pretrained", pretrainedModel{}, kept, whyNone},
		{"still running", pretrainedModel{Status: statusRunning, Spec: own}, kept, whyNone},
		{"masked", pretrainedModel{Ready: true, Spec: masked, ValLoss: 0.2}, kept, whyMasked},
		{"another text", pretrainedModel{Ready: true, Spec: other, ValLoss: 0.2}, kept, whyCorpus},
		{"step 1's 1000 steps", pretrainedModel{Ready: true, Spec: own, ValLoss: 0.6439}, kept, whyLoss},
		{"just too far", pretrainedModel{Ready: true, Spec: own, ValLoss: 0.2905 + goodEnoughMargin + 0.001}, kept, whyLoss},
		{"good enough", pretrainedModel{Ready: true, Spec: own, ValLoss: 0.35}, own.Pretraining(), ""},
		{"the kept base pretrained here", pretrainedModel{Ready: true, Spec: kept, ValLoss: 0.2905}, kept.Pretraining(), ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			base, why := pathBase(EN, c.m)
			require.Equal(t, c.why, why)
			require.True(t, samePretraining(c.base, base))
		})
	}
	_, why := pathBase(ZH, pretrainedModel{Ready: true, Spec: other, ValLoss: 0.5})
	require.Equal(t, "", why, "the Chinese path measures against the Chinese base")
}

// TestPathRuns: each step's button runs what the README times. Step 1 is the small preset of
// the page's language; step 3 from the kept base is the built-in lesson exactly (so its link
// starts from the kept file, not 20000 steps of pretraining); step 2 is its full fine-tuning
// alone. The learner's own model flows into the comparison's link, which then fine-tunes it.
// The short path shortens every run.
func TestPathRuns(t *testing.T) {
	for _, l := range []Lang{EN, ZH} {
		t.Run(string(l), func(t *testing.T) {
			small, err := runspec.PresetByName(pathLang(l) + "-small")
			require.NoError(t, err)
			pre := pretrainSpec(l, false)
			require.True(t, samePretraining(small.Spec, pre))
			require.Equal(t, string(l), pre.Lang)
			require.Equal(t, viewPretrain, linkView("r="+encode(t, pre)))

			lesson, err := runspec.PresetByName(pathLang(l) + "-lesson")
			require.NoError(t, err)
			peft := stepSpec(l, stepPEFT, keptBaseSpec(l), false)
			require.Equal(t, encode(t, lesson.Spec), encode(t, peft), "step 3 from the kept base is the built-in lesson")
			var c compareState
			require.Equal(t, pathLang(l)+"-base", c.linkBase(peft), "the link starts from the kept base file")
			require.Equal(t, viewCompare, linkView("r="+encode(t, peft)))

			sft := stepSpec(l, stepSFT, keptBaseSpec(l), false)
			require.Equal(t, []compare.Method{compare.Defaults(compare.Full)}, sft.Methods)
			require.Equal(t, *lesson.Spec.FineTune, *sft.FineTune)
			require.Equal(t, lesson.Spec.Task, sft.Task)
			require.True(t, sameMethods(stepMethods(stepPEFT), lesson.Spec.Methods))
			require.False(t, sameMethods(stepMethods(stepSFT), lesson.Spec.Methods))

			// The learner's own model: the comparison's link finds it in the pretraining view.
			own := pretrainSpec(l, false)
			c.pretrained = pretrainedModel{Ready: true, Spec: own}
			mine := stepSpec(l, stepSFT, own, false)
			require.Equal(t, basePretrained, c.linkBase(mine))

			short := pretrainSpec(l, true)
			require.Equal(t, 2*shortSteps, short.Config.Steps)
			encode(t, short)
			shortPEFT := stepSpec(l, stepPEFT, keptBaseSpec(l), true)
			require.Equal(t, shortSteps/2, shortPEFT.FineTune.Steps)
			require.Equal(t, pathLang(l)+"-base", c.linkBase(shortPEFT), "the short path uses the kept base too")
		})
	}
}

// TestPathTries: step 1's second run is the same pretraining with the masked objective; step
// 2's is a classification head (alone and with the body) on the true-or-false task from the
// same base, which its link finds kept; the other steps have none.
func TestPathTries(t *testing.T) {
	masked, ok := trySpec(EN, stepPretrain, keptBaseSpec(EN), false)
	require.True(t, ok)
	require.Equal(t, runspec.ObjectiveMasked, masked.Objective)
	causal := masked
	causal.Objective = ""
	require.True(t, samePretraining(pretrainSpec(EN, false), causal), "only the objective differs")
	require.Equal(t, viewPretrain, linkView("r="+encode(t, masked)))

	head, ok := trySpec(ZH, stepSFT, keptBaseSpec(ZH), false)
	require.True(t, ok)
	require.Equal(t, "zh-truth", head.Task.ID)
	require.Equal(t, []string{"head", "head+body"}, []string{head.Methods[0].Label(), head.Methods[1].Label()})
	var c compareState
	require.Equal(t, "zh-base", c.linkBase(head))
	require.Equal(t, viewCompare, linkView("r="+encode(t, head)))

	for _, step := range []string{stepPEFT, stepFeedback} {
		_, ok := trySpec(EN, step, keptBaseSpec(EN), false)
		require.False(t, ok, step)
	}
}

func encode(t *testing.T, s runspec.Spec) string {
	t.Helper()
	code, err := runspec.Encode(s)
	require.NoError(t, err)
	return code
}

// TestPathProgress: the kept progress reads back; a damaged or foreign one starts the path again;
// the shown step follows a teacher's allowed steps; previous and next stay within them.
func TestPathProgress(t *testing.T) {
	p := pathProgress{Step: stepSFT}
	require.True(t, p.done(stepPretrain))
	require.False(t, p.done(stepPretrain), "once")
	p.FromOwn = true
	back := parseProgress(p.encode())
	require.Equal(t, p, back)
	require.True(t, back.isDone(stepPretrain))
	require.False(t, back.isDone(stepSFT))

	for _, bad := range []string{"", "{", `{"step":"rlhf-2"}`, "null", `{"step":3}`} {
		require.Equal(t, pathProgress{Step: stepPretrain}, parseProgress(bad), "%q", bad)
	}
	require.Equal(t, []string{stepPEFT}, parseProgress(`{"step":"sft","done":["peft","rlhf-2"]}`).Done)

	require.Equal(t, stepSFT, p.current(pathSteps))
	require.Equal(t, stepPEFT, p.current([]string{stepPEFT, stepFeedback}), "a step the link hides is not shown")
	vis := []string{stepPretrain, stepPEFT}
	require.Equal(t, stepPEFT, neighbour(vis, stepPretrain, +1))
	require.Equal(t, "", neighbour(vis, stepPEFT, +1))
	require.Equal(t, "", neighbour(vis, stepPretrain, -1))
	require.Equal(t, "", neighbour(vis, stepSFT, +1), "a hidden step has no neighbours")
}

// TestPathWatchIsStyled: every step's part to watch is outlined by the stylesheet, for the
// step's own data-watch, so a renamed element or step cannot lose its highlight unseen.
func TestPathWatchIsStyled(t *testing.T) {
	css, err := os.ReadFile("../web/pretune.css")
	require.NoError(t, err)
	i := strings.Index(string(css), "/* --- path --- */")
	require.GreaterOrEqual(t, i, 0)
	rules := string(css[i:])
	for _, step := range pathSteps {
		w, ok := pathWatch[step]
		require.True(t, ok, step)
		require.Contains(t, views, w.View)
		sel := `.app:has(#path-guide[data-watch="` + step + `"]) :is(`
		j := strings.Index(rules, sel)
		require.GreaterOrEqual(t, j, 0, "no outline for %s", step)
		list := rules[j+len(sel):]
		list = list[:strings.Index(list, ")")]
		for _, id := range w.IDs {
			require.Contains(t, list, "#"+id, "step %s", step)
		}
	}
}

// sayAuto hands the state a worker's messages one by one and moves the path's run on after
// each, as the feedback view's worker callback does; it says whether the run finished.
func sayAuto(f *feedbackState, w *fakeWorker, ms ...protocol.Message) (finished bool) {
	for _, m := range ms {
		w.say(m)
		if f.autoStep() {
			finished = true
		}
	}
	return finished
}

// TestFeedbackAuto: step 4's one button runs the stage as the learner's buttons would: the kept
// SFT model, the taste's picks, the reward model (with the short path's steps), then every
// default method, and says so once the methods ended.
func TestFeedbackAuto(t *testing.T) {
	h := newFakeFeedbackHost()
	f := &feedbackState{host: h, choice: startChoice{Kind: startKept}, setup: newTuningSetup(EN)}
	f.offer = &savedFeedback{Picks: []pick{{ID: 1, Prompt: "The fox ate", Chosen: " eggs.", Rejected: " mud."}}, Seed: 7}
	f.startAuto(pathFeedbackRun{N: 1, Short: true}, EN)
	require.Nil(t, f.offer)
	require.Len(t, f.picks.List, 1, "the learner's kept picks stay")
	require.Equal(t, []string{"en-sft"}, h.fetches)
	h.fetched[0](readBase(t, "en-sft"), nil)
	w := h.worker(t, 0)
	require.False(t, sayAuto(f, w, openSFTMessages("cpu:0000000000aa")...))
	require.True(t, f.sft.Ready())
	require.True(t, f.tasteBusy, "the taste is asked once the model is ready")
	// The offers the model asked for first (id 3), then the taste's picks (id 4).
	sayAuto(f, w, protocol.Message{ID: 3, Kind: protocol.Pairs, Offers: offers(12, 0)}, protocol.Message{ID: 3, Kind: protocol.Done})
	req := w.last()
	require.Equal(t, protocol.SamplePairs, req.Kind)
	require.True(t, req.Decided)
	require.Equal(t, tasteFill, req.Count)
	sayAuto(f, w, protocol.Message{ID: req.ID, Kind: protocol.Pairs, Offers: offers(12, 100)}, protocol.Message{ID: req.ID, Kind: protocol.Done})
	require.Len(t, f.picks.List, 13)

	req = w.last()
	require.Equal(t, protocol.TrainReward, req.Kind, "the reward model trains once the picks came")
	stage, err := runspec.Decode(req.Code)
	require.NoError(t, err)
	require.Equal(t, shortRewardSteps, stage.Feedback.RewardSteps)
	acc := 0.75
	require.False(t, sayAuto(f, w,
		protocol.Message{ID: req.ID, Kind: protocol.Result, Event: &job.Event{Event: "result", Method: feedback.RewardModel, RMAccuracy: &acc, Fingerprint: "cpu:0000000000bb"}},
		protocol.Message{ID: req.ID, Kind: protocol.Done}))
	require.NotNil(t, f.tuning, "the methods start once the reward model trained")
	require.Equal(t, shortTuneSteps, f.tuningSpec.Feedback.Steps)
	require.Equal(t, feedback.DefaultMethods(), f.tuningSpec.Feedback.Methods)
	lanes := h.workers[1:]
	require.Len(t, lanes, len(feedback.DefaultMethods()))
	var finished []bool
	for i, m := range feedback.DefaultMethods() {
		finished = append(finished, sayAuto(f, lanes[i], tuningMessages(m.Kind, "cpu:0000000000aa", 1, 0.1, 0.6, "cpu:99000000000"+string(rune('0'+i)))...))
	}
	require.Equal(t, []bool{false, false, true}, finished, "the path hears the end once, when the last method ended")
	require.Nil(t, f.auto)
	require.False(t, f.autoStep())

	// The same request again does nothing; a new one from the compare view's full fine-tuning
	// of the learner's own model starts from it.
	f.startAuto(pathFeedbackRun{N: 2, FromTuned: true}, EN)
	require.Equal(t, startKept, f.choice.Kind, "no comparison finished: the kept SFT model")
	f.tuned = tunedModel{Ready: true, Methods: []string{compare.Full}}
	f.startAuto(pathFeedbackRun{N: 3, FromTuned: true}, EN)
	require.Equal(t, startChoice{Kind: startTuned, Method: compare.Full}, f.choice)
}

// TestFeedbackAutoStopsOnFailure: a phase that fails ends the path's run (the view shows why);
// nothing more starts.
func TestFeedbackAutoStopsOnFailure(t *testing.T) {
	h := newFakeFeedbackHost()
	f := &feedbackState{host: h, setup: newTuningSetup(EN)}
	f.startAuto(pathFeedbackRun{N: 1}, EN)
	h.fetched[0](readBase(t, "en-sft"), nil)
	w := h.worker(t, 0)
	require.False(t, sayAuto(f, w, protocol.Message{ID: 1, Kind: protocol.Error, Error: "out of memory"}))
	require.Nil(t, f.auto)
	require.False(t, f.tasteBusy)
	require.Equal(t, protocol.OpenSFT, w.last().Kind, "nothing asked after the failure")
}

// TestPathRenders: the path view draws every step a teacher's link allows with its button,
// question, hidden answer and answer space, in both languages with no text missing; in a
// step's view the guide strip names the step to watch, and in any other view nothing shows.
func TestPathRenders(t *testing.T) {
	for _, l := range []Lang{EN, ZH} {
		t.Run(string(l), func(t *testing.T) {
			html := render(t, &Path{Lang: l, View: viewPath})
			require.NotContains(t, html, "[path.", "a missing text shows as [key]")
			require.NotContains(t, html, "%!", "a format verb without its value")
			for _, step := range pathSteps {
				for _, id := range []string{"path-step-", "path-go-", "path-question-", "path-answer-", "path-title-"} {
					require.Contains(t, html, `id="`+id+step+`"`)
				}
				require.Contains(t, html, l.T("path."+step+".q"))
			}
			require.Equal(t, 4, strings.Count(html, `class="path-answer-space"`))
			require.Contains(t, html, `id="path-try-pretrain"`)
			require.Contains(t, html, `id="path-try-sft"`)
			require.NotContains(t, html, `id="path-try-peft"`)
			require.Equal(t, 1, strings.Count(html, `class="path-step current"`))
			for _, step := range []string{stepSFT, stepPEFT, stepFeedback} {
				require.Contains(t, html, `id="path-model-`+step+`"`, "the step says which model it starts from")
			}

			allowed := render(t, &Path{Lang: l, View: viewPath, allowed: []string{stepSFT}})
			require.NotContains(t, allowed, `id="path-step-pretrain"`, "a step the teacher's link hides is not drawn")
			require.Contains(t, regexp.MustCompile(`<section[^>]*id="path-step-sft"[^>]*>`).FindString(allowed), `class="path-step current"`)
			require.Equal(t, 1, strings.Count(allowed, `class="path-step current"`))

			strip := render(t, &Path{Lang: l, View: viewPretrain, started: stepPretrain})
			require.Contains(t, strip, `data-watch="pretrain"`)
			require.Contains(t, strip, `aria-live="polite"`)
			require.NotContains(t, render(t, &Path{Lang: l, View: viewCompare, started: stepPretrain}), "data-watch")
			require.NotContains(t, render(t, &Path{Lang: l, View: viewPretrain}), "data-watch")
		})
	}
}

// TestPathInTheNav: the path is the nav's first view, and a view= fragment (the path's way
// back, with its nonce) opens it.
func TestPathInTheNav(t *testing.T) {
	require.Equal(t, viewPath, views[0])
	require.Equal(t, viewPath, linkView("view=path~lz3k"))
	require.Equal(t, viewFeedback, linkView("view=feedback~lz3k"), "step 4's way to the feedback view")
}

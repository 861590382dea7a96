package app

import (
	"slices"
	"strconv"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"pretune/core/compare"
)

// The guided path's step 4 runs the whole feedback stage with one button: open the SFT model,
// let the built-in taste pick, train the reward model, then PPO, DPO and GRPO side by side,
// each as the learner's own buttons would (the same methods, so the same runs and the same
// figures as the feedback view's defaults). A feedback stage has no link to open until picks
// exist, so the path asks through a go-app state instead of a URL, and the view reports the
// end through another.
const (
	pathFeedbackState     = "pretune.path.feedback"      // the path asks: a pathFeedbackRun
	pathFeedbackDoneState = "pretune.path.feedback.done" // the view answers: the run's N, once it ended
)

// pathFeedbackRun is the path's request to run the feedback stage.
type pathFeedbackRun struct {
	N int64 // tells requests apart (the time of the click): the same request is not run twice
	// FromTuned starts from the compare view's full fine-tuning (the learner's own model flowed
	// through steps 2 and 3); else from the kept SFT model, which is the kept base fine-tuned
	// fully on the facts: the same bits as that comparison from the kept base.
	FromTuned bool
	Short     bool // the test-only short path: a few reward and method steps
}

// The stage's phases as the path runs it.
const (
	autoOpen = iota
	autoTaste
	autoReward
	autoTune
)

// feedbackAuto is a path's run of the stage in progress.
type feedbackAuto struct {
	run   pathFeedbackRun
	phase int
}

// The short path's reward model and methods' steps.
const (
	shortRewardSteps = 10
	shortTuneSteps   = 2
)

// startAuto runs the stage for the path: the start it asks for, the stage's default settings
// (short ones for the test-only short path). Picks the learner made stay: the taste adds its
// own to them (the reward model then learns from both, and the table says who judged).
func (f *feedbackState) startAuto(run pathFeedbackRun, l Lang) {
	if f.auto != nil && f.auto.run.N == run.N {
		return
	}
	f.stop()
	f.link, f.linkErr, f.linkCLI, f.linkEdited = nil, nil, false, false
	f.choice = startChoice{Kind: startKept}
	if run.FromTuned && f.tuned.Ready && slices.Contains(f.tuned.Methods, compare.Full) {
		f.choice = startChoice{Kind: startTuned, Method: compare.Full}
	}
	f.setup = newTuningSetup(l)
	f.rewardSteps = 0
	if run.Short {
		f.rewardSteps = shortRewardSteps
		if err := f.setup.setSchedule("steps", strconv.Itoa(shortTuneSteps)); err != nil {
			panic(err) // a constant in the schedule's range
		}
	}
	if s := f.offer; s != nil { // last time's picks, kept in the browser: kept, the taste adds to them
		f.picks.restore(s.Picks)
		f.seed = max(s.Seed, 1)
	}
	f.offer = nil
	f.auto = &feedbackAuto{run: run}
	f.open(l)
}

// autoStep moves the path's run on after a worker's message: the next phase starts once the
// last one ended. A phase that failed ends the run (the view shows why, as for its buttons). It
// says whether the run just finished.
func (f *feedbackState) autoStep() (finished bool) {
	a := f.auto
	if a == nil || f.sft == nil {
		return false
	}
	switch a.phase {
	case autoOpen:
		switch {
		case f.sft.Ready():
			f.fillFromTaste()
			if !f.tasteBusy {
				f.auto = nil
				return false
			}
			a.phase = autoTaste
		case !f.sft.Active():
			f.auto = nil
		}
	case autoTaste:
		if f.tasteBusy {
			return false
		}
		f.trainReward()
		if f.reward == nil || !f.reward.Active() {
			f.auto = nil
			return false
		}
		a.phase = autoReward
	case autoReward:
		switch {
		case f.reward.Status == statusDone:
			if f.runMethods() != nil {
				f.auto = nil
				return false
			}
			a.phase = autoTune
		case !f.reward.Active():
			f.auto = nil
		}
	case autoTune:
		if f.tuning != nil && !f.tuning.Active() {
			f.auto = nil
			return true
		}
	}
	return false
}

// pathMount follows the path's requests (the view's OnMount calls it).
func (f *Feedback) pathMount(ctx app.Context) {
	var run pathFeedbackRun
	// go-app stores the value, then calls OnChange on the UI goroutine.
	ctx.ObserveState(pathFeedbackState).OnChange(func() {
		f.startAuto(run, f.Lang)
		f.pathStep()
	}).Value(&run)
}

// pathStep moves a path's run on and tells the path when it ended.
func (f *Feedback) pathStep() {
	a := f.auto
	if a != nil && f.autoStep() {
		f.ctx.SetState(pathFeedbackDoneState, a.run.N)
	}
}

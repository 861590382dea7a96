package app

import (
	"math"
	"time"

	"pretune/core"
	"pretune/core/job"
	"pretune/core/protocol"
	"pretune/core/runspec"
)

// Run states, as the page shows them.
const (
	statusStarting = "starting" // the worker is loading or opening its device
	statusRunning  = "running"
	statusPaused   = "paused"
	statusDone     = "done"
	statusStopped  = "stopped"
	statusFailed   = "failed"
)

// point is one evaluation: steps trained, training and held-out loss.
type point struct {
	Step       int
	Train, Val float64
}

// sample is what the model wrote at an evaluation: the prompt and its continuation, and the
// continuation's tokens with the probability the model gave each (none in samples kept by an
// older page).
type sample struct {
	Step   int
	Text   string
	Tokens []core.TokenProb `json:",omitempty"`
	// Filled is a masked-LM model's guesses at the blanks ('_') of Text; "" for a causal
	// model, whose Text is what it wrote.
	Filled string `json:",omitempty"`
}

// run is one training run as the page knows it, built only from the worker's messages (Apply),
// so its logic is tested without a browser.
type run struct {
	Name     string
	Spec     runspec.Spec
	ReqID    int    // the start request's id
	FromBase bool   // trained from a loaded checkpoint: the link cannot carry that
	Device   string // the fingerprint class, once the worker says
	Fallback string // why the requested device was not used
	Status   string
	Err      string
	Points   []point
	Samples  []sample
	Step     int
	Steps    int
	TokensPS float64
	Result   *job.Event
	Note     string // a mid-run device change, or a refused pause or save
	Overlay  bool   // drawn on the chart while another run is the current one
	Kept     int    // the step of the state kept in the browser to resume from (0: none)
	Resumed  int    // the step this run resumed from (0: it started fresh)
	// Workers is how many workers compute its steps (runWorkers; 0 in a run made elsewhere:
	// one): its measured pace is kept under workersSpeedKey with it.
	Workers int
	// CompareTo is the run this one reproduces on the CPU (a link made on another device
	// class): the page shows the largest loss difference between the two.
	CompareTo *run
	// Trend is the smoothed training loss of the steps the worker reports between evaluations
	// (about one a second: smooth), drawn lighter than the evaluations' curves.
	Trend []point
	// Pace is how fast the run goes here, measured from when its steps arrive.
	Pace stepPace
	// Began is when Start was pressed (zero in tests): while the trainer loads the page counts
	// the seconds, so something moves every second before the first step.
	Began time.Time
	// clock is the time Apply reads (time.Now when nil); tests set a fake one.
	clock func() time.Time
}

// now is the run's clock's time.
func (r *run) now() time.Time {
	if r.clock != nil {
		return r.clock()
	}
	return time.Now()
}

func newRun(name string, spec runspec.Spec, reqID int) *run {
	return &run{Name: name, Spec: spec, ReqID: reqID, Status: statusStarting, Steps: spec.Config.Steps}
}

// Apply updates the run with one message from its worker; messages for other requests (pause,
// save) are ignored here.
func (r *run) Apply(m protocol.Message) {
	if m.ID != r.ReqID && !(m.ID == 0 && m.Kind == protocol.Error) {
		return
	}
	switch m.Kind {
	case protocol.Device:
		if m.Device != nil {
			r.Device, r.Fallback = m.Device.Name, m.Device.Fallback
		}
		if r.Status == statusStarting {
			r.Status = statusRunning
		}
	case protocol.Eval:
		if m.Event == nil {
			return
		}
		e := *m.Event
		if e.Event == "device" { // the device failed mid-run and the run went on elsewhere
			r.Device, r.Note = e.Device, e.Note
			r.Points = keepUpTo(r.Points, e.Step)
			r.Trend = keepUpTo(r.Trend, e.Step)
			return
		}
		r.Points = append(keepUpTo(r.Points, e.Step-1), point{Step: e.Step, Train: e.TrainLoss, Val: e.ValLoss})
		r.Step, r.Steps, r.TokensPS = e.Step, e.Steps, e.TokensPerS
		r.Pace.observe(e.Step, r.now())
	case protocol.Progress:
		// A step between evaluations (the first at once, then about one a second): the page
		// moves, measures its pace and extends the smoothed training-loss curve.
		if m.Event == nil || m.Event.Method != job.MethodPretrain {
			return
		}
		e := *m.Event
		if r.Status == statusStarting {
			r.Status = statusRunning
		}
		r.Trend = smooth(keepUpTo(r.Trend, e.Step-1), e.Step, e.TrainLoss)
		r.Step, r.Steps = e.Step, e.Steps
		if e.TokensPerS > 0 {
			r.TokensPS = e.TokensPerS
		}
		r.Pace.observe(e.Step, r.now())
	case protocol.Sample:
		r.Samples = append(r.Samples, sample{Step: m.Step, Text: m.Text, Tokens: m.Tokens, Filled: m.Filled})
	case protocol.Result:
		if m.Event != nil {
			e := *m.Event
			r.Result = &e
			r.Step, r.TokensPS = e.Steps, e.TokensPerS
		}
	case protocol.Done:
		if r.Result != nil {
			r.Status = statusDone
		}
	case protocol.Error:
		if m.Error == "stopped" {
			r.Status = statusStopped
			return
		}
		r.Status, r.Err = statusFailed, m.Error
	}
}

// keepUpTo drops evaluations after step (a run that resumed from an earlier snapshot replays
// them).
func keepUpTo(ps []point, step int) []point {
	for i, p := range ps {
		if p.Step > step {
			return ps[:i]
		}
	}
	return ps
}

// Active reports whether the run's worker is still training (or about to).
func (r *run) Active() bool {
	return r.Status == statusStarting || r.Status == statusRunning || r.Status == statusPaused
}

// maxLossDiff is the largest difference between two runs' losses at the evaluations both made
// (training and held-out), and how many evaluations were compared.
func maxLossDiff(a, b []point) (float64, int) {
	byStep := map[int]point{}
	for _, p := range a {
		byStep[p.Step] = p
	}
	worst, n := 0.0, 0
	for _, q := range b {
		p, ok := byStep[q.Step]
		if !ok {
			continue
		}
		n++
		worst = math.Max(worst, math.Max(math.Abs(p.Train-q.Train), math.Abs(p.Val-q.Val)))
	}
	return worst, n
}

// workerLane is what a method's lane (a comparison's or a feedback stage's: one worker each)
// knows of its worker's run: the start request, the run state, the device and why it failed.
type workerLane struct {
	ReqID  int
	Status string // the run states above
	Err    string
	Device string
	// Fallback says why the requested device was not used.
	Fallback string
}

// Active says whether the lane's worker still trains.
func (w *workerLane) Active() bool { return w.Status == statusStarting || w.Status == statusRunning }

// follow applies the part of a worker's message every lane treats alike: it drops messages of
// other requests and anything after the lane ended (a stopped lane's worker is gone), takes
// the device, and ends the lane on done (finished only with a result: hasResult) or an error
// ("stopped" is the learner's stop). It says whether the message is the lane's, for the
// caller to read its evaluations and results.
func (w *workerLane) follow(m protocol.Message, hasResult func() bool) bool {
	if m.ID != w.ReqID && !(m.ID == 0 && m.Kind == protocol.Error) {
		return false
	}
	if !w.Active() {
		return false
	}
	switch m.Kind {
	case protocol.Device:
		if m.Device != nil {
			w.Device, w.Fallback = m.Device.Name, m.Device.Fallback
		}
		w.Status = statusRunning
	case protocol.Done, protocol.Error:
		w.Status, w.Err = ended(m, hasResult())
	}
	return true
}

// ended is the state a worker's request ends in, and why it failed: done finishes it when its
// result came (else it failed without one), "stopped" is the learner's stop, any other error a
// failure.
func ended(m protocol.Message, hasResult bool) (status, err string) {
	switch {
	case m.Kind == protocol.Done && hasResult:
		return statusDone, ""
	case m.Kind == protocol.Done:
		return statusFailed, "the trainer finished without a result"
	case m.Error == "stopped":
		return statusStopped, ""
	}
	return statusFailed, m.Error
}

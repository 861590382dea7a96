package app

import (
	"pretune/core/runspec"
)

// The compare view can fine-tune "the model just pretrained", which lives in the pretraining
// view's worker. The two views are separate components, so the pretraining view publishes what
// the compare view needs as a go-app state (pretrainedState, in memory only): which run it is,
// whether it can be a base, and a function that asks the worker for the model's bytes. The bytes
// are not kept in the state: they come on request, when a comparison starts, as a base file
// (protocol.FormatBase) that records the pretraining it is (job.IsBaseOf). Both views read and
// write it on the UI goroutine only.
const pretrainedState = "pretune.pretrained"

// pretrainedModel is the pretraining view's current run as the compare view sees it.
type pretrainedModel struct {
	// Ready says the run finished, trained a fresh model (not a loaded one, which its spec
	// would not describe), and its worker still holds the model.
	Ready       bool
	Status      string // the run's state; "" when there is no run yet
	FromBase    bool   // the run trained a loaded model
	Name        string // the run's name (runLabel translates it)
	Spec        runspec.Spec
	Fingerprint string
	// save asks the pretraining view's worker for the model as a base file and calls done, on
	// the UI goroutine, with its bytes or the reason it could not; set when Ready.
	save func(done func(data []byte, err error))
}

// key identifies what the compare view shows of m, so the pretraining view publishes only
// changes (not every evaluation).
func (m pretrainedModel) key() string {
	return m.Status + "|" + m.Name + "|" + m.Fingerprint + "|" + map[bool]string{true: "ready", false: ""}[m.Ready] +
		map[bool]string{true: "|base", false: ""}[m.FromBase]
}

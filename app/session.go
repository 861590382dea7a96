package app

import (
	"strings"

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
	// ValLoss is the finished run's final held-out loss (0 before it finishes): the guided path
	// fine-tunes this model only when it is close to the kept base's (path.go, pathBase).
	ValLoss float64
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

// The feedback view can improve "a method just fine-tuned" in the compare view. The compare view
// publishes its finished comparison the same way (tunedState, in memory only): its spec, the
// methods that finished and can make a feedback stage's SFT model, and a function that gives
// the comparison's base file, from which the feedback view's worker fine-tunes the method again
// (the same bits as the compare lane: job.TrainSFT trains as compare.Train does).
const tunedState = "pretune.tuned"

// tunedModel is the compare view's finished comparison as the feedback view sees it.
type tunedModel struct {
	// Ready says a comparison finished with at least one method in Methods, and its base file
	// is in memory.
	Ready bool
	Spec  runspec.Spec
	// Methods are the labels of the finished methods a feedback stage can start from: full
	// fine-tuning and LoRA, the two kinds runspec's feedback stage makes its SFT model with
	// (job.TrainSFT bakes LoRA's update into the weights).
	Methods []string
	// id tells comparisons apart, so the compare view publishes only changes.
	id string
	// base gives the comparison's base file; set when Ready.
	base func() []byte
}

// key identifies what the feedback view shows of m.
func (m tunedModel) key() string {
	return m.id + "|" + strings.Join(m.Methods, ",")
}

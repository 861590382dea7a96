// stub until fb-tuning merges: the lead deletes this file

package app

import (
	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"pretune/core/feedback"
	"pretune/core/protocol"
	"pretune/core/runspec"
)

// tuningSetup is the methods form (fb-tuning's); this stub holds the default methods so the
// Feedback view builds and runs before the real form is merged.
type tuningSetup struct{ methods []feedback.Method }

func newTuningSetup(l Lang) tuningSetup { return tuningSetup{methods: feedback.DefaultMethods()} }

func setupFromConfig(cfg feedback.Config) tuningSetup { return tuningSetup{methods: cfg.Methods} }

// Config puts the form's methods into base.
func (s *tuningSetup) Config(base feedback.Config) (feedback.Config, error) {
	base.Methods = append([]feedback.Method(nil), s.methods...)
	return base, nil
}

func (s *tuningSetup) render(l Lang, disabled bool) app.UI { return app.Div().ID("fbt-setup") }

// tuningHost is what the methods' run needs of the page.
type tuningHost interface {
	startWorker(handle func(protocol.Message)) worker
	dispatch(fn func())
}

// tuning is a run of the methods (fb-tuning's); the stub runs nothing.
type tuning struct{}

func startTuning(host tuningHost, spec runspec.Spec, sft []byte, asSFT bool) *tuning {
	return &tuning{}
}

func (t *tuning) Active() bool { return false }

func (t *tuning) stop() {}

func (t *tuning) Fingerprints() map[string]string { return nil }

func (t *tuning) render(l Lang) app.UI { return app.Div().ID("fbt-run") }

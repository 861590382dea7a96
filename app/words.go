package app

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"pretune/core/checkpoint"
	"pretune/core/compare"
	"pretune/core/corpus"
	"pretune/core/runspec"
)

// Turning values and errors into the page's words, in its language.

// runNames are the runs' memorable names, in order; after the last, names get a number.
var runNames = []string{"otter", "heron", "lynx", "finch", "badger", "marten", "ibis", "gecko", "puffin", "tapir"}

// runLabel is a run's name in the page's language.
func runLabel(l Lang, name string) string {
	base, n, _ := strings.Cut(name, "-")
	label := l.T("animal." + base)
	if n != "" {
		label += " " + n
	}
	return label
}

// runName names the n-th run of the session (n from 0); runLabel translates it.
func runName(n int) string {
	name := runNames[n%len(runNames)]
	if n >= len(runNames) {
		name += "-" + strconv.Itoa(n/len(runNames)+1)
	}
	return name
}

// changesText says what differs from the previous run's setup ("first run" for the first).
func changesText(l Lang, prev, r *run) string {
	if prev == nil {
		return l.T("runs.first")
	}
	var out []string
	if prev.Spec.Corpus.ID != r.Spec.Corpus.ID || prev.Spec.Corpus.Hash != r.Spec.Corpus.Hash {
		out = append(out, l.T("label.corpus")+" → "+corpusLabel(l, r.Spec.Corpus.ID, r.Spec.Corpus.Name))
	}
	for _, f := range fields {
		a, b := f.Get(prev.Spec.Config), f.Get(r.Spec.Config)
		if a != b {
			out = append(out, fmt.Sprintf("%s %s → %s", l.T("field."+f.Key), fmtNum(a), fmtNum(b)))
		}
	}
	if prev.Spec.Device != r.Spec.Device {
		out = append(out, l.T("label.device")+" → "+deviceChoiceLabel(l, r.Spec.Device))
	}
	if r.FromBase != prev.FromBase && r.FromBase {
		out = append(out, l.T("runs.from_base"))
	}
	if len(out) == 0 {
		return l.T("runs.same")
	}
	return strings.Join(out, ", ")
}

// corpusLabel names a corpus: a built-in one by its translated name, a learner's by its name.
func corpusLabel(l Lang, id, name string) string {
	if id == runspec.UserCorpus {
		if name == "" {
			return l.T("corpus.user")
		}
		return l.T("corpus.user_named", name)
	}
	return l.T("corpus." + id)
}

func deviceChoiceLabel(l Lang, d string) string {
	if d == "" {
		d = runspec.DeviceAuto
	}
	return l.T("device." + d)
}

// linkErrText says why a link cannot be opened, by runspec's sentinel.
func linkErrText(l Lang, err error) string {
	for _, c := range []struct {
		err error
		key string
	}{
		{runspec.ErrNewerVersion, "link.err.newer"},
		{runspec.ErrTooLarge, "link.err.too_large"},
		{runspec.ErrInvalid, "link.err.invalid"},
		{runspec.ErrCorpusChanged, "link.corpus_changed"},
		{runspec.ErrMalformed, "link.err.malformed"},
	} {
		if errors.Is(err, c.err) {
			return l.T(c.key)
		}
	}
	return l.T("link.err.malformed")
}

// textErrText translates corpus.FromText's refusal, quoting its numbers.
func textErrText(l Lang, err error) string {
	var te *corpus.TextError
	if !errors.As(err, &te) {
		return err.Error()
	}
	switch te.Code {
	case corpus.CodeBinary, corpus.CodeInvalidUTF8:
		return l.T("text.err."+te.Code, te.Offset)
	case corpus.CodeTooLarge, corpus.CodeTooShort:
		return l.T("text.err."+te.Code, te.Size, te.Limit)
	}
	return l.T("text.err." + te.Code)
}

// fieldErrText translates a refused field or config.
func fieldErrText(l Lang, err error) string {
	var fe *fieldError
	if !errors.As(err, &fe) {
		var te *corpus.TextError
		if errors.As(err, &te) {
			return textErrText(l, err)
		}
		return l.T("config.err") + " " + err.Error()
	}
	switch fe.Code {
	case "range":
		return l.T("field.err.range", fmtNum(fe.Min), fmtNum(fe.Max))
	}
	return l.T("field.err." + fe.Code)
}

// checkpointErrText says why a model file was refused, by core/checkpoint's sentinel.
func checkpointErrText(l Lang, err error) string {
	for _, c := range []struct {
		err error
		key string
	}{
		{checkpoint.ErrNotCheckpoint, "ckpt.err.not_checkpoint"},
		{checkpoint.ErrNotSafetensors, "ckpt.err.not_checkpoint"},
		{checkpoint.ErrNewerVersion, "ckpt.err.newer"},
		{checkpoint.ErrTruncated, "ckpt.err.truncated"},
		{checkpoint.ErrCorrupt, "ckpt.err.corrupt"},
		{checkpoint.ErrTooLarge, "ckpt.err.too_large"},
		{checkpoint.ErrHeader, "ckpt.err.invalid"},
		{checkpoint.ErrConfig, "ckpt.err.invalid"},
		{checkpoint.ErrTokenizer, "ckpt.err.invalid"},
		{checkpoint.ErrTensors, "ckpt.err.invalid"},
		{checkpoint.ErrBadWeights, "ckpt.err.bad_weights"},
	} {
		if errors.Is(err, c.err) {
			return l.T(c.key)
		}
	}
	return l.T("ckpt.err.invalid")
}

// fmtNum writes a field's value the way a learner types it: whole numbers in full, fractions
// with the digits a float32 holds (a learning rate of 0.003, not 0.003000000026077032).
func fmtNum(v float64) string {
	if v == float64(int64(v)) {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'g', -1, 32)
}

// fmtRate writes a throughput with few digits.
func fmtRate(v float64) string {
	if v >= 100 {
		return groupDigits(int(v + 0.5))
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// groupDigits writes 1234567 as 1,234,567.
func groupDigits(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// tryFactor is how many times the default learning rate the "too high" try-this links set; their
// words print it and the values, so what they say is what they do (TestTryThisWordsAreTrue).
const tryFactor = 10

// lrText is a learning rate as the form shows it.
func lrText(v float32) string { return strconv.FormatFloat(float64(v), 'g', 4, 32) }

// tryHighLR is the pretraining view's try-this: tryFactor times the default learning rate.
func (s *setup) tryHighLR() {
	s.Cfg.LR = s.Default.LR * tryFactor
	s.Cfg.Warmup = min(s.Default.Warmup, s.Cfg.Steps)
}

// tryHighLRText says what tryHighLR sets.
func tryHighLRText(l Lang, s setup) string {
	return l.T("try.lr", tryFactor, lrText(s.Default.LR*tryFactor), lrText(s.Default.LR))
}

// tryFullLR is the compare view's try-this: full fine-tuning at tryFactor times its default
// learning rate (compare.DefaultLR).
func (s *compareSetup) tryFullLR() {
	full := s.method(compare.Full)
	full.On, full.LR = true, compare.DefaultLR(compare.Full)*tryFactor
}

// tryFullLRText says what tryFullLR sets.
func tryFullLRText(l Lang) string {
	d := compare.DefaultLR(compare.Full)
	return l.T("try.full_lr", tryFactor, lrText(d*tryFactor), lrText(d))
}

// tryLoRARank1 and tryLoRAMLP are the compare view's LoRA try-this links.
func (s *compareSetup) tryLoRARank1() {
	lora := s.method(compare.LoRA)
	lora.On, lora.Rank = true, 1
}

func (s *compareSetup) tryLoRAMLP() {
	lora := s.method(compare.LoRA)
	lora.On, lora.Targets = true, []string{"fc_in", "fc_out"}
}

// tryThis is an explanation's "try this" link: it loads a setting and highlights its control. It
// is a button, so a view can give it an id of its own.
func tryThis(l Lang, key string, apply func(), controlID string) app.HTMLButton {
	return tryThisText(l.T(key), apply, controlID)
}

// tryThisText is tryThis with its words already made (numbers filled in).
func tryThisText(text string, apply func(), controlID string) app.HTMLButton {
	return app.Button().Class("try").Text(text).OnClick(func(ctx app.Context, e app.Event) {
		apply()
		ctx.Defer(func(app.Context) { highlight(controlID) })
	})
}

// fallbackNote says in the page's language why a run is not on WebGPU, with the trainer's own
// words (technical, in English) folded under "details".
func fallbackNote(l Lang, id, reason string) app.UI {
	key := "fallback.other"
	switch {
	case strings.Contains(reason, "slower than the CPU"):
		key = "fallback.software"
	case strings.Contains(reason, "no GPU adapter"), strings.Contains(reason, "no usable WebGPU"), strings.Contains(reason, "not available"):
		key = "fallback.none"
	}
	return app.Div().ID(id).Class("hint").Body(
		app.Text(l.T("device.fallback")+" "+l.T(key)),
		app.Details().Body(app.Summary().Text(l.T("details")), app.Span().Class("data").Text(reason)),
	)
}

package runspec

import (
	"fmt"
	"reflect"
	"slices"
	"sync"
	"unicode/utf8"

	"pretune/core/compare"
	"pretune/core/feedback"
	"pretune/core/task"
)

// PrefsRef carries a learner's preference file (version 5): its Text (JSON Lines or TSV, read by
// feedback.ParsePairs), a display Name (the file's, which also tells the format) and Hash =
// TextHash(Text), which catches a damaged link.
type PrefsRef struct {
	Hash string `json:"hash"`
	Text string `json:"text"`
	Name string `json:"name,omitempty"`
}

// UserPrefsRef returns a reference to a learner's preference file, checked as Resolve checks it
// (feedback.ParsePairs's line-numbered errors, MaxLinkTextBytes, enough pairs to learn from).
func UserPrefsRef(name, text string) (*PrefsRef, error) {
	ref := &PrefsRef{Hash: TextHash(text), Text: text, Name: name}
	if _, err := ref.Resolve(); err != nil {
		return nil, err
	}
	return ref, nil
}

// Resolve returns the learner's preference pairs. A parse error wraps feedback.ParsePairs's
// *task.ParseError (errors.As finds its line).
func (r PrefsRef) Resolve() ([]feedback.Pair, error) {
	switch {
	case len(r.Text) > MaxLinkTextBytes:
		return nil, fmt.Errorf("runspec: %w: your preference file is %d bytes; a link carries at most %d", ErrTooLarge, len(r.Text), MaxLinkTextBytes)
	case len(r.Name) > MaxNameBytes || !utf8.ValidString(r.Name):
		return nil, fmt.Errorf("runspec: %w: the preference file's name must be UTF-8 of at most %d bytes", ErrInvalid, MaxNameBytes)
	case r.Hash != TextHash(r.Text):
		return nil, fmt.Errorf("runspec: %w: your preference file's text does not match its hash: the link was changed or cut", ErrMalformed)
	}
	return parsePrefs(r)
}

// lastPrefs keeps the last preference file parsed: the playground validates its form on every
// redraw, and the file may be 48 KiB.
var lastPrefs struct {
	sync.Mutex
	key   string
	pairs []feedback.Pair
	err   error
	done  bool
}

// parsePrefs reads a learner's preference file (its hash already checked against its text).
func parsePrefs(r PrefsRef) ([]feedback.Pair, error) {
	key := r.Name + "\x00" + r.Hash
	lastPrefs.Lock()
	defer lastPrefs.Unlock()
	if !lastPrefs.done || lastPrefs.key != key {
		pairs, err := feedback.ParsePairs(r.Name, []byte(r.Text))
		if err == nil {
			err = feedback.CheckPairs(pairs)
		}
		if err != nil {
			pairs, err = nil, fmt.Errorf("runspec: %w: your preference file: %w", ErrInvalid, err)
		}
		lastPrefs.key, lastPrefs.pairs, lastPrefs.err, lastPrefs.done = key, pairs, err, true
	}
	return slices.Clone(lastPrefs.pairs), lastPrefs.err
}

// Feeds says whether the spec has a feedback stage.
func (s Spec) Feeds() bool { return s.Feedback != nil }

// SFT is the comparison whose one method makes a feedback spec's SFT model: the spec without
// its feedback stage, fingerprints, device and language, keeping only what changes the SFT
// model's weights (the pretraining, the task, the schedule, the method). Two feedback specs with
// equal SFT start from the same model; its code is what a kept SFT checkpoint records.
func (s Spec) SFT() Spec {
	p := Spec{Corpus: s.Corpus, Config: s.Config, Objective: s.Objective, MaskRate: s.MaskRate,
		Task: s.Task, FineTune: s.FineTune, Methods: s.Methods}
	p.Version = p.lowestVersion()
	return p
}

// SameSFT says whether a and b make the same SFT model: equal SFT specs, their methods compared
// as compare trains them (defaults filled, names aside: a name changes no weight).
func SameSFT(a, b Spec) bool {
	norm := func(s Spec) Spec {
		s = s.SFT()
		ms := make([]compare.Method, len(s.Methods))
		for i, m := range s.Methods {
			m = m.Filled()
			m.Name = ""
			ms[i] = m
		}
		s.Methods = ms
		return s
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

// feedbackResults are the result names a feedback spec's fingerprints may carry.
func feedbackResults(c *feedback.Config) map[string]bool {
	names := map[string]bool{feedback.SFT: true, feedback.RewardModel: true}
	for _, m := range c.Methods {
		names[m.Label()] = true
	}
	return names
}

// validateFeedback checks the feedback stage against the version, the comparison it starts from
// (one method, full or LoRA fine-tuning, on a generate task) and the corpus's language (lang).
func (s Spec) validateFeedback(lang string) error {
	if s.Feedback == nil {
		switch {
		case s.Prefs != nil:
			return fmt.Errorf("runspec: %w: a preference file belongs to a feedback stage", ErrInvalid)
		case s.Version == VersionFeedback:
			return fmt.Errorf("runspec: %w: a version %d link carries a feedback stage", ErrInvalid, s.Version)
		}
		return nil
	}
	fb := *s.Feedback
	switch {
	case s.Version < VersionFeedback:
		return fmt.Errorf("runspec: %w: a feedback stage needs link version %d, not %d", ErrInvalid, VersionFeedback, s.Version)
	case !s.Compares():
		return fmt.Errorf("runspec: %w: a feedback stage starts from a comparison's SFT model: the link needs a task, a fine-tuning schedule and one method", ErrInvalid)
	case len(s.Methods) != 1:
		return fmt.Errorf("runspec: %w: a feedback stage starts from one SFT model: the comparison must have exactly one method, %s or %s fine-tuning, not %d", ErrInvalid, compare.Full, compare.LoRA, len(s.Methods))
	case s.Methods[0].Kind != compare.Full && s.Methods[0].Kind != compare.LoRA:
		// LoRA's update folds into the weights (core.Model.BakeLoRA), so its SFT model is a
		// plain one; an adapter or a prefix adds layers a plain model has no place for, and a
		// class head cannot write the answers the feedback stage samples.
		return fmt.Errorf("runspec: %w: a feedback stage starts from the SFT model of %s or %s fine-tuning, not %s: its layers cannot be folded into the model's weights, so the model the stage clones, saves and tunes would not be the one you fine-tuned", ErrInvalid, compare.Full, compare.LoRA, s.Methods[0].Kind)
	case fb.Taste == "" && s.Prefs == nil:
		// Both is fine: the preference file teaches and the taste judges.
		return fmt.Errorf("runspec: %w: a feedback stage learns from a built-in taste or from your preference file: give one", ErrInvalid)
	}
	t, err := s.Task.Resolve()
	if err != nil {
		return err
	}
	if t.Kind != task.KindGenerate {
		return fmt.Errorf("runspec: %w: a feedback stage samples answers, so its SFT model must be fine-tuned on a generate task, not %s (%s)", ErrInvalid, s.Task.ID, t.Kind)
	}
	if fb.Taste != "" {
		taste, err := feedback.BuiltinTaste(fb.Taste)
		if err != nil {
			return fmt.Errorf("runspec: %w: %v", ErrInvalid, err)
		}
		if taste.Lang != lang {
			return fmt.Errorf("runspec: %w: taste %s is in %q but the corpus is in %q: the model would not know the taste's prompts", ErrInvalid, fb.Taste, taste.Lang, lang)
		}
	}
	if err := fb.Validate(); err != nil {
		return fmt.Errorf("runspec: %w: the feedback stage: %v", ErrInvalid, err)
	}
	if s.Prefs != nil {
		if _, err := s.Prefs.Resolve(); err != nil {
			return err
		}
	}
	return nil
}

// Package feedbacktest is test support: a feedback link that runs in seconds, for the tests of
// the packages that run links (core/job, the browser worker). Nothing on the training path
// imports it.
package feedbacktest

import (
	"fmt"
	"strings"

	"pretune/core/runspec"
)

// TinySpec is a feedback spec that runs in seconds: the en-tiny pretraining (60 steps, with a
// context of 64 for the prompts and answers), 10 steps of full fine-tuning on en-facts, then the
// en-feedback preset's stage cut to 2 steps of each method on Prefs' 15 pairs (a model this
// small never writes what a taste wants, so a taste could label no pair; the kept SFT models do).
func TinySpec() (runspec.Spec, error) {
	tiny, err := runspec.PresetByName("en-tiny")
	if err != nil {
		return runspec.Spec{}, err
	}
	fp, err := runspec.PresetByName("en-feedback")
	if err != nil {
		return runspec.Spec{}, err
	}
	spec := fp.Spec
	spec.Corpus, spec.Config = tiny.Spec.Corpus, tiny.Spec.Config
	spec.Config.Context = 64
	spec.FineTune = &runspec.FineTune{Steps: 10, Warmup: 1, EvalEvery: 5}
	cfg := *spec.Feedback
	cfg.Steps, cfg.RewardSteps, cfg.Pairs, cfg.EvalEvery, cfg.EvalSamples, cfg.Tokens = 2, 2, 8, 1, 1, 8
	cfg.Methods = append(cfg.Methods[:0:0], cfg.Methods...)
	cfg.Taste = ""
	spec.Feedback = &cfg
	if spec.Prefs, err = runspec.UserPrefsRef("food.tsv", Prefs()); err != nil {
		return runspec.Spec{}, err
	}
	_, err = runspec.Encode(spec)
	return spec, err
}

// Prefs are 15 pairs (TSV) that prefer an answer saying what an animal eats.
func Prefs() string {
	var sb strings.Builder
	for _, a := range []string{"fox", "cat", "owl", "bear", "duck"} {
		fmt.Fprintf(&sb, "Tell me about the %s.\t The %s eats eggs.\t The %s is red.\n", a, a, a)
		fmt.Fprintf(&sb, "What does the %s like?\t It likes to eat fish.\t It likes the wood.\n", a)
		fmt.Fprintf(&sb, "Say something about the %s.\t It eats seeds.\t It sleeps.\n", a)
	}
	return sb.String()
}

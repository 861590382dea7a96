package runspec

import (
	"fmt"

	"pretune/core"
	"pretune/core/compare"
	"pretune/core/feedback"
	"pretune/core/task"
)

// Preset is a named, ready-to-run spec.
type Preset struct {
	Name  string
	About string
	Spec  Spec
}

// presetDefs lists the pretraining presets: name, about, corpus, size preset, and the schedule
// changes. Everything is fixed (seed included), so a preset is one exact run on a given device
// class.
var presetDefs = []struct {
	name, about, corpus, size, lang string
	steps, warmup, evalEvery        int
	lr, minLR                       float32 // peak learning rate and the cosine's end
}{
	{"en-tiny", "English world stories on the tiny model for 60 steps: seconds, for a first look and the tests",
		"en-world", "tiny", "en", 60, 6, 20, 3e-3, 3e-4},
	{"en-small", "English world stories on the small model for 1000 steps: it learns the animals' names and short sentences",
		"en-world", "small", "en", 1000, 50, 100, 6e-3, 6e-4},
	{"zh-small", "Chinese world stories on the small model for 600 steps: more characters to learn than English letters",
		"zh-world", "small", "zh", 600, 30, 100, 6e-3, 6e-4},
	{"zh-base", "The Chinese lesson's base: the small model on Chinese world stories for 1000 steps (kept as web/base/zh-base.ckpt)",
		"zh-world", "small", "zh", 1000, 50, 250, 6e-3, 6e-4},
	// The English facts are spelled out letter by letter, so the model must know the world much
	// better than for the Chinese ones before fine-tuning can retrieve them: full fine-tuning of
	// the English lesson reached 0.21 held-out accuracy from 600 steps, 0.47 from 3000, 0.63
	// from 8000 and 0.82 from 20000 (make lesson's history, before this base was kept).
	{"en-base", "The English lesson's base: the small model on English world stories for 20000 steps, about 15 minutes (kept as web/base/en-base.ckpt)",
		"en-world", "small", "en", 20000, 30, 100, 3e-3, 3e-4},
}

// comparisonDefs lists the comparison presets: the pretraining preset of their base, then the
// task. Both use core/compare's default lesson: 500 steps of each method.
var comparisonDefs = []struct{ name, about, base, task string }{
	{"en-lesson", "Fine-tuning compared: the en-base model taught the en-facts questions four ways (full, LoRA r4, adapter, prefix), 500 steps each: about a minute from the kept base",
		"en-base", "en-facts"},
	{"zh-lesson", "Fine-tuning compared, in Chinese: the zh-base model taught the zh-facts questions four ways (full, LoRA r4, adapter, prefix), 500 steps each: about a minute from the kept base",
		"zh-base", "zh-facts"},
}

// lesson is the comparison presets' schedule and methods: core/compare's default lesson for a
// generate task.
func lesson() (FineTune, []compare.Method) {
	return ScheduleFor(compare.DefaultSteps), compare.DefaultMethods(task.KindGenerate)
}

// ScheduleFor is the fine-tuning schedule of a comparison of steps steps per method, with
// compare.Schedule's warm-up and held-out spacing: what the presets and the page's form link.
func ScheduleFor(steps int) FineTune {
	warmup, evalEvery := compare.Schedule(steps)
	return FineTune{Steps: steps, Warmup: warmup, EvalEvery: evalEvery}
}

// Presets lists the built-in pretraining runs (version-1 specs), smallest first. Each spec
// carries this build's corpus hash.
func Presets() []Preset {
	var out []Preset
	for _, d := range presetDefs {
		size, err := core.SizePreset(d.size)
		if err != nil {
			panic(fmt.Sprintf("runspec: preset %s: %v", d.name, err)) // a bug in this table
		}
		ref, err := Builtin(d.corpus)
		if err != nil {
			panic(fmt.Sprintf("runspec: preset %s: %v", d.name, err))
		}
		cfg := size.Config
		cfg.Vocab = 0
		cfg.Steps, cfg.Warmup, cfg.EvalEvery = d.steps, d.warmup, d.evalEvery
		cfg.LR, cfg.MinLR = d.lr, d.minLR
		out = append(out, Preset{Name: d.name, About: d.about, Spec: Spec{Version: Version, Corpus: ref, Config: cfg, Device: DeviceAuto, Lang: d.lang}})
	}
	return out
}

// BasePresets are the pretraining presets whose models are kept in web/base as <name>.ckpt
// (`make base` writes them) for the comparison presets to start from.
func BasePresets() []Preset {
	var out []Preset
	for _, c := range comparisonDefs {
		p, err := PresetByName(c.base)
		if err != nil {
			panic(fmt.Sprintf("runspec: comparison %s: %v", c.name, err))
		}
		out = append(out, p)
	}
	return out
}

// ComparisonPresets lists the built-in fine-tuning comparisons (version-2 specs), one per
// sample corpus; each embeds its base's pretraining preset.
func ComparisonPresets() []Preset {
	var out []Preset
	for _, c := range comparisonDefs {
		base, err := PresetByName(c.base)
		if err != nil {
			panic(fmt.Sprintf("runspec: comparison %s: %v", c.name, err))
		}
		t, err := task.Builtin(c.task)
		if err != nil {
			panic(fmt.Sprintf("runspec: comparison %s: %v", c.name, err))
		}
		spec := base.Spec
		ft, methods := lesson()
		spec.Version, spec.Task, spec.FineTune, spec.Methods = VersionCompare, &TaskRef{ID: c.task, Hash: t.Hash()}, &ft, methods
		out = append(out, Preset{Name: c.name, About: c.about, Spec: spec})
	}
	return out
}

// feedbackDefs lists the feedback presets: the comparison preset whose base and task make the
// SFT model, and the language of the built-in taste.
var feedbackDefs = []struct{ name, about, lesson, lang string }{
	{"en-feedback", "Learning from feedback: the en-base model fine-tuned fully on en-facts (the SFT model, kept as web/base/en-sft.ckpt), then a reward model from the class's taste and PPO, DPO and GRPO compared",
		"en-lesson", "en"},
	{"zh-feedback", "Learning from feedback, in Chinese: the zh-base model fine-tuned fully on zh-facts (the SFT model, kept as web/base/zh-sft.ckpt), then a reward model from the class's taste and PPO, DPO and GRPO compared",
		"zh-lesson", "zh"},
}

// FeedbackPresets lists the built-in feedback stages (version-5 specs): each is its comparison
// preset with full fine-tuning alone (the SFT model) and core/feedback's default lesson on the
// language's default taste.
func FeedbackPresets() []Preset {
	var out []Preset
	for _, d := range feedbackDefs {
		lesson, err := PresetByName(d.lesson)
		if err != nil {
			panic(fmt.Sprintf("runspec: feedback %s: %v", d.name, err))
		}
		spec := lesson.Spec
		fb := feedback.DefaultConfig(feedback.DefaultTaste(d.lang))
		spec.Version, spec.Methods, spec.Feedback = VersionFeedback, []compare.Method{compare.Defaults(compare.Full)}, &fb
		out = append(out, Preset{Name: d.name, About: d.about, Spec: spec})
	}
	return out
}

// SFTPresets are the feedback presets whose SFT models are kept in web/base as <lang>-sft.ckpt
// (SFTFile), which `make base` writes after the bases they start from.
func SFTPresets() []Preset { return FeedbackPresets() }

// SFTFile is the name of a feedback preset's kept SFT model in web/base.
func SFTFile(p Preset) string { return p.Spec.Lang + "-sft.ckpt" }

// PresetByName returns the named preset, a pretraining run, a comparison or a feedback stage.
func PresetByName(name string) (Preset, error) {
	var names []string
	for _, p := range Presets() {
		if p.Name == name {
			return p, nil
		}
		names = append(names, p.Name)
	}
	for _, p := range ComparisonPresets() {
		if p.Name == name {
			return p, nil
		}
		names = append(names, p.Name)
	}
	for _, d := range feedbackDefs {
		if d.name == name {
			for _, p := range FeedbackPresets() {
				if p.Name == name {
					return p, nil
				}
			}
		}
		names = append(names, d.name)
	}
	return Preset{}, fmt.Errorf("runspec: unknown preset %q (known: %v)", name, names)
}

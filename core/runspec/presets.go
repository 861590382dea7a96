package runspec

import (
	"fmt"

	"pretune/core"
	"pretune/core/task"
)

// Preset is a named, ready-to-run spec.
type Preset struct {
	Name  string
	About string
	Spec  Spec
}

// presetDefs lists the presets: name, about, corpus, size preset, and the schedule changes; a
// comparison preset also names its task (its base is the rest). Everything is fixed (seed
// included), so a preset is one exact run on a given device class.
var presetDefs = []struct {
	name, about, corpus, size, lang string
	steps, warmup, evalEvery        int
	lr                              float32 // peak learning rate; the cosine ends at a tenth of it
	task                            string  // a built-in task: the preset is a comparison
}{
	{"en-tiny", "English world stories on the tiny model for 60 steps: seconds, for a first look and the tests",
		"en-world", "tiny", "en", 60, 6, 20, 3e-3, ""},
	{"en-small", "English world stories on the small model for 1000 steps: it learns the animals' names and short sentences",
		"en-world", "small", "en", 1000, 50, 100, 6e-3, ""},
	{"zh-small", "Chinese world stories on the small model for 600 steps: more characters to learn than English letters",
		"zh-world", "small", "zh", 600, 30, 100, 6e-3, ""},
	{"en-lesson", "Fine-tuning compared: the small model pretrained on English world stories for 1000 steps, then taught the en-facts questions four ways (full, LoRA r4, adapter, prefix) for 300 steps each: a few minutes. The methods' memory and speed are real here; their accuracy needs a longer base (full fine-tuning reaches 0.8 only from a 20000-step base)",
		"en-world", "small", "en", 1000, 50, 250, 6e-3, "en-facts"},
	{"zh-lesson", "Fine-tuning compared, in Chinese: the small model pretrained on Chinese world stories for 1000 steps, then taught the zh-facts questions four ways (full, LoRA r4, adapter, prefix) for 300 steps each: a few minutes. The Chinese questions are learnt from this short base already",
		"zh-world", "small", "zh", 1000, 50, 250, 6e-3, "zh-facts"},
}

// lessonFineTune and lessonMethods are the comparison presets' schedule and methods: core/compare's
// default lesson, with fewer steps so that a preset runs in minutes.
var lessonFineTune = FineTune{Steps: 300, Warmup: 20, EvalEvery: 50}

func lessonMethods() []Method {
	return []Method{
		{Kind: MethodFull},
		{Kind: MethodLoRA, Rank: 4, Alpha: 8},
		{Kind: MethodAdapter, Size: 16},
		{Kind: MethodPrefix, Len: 16},
	}
}

// Presets lists the built-in pretraining runs (version-1 specs), smallest first. Each spec
// carries this build's corpus hash.
func Presets() []Preset { return presets(false) }

// ComparisonPresets lists the built-in fine-tuning comparisons (version-2 specs), one per
// sample corpus. They are apart from Presets because the playground cannot show a comparison
// yet; the command line runs them.
func ComparisonPresets() []Preset { return presets(true) }

func presets(comparisons bool) []Preset {
	var out []Preset
	for _, d := range presetDefs {
		if (d.task != "") != comparisons {
			continue
		}
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
		cfg.LR, cfg.MinLR = d.lr, d.lr/10
		spec := Spec{Version: 1, Corpus: ref, Config: cfg, Device: DeviceAuto, Lang: d.lang}
		if d.task != "" {
			t, err := task.Builtin(d.task)
			if err != nil {
				panic(fmt.Sprintf("runspec: preset %s: %v", d.name, err))
			}
			ft := lessonFineTune
			spec.Version, spec.Task, spec.FineTune, spec.Methods = VersionCompare, &TaskRef{ID: d.task, Hash: t.Hash()}, &ft, lessonMethods()
		}
		out = append(out, Preset{Name: d.name, About: d.about, Spec: spec})
	}
	return out
}

// PresetByName returns the named preset, a pretraining run or a comparison.
func PresetByName(name string) (Preset, error) {
	var names []string
	for _, p := range append(Presets(), ComparisonPresets()...) {
		if p.Name == name {
			return p, nil
		}
		names = append(names, p.Name)
	}
	return Preset{}, fmt.Errorf("runspec: unknown preset %q (known: %v)", name, names)
}

package runspec

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/compare"
	"pretune/core/feedback"
	"pretune/core/task"
)

var (
	updateCodes   = flag.Bool("update-codes", false, "write testdata/codes_v1.json (only when version 1 is new: old codes must never change)")
	updateCodesV2 = flag.Bool("update-codes-v2", false, "write testdata/codes_v2.json (only when version 2 is new: old codes must never change)")
	updateCodesV3 = flag.Bool("update-codes-v3", false, "write testdata/codes_v3.json (only when version 3 is new: old codes must never change)")
	updateCodesV4 = flag.Bool("update-codes-v4", false, "write testdata/codes_v4.json (only when version 4 is new: old codes must never change)")
	updateCodesV5 = flag.Bool("update-codes-v5", false, "write testdata/codes_v5.json (only when version 5 is new: old codes must never change)")
	updateCodesV6 = flag.Bool("update-codes-v6", false, "write testdata/codes_v6.json (only when version 6 is new: old codes must never change)")
	updateCodesV7 = flag.Bool("update-codes-v7", false, "write testdata/codes_v7.json (only when version 7 is new: old codes must never change)")
)

// goldenCode is a real code kept forever with the Spec it stood for when it was made.
type goldenCode struct {
	Name string `json:"name"`
	Code string `json:"code"`
	Spec Spec   `json:"spec"`
}

const (
	codesV1 = "testdata/codes_v1.json"
	codesV2 = "testdata/codes_v2.json"
	codesV3 = "testdata/codes_v3.json"
	codesV4 = "testdata/codes_v4.json"
	codesV5 = "testdata/codes_v5.json"
	codesV6 = "testdata/codes_v6.json"
	codesV7 = "testdata/codes_v7.json"
)

func goldenSpecs(t *testing.T) []goldenCode {
	minimal := Presets()[0].Spec
	minimal.Device, minimal.Lang = "", ""
	user := userSpec(t, "fox.txt", englishText)
	zh := userSpec(t, "狐狸", chineseText)
	zh.Fingerprint, zh.Device = "webgpu/Apple M2:00ff00ff00ff", DeviceWebGPU
	var out []goldenCode
	for _, p := range Presets() {
		out = append(out, goldenCode{Name: "preset " + p.Name, Spec: p.Spec})
	}
	return append(out,
		goldenCode{Name: "minimal", Spec: minimal},
		goldenCode{Name: "english text", Spec: user},
		goldenCode{Name: "chinese text", Spec: zh})
}

// goldenSpecsV2 are version 2's golden specs: the comparison presets, a learner's text with
// every generative method's settings, and a classify task with its heads.
func goldenSpecsV2(t *testing.T) []goldenCode {
	var out []goldenCode
	for _, p := range ComparisonPresets() {
		out = append(out, goldenCode{Name: "preset " + p.Name, Spec: p.Spec})
	}
	user := userSpec(t, "fox.txt", englishText)
	user.Version, user.Lang = 2, "en"
	user.Task = &TaskRef{ID: "en-facts", Hash: builtinTaskHash(t, "en-facts")}
	user.FineTune = &FineTune{Steps: 40, Warmup: 0, EvalEvery: 40}
	user.Methods = []compare.Method{
		{Name: "all of it", Kind: compare.Full, LR: 5e-4},
		{Name: "lora-mlp", Kind: compare.LoRA, Rank: 2, Alpha: 16, Targets: []string{"fc_in", "fc_out"}, LR: 2e-2},
		{Kind: compare.Adapter, Size: 8},
		{Kind: compare.Prefix, Len: 4, LR: 0.05},
	}
	classify := Presets()[0].Spec
	classify.Version, classify.Device = 2, DeviceCPU
	classify.Task = &TaskRef{ID: "en-truth", Hash: builtinTaskHash(t, "en-truth")}
	classify.FineTune = &FineTune{Steps: 100, Warmup: 10, EvalEvery: 25}
	classify.Methods = []compare.Method{{Kind: compare.Head}, {Name: "head+body", Kind: compare.Head, TrainBody: true, LR: 1e-3}, {Kind: compare.LoRA, Rank: 4}}
	return append(out,
		goldenCode{Name: "english text, every generative method", Spec: user},
		goldenCode{Name: "classify heads", Spec: classify})
}

// goldenSpecsV3 are version 3's golden specs: masked-LM pretraining with the default and a
// chosen mask rate, a masked base compared on a classify task, and comparisons with their own
// fine-tuning seed.
func goldenSpecsV3(t *testing.T) []goldenCode {
	masked := Presets()[1].Spec
	masked.Version, masked.Objective = VersionObjective, ObjectiveMasked
	rate := userSpec(t, "fox.txt", englishText)
	rate.Version, rate.Objective, rate.MaskRate, rate.Lang = VersionObjective, ObjectiveMasked, 0.25, "en"
	classify := masked
	classify.Task = &TaskRef{ID: "en-truth", Hash: builtinTaskHash(t, "en-truth")}
	classify.FineTune = &FineTune{Steps: 100, Warmup: 10, EvalEvery: 25}
	classify.Methods = []compare.Method{{Kind: compare.Head}, {Name: "head+body", Kind: compare.Head, TrainBody: true}}
	out := []goldenCode{
		{Name: "masked en-small", Spec: masked},
		{Name: "masked learner text, rate 0.25", Spec: rate},
		{Name: "masked base, classify heads", Spec: classify},
	}
	for _, p := range ComparisonPresets() {
		s := p.Spec
		ft := *s.FineTune
		ft.Seed = 7
		s.Version, s.FineTune = 3, &ft
		out = append(out, goldenCode{Name: "preset " + p.Name + ", fine-tuning seed 7", Spec: s})
	}
	tiny := Presets()[0].Spec
	tiny.Version, tiny.Lang, tiny.Fingerprint = 3, "en", "cpu:0123456789ab"
	tiny.Task = &TaskRef{ID: "en-facts", Hash: builtinTaskHash(t, "en-facts")}
	tiny.FineTune = &FineTune{Steps: 20, Warmup: 2, EvalEvery: 2, Seed: 1 << 40}
	tiny.Methods = []compare.Method{{Kind: compare.Full}, {Kind: compare.LoRA, Rank: 2, Alpha: 4, Targets: []string{"q_proj", "v_proj"}}}
	user := Presets()[0].Spec
	user.Version = 3
	ref, err := UserTaskRef("animals.tsv", task.KindGenerate, userTaskText())
	require.NoError(t, err)
	user.Task, user.FineTune = ref, &FineTune{Steps: 30, Warmup: 3, EvalEvery: 10}
	user.Methods = []compare.Method{{Kind: compare.Full}, {Kind: compare.LoRA, Rank: 4}}
	return append(out,
		goldenCode{Name: "tiny, two methods, a large seed", Spec: tiny},
		goldenCode{Name: "a learner's own task", Spec: user})
}

// goldenSpecsV4 are version 4's golden specs: finished comparisons with their fingerprints per
// method (the lesson preset on the CPU, a masked base's heads on a GPU with a fine-tuning seed),
// and a comparison that carries only some of them.
func goldenSpecsV4(t *testing.T) []goldenCode {
	lesson, err := PresetByName("en-lesson")
	require.NoError(t, err)
	done := lesson.Spec
	done.Device, done.Fingerprint = DeviceCPU, "cpu:1a2b3c4d5e6f"
	done.Fingerprints = map[string]string{compare.Base: "cpu:0a0b0c0d0e0f", "full": "cpu:111111111111", "lora": "cpu:222222222222",
		"adapter": "cpu:333333333333", "prefix": "cpu:444444444444"}
	masked := Presets()[1].Spec
	masked.Objective, masked.Fingerprint = ObjectiveMasked, "webgpu/Apple M2:00ff00ff00ff"
	masked.Task = &TaskRef{ID: "en-truth", Hash: builtinTaskHash(t, "en-truth")}
	masked.FineTune = &FineTune{Steps: 100, Warmup: 10, EvalEvery: 25, Seed: 3}
	masked.Methods = []compare.Method{{Kind: compare.Head}, {Name: "head+body", Kind: compare.Head, TrainBody: true}}
	masked.Fingerprints = map[string]string{compare.Base: "webgpu/Apple M2:0123456789ab", "head": "webgpu/Apple M2:ba9876543210",
		"head+body": "webgpu/Apple M2:abcdefabcdef"}
	some := Presets()[0].Spec
	some.Lang = "zh"
	some.Task = &TaskRef{ID: "en-facts", Hash: builtinTaskHash(t, "en-facts")}
	some.FineTune = &FineTune{Steps: 20, Warmup: 2, EvalEvery: 10}
	some.Methods = []compare.Method{{Kind: compare.Full}, {Name: "mlp", Kind: compare.LoRA, Rank: 2, Alpha: 4, Targets: []string{"fc_in", "fc_out"}}}
	some.Fingerprints = map[string]string{"mlp": "cpu:999999999999"}
	for _, s := range []*Spec{&done, &masked, &some} {
		s.Version = VersionFingerprints
	}
	return []goldenCode{
		{Name: "preset en-lesson, finished on the CPU", Spec: done},
		{Name: "masked base, heads, a fine-tuning seed, finished on a GPU", Spec: masked},
		{Name: "one method's fingerprint only", Spec: some},
	}
}

// goldenSpecsV5 are version 5's golden specs: the feedback presets as they were made (their
// feedback config is kept in the file, so a later change of feedback.DefaultConfig changes the
// presets, never these), a finished one with its results' fingerprints, a learner's preference
// file with every method's settings and a LoRA policy, and the judge's reward on the facts taste.
func goldenSpecsV5(t *testing.T) []goldenCode {
	var out []goldenCode
	for _, p := range FeedbackPresets() {
		out = append(out, goldenCode{Name: "preset " + p.Name, Spec: p.Spec})
	}
	done := FeedbackPresets()[0].Spec
	done.Device, done.Fingerprint = DeviceCPU, "cpu:1a2b3c4d5e6f"
	done.Fingerprints = map[string]string{feedback.SFT: "cpu:0a0b0c0d0e0f", feedback.RewardModel: "cpu:111111111111",
		"ppo": "cpu:222222222222", "dpo": "cpu:333333333333", "grpo": "cpu:444444444444"}
	prefs, err := UserPrefsRef("mine.jsonl", `{"prompt": "What does the fox eat?", "chosen": " eggs", "rejected": " grass"}
{"prompt": "What does the cat eat?", "chosen": " fish", "rejected": " it is red"}
{"prompt": "What does the owl eat?", "chosen": " mice", "rejected": " the owl"}
{"prompt": "What does the bear eat?", "chosen": " honey", "rejected": " in the wood"}
{"prompt": "What does the duck eat?", "chosen": " bread", "rejected": " it swims"}
{"prompt": "Tell me about the fox.", "chosen": " The fox eats eggs.", "rejected": " The fox is red."}
{"prompt": "Tell me about the cat.", "chosen": " The cat eats fish.", "rejected": " The cat is small."}
{"prompt": "Tell me about the owl.", "chosen": " The owl eats mice.", "rejected": " The owl lives in the wood."}
{"prompt": "Tell me about the bear.", "chosen": " The bear eats honey.", "rejected": " The bear is big."}
{"prompt": "Tell me about the duck.", "chosen": " The duck eats bread.", "rejected": " The duck is white."}
`)
	require.NoError(t, err)
	mine := FeedbackPresets()[0].Spec
	mine.Lang, mine.Prefs = "zh", prefs
	cfg := feedback.Config{Flip: 0, Pairs: 8, RewardSteps: 20, RewardLR: 2e-3, PairsPerStep: 4, Steps: 10, Batch: 8, Tokens: 16,
		EvalEvery: 5, EvalSamples: 2, Seed: 1 << 40, Methods: []feedback.Method{
			{Name: "ppo-lora", Kind: feedback.PPO, LR: 3e-4, Rank: 4, KLCoef: 0.1, ClipRange: 0.3, VFCoef: 0.2, Gamma: 0.99, Lam: 0.9, PPOEpochs: 2},
			{Kind: feedback.DPO, LR: 5e-5, Beta: 0.5},
			{Kind: feedback.GRPO, LR: 1e-4, Beta: 0, ClipRange: 0.2, NumGenerations: 4, NumIterations: 2, Reward: feedback.RewardFromModel, ScaleRewards: true},
		}}
	mine.Feedback = &cfg
	facts := FeedbackPresets()[1].Spec
	fcfg := feedback.DefaultConfig("zh-facts")
	grpo := feedback.Defaults(feedback.GRPO)
	grpo.Name, grpo.Reward = "grpo-judge", feedback.RewardFromJudge
	fcfg.Methods = append(fcfg.Methods, grpo, feedback.NoLeash())
	facts.Feedback = &fcfg
	facts.FineTune = &FineTune{Steps: 300, Warmup: 20, EvalEvery: 30, Seed: 9}
	for _, s := range []*Spec{&done, &mine, &facts} {
		s.Version = VersionFeedback
	}
	return append(out,
		goldenCode{Name: "preset en-feedback, finished on the CPU", Spec: done},
		goldenCode{Name: "a learner's preference file, every method's settings", Spec: mine},
		goldenCode{Name: "zh facts taste, the judge's reward, no leash, a fine-tuning seed", Spec: facts})
}

// goldenSpecsV6 are version 6's golden specs (#17's kinds): the lesson with LoRA+, PiSSA and
// prompt tuning at their defaults beside LoRA, every setting of theirs chosen with a fine-tuning
// seed and a classify task, a finished one with its fingerprints, and DoRA (its settings
// chosen), IA3, BitFit and LayerNorm tuning.
func goldenSpecsV6(t *testing.T) []goldenCode {
	lesson, err := PresetByName("en-lesson")
	require.NoError(t, err)
	defaults := lesson.Spec
	defaults.Methods = []compare.Method{compare.Defaults(compare.LoRA).Canonical(), compare.Defaults(compare.LoRAPlus).Canonical(),
		compare.Defaults(compare.PiSSA).Canonical(), compare.Defaults(compare.Prompt).Canonical()}
	chosen := Presets()[0].Spec
	chosen.Task = &TaskRef{ID: "en-truth", Hash: builtinTaskHash(t, "en-truth")}
	chosen.FineTune = &FineTune{Steps: 60, Warmup: 6, EvalEvery: 20, Seed: 11}
	chosen.Methods = []compare.Method{
		{Name: "plus-mlp", Kind: compare.LoRAPlus, LR: 1e-3, Rank: 2, Alpha: 3, Targets: []string{"fc_in", "fc_out"}, Ratio: 4},
		{Kind: compare.PiSSA, LR: 5e-4, Rank: 8, Alpha: 16, Targets: []string{"q_proj", "v_proj"}},
		{Kind: compare.Prompt, LR: 0.3, Len: 4},
		{Kind: compare.Head},
	}
	partA := lesson.Spec
	partA.Methods = []compare.Method{
		{Kind: compare.DoRA, Rank: 2, Alpha: 3, Targets: []string{"v_proj", "fc_in"}},
		compare.Defaults(compare.IA3),
		{Name: "biases", Kind: compare.BitFit, LR: 0.02},
		compare.Defaults(compare.LNTuning),
	}
	done := defaults
	done.Device, done.Fingerprint = DeviceCPU, "cpu:1a2b3c4d5e6f"
	done.Fingerprints = map[string]string{compare.Base: "cpu:0a0b0c0d0e0f", "lora": "cpu:111111111111", "loraplus": "cpu:222222222222",
		"pissa": "cpu:333333333333", "prompt": "cpu:444444444444"}
	for _, s := range []*Spec{&defaults, &chosen, &done, &partA} {
		s.Version = VersionMethods
	}
	return []goldenCode{
		{Name: "en-lesson with loraplus, pissa and prompt at their defaults", Spec: defaults},
		{Name: "every new setting chosen, a classify task, a fine-tuning seed", Spec: chosen},
		{Name: "finished on the CPU with fingerprints", Spec: done},
		{Name: "dora with its settings, ia3, bitfit and ln_tuning", Spec: partA},
	}
}

// goldenSpecsV7 are version 7's golden specs: pretraining presets with 4 shards and with 1
// (a shard count written out), a comparison with 2 shards, and a feedback stage with 8.
func goldenSpecsV7(t *testing.T) []goldenCode {
	small := Presets()[1].Spec
	small.Config.Shards = 4
	one := Presets()[0].Spec
	one.Config.Shards, one.Device = 1, DeviceCPU
	masked := ComparisonPresets()[0].Spec
	masked.Config.Shards = 2
	fb := FeedbackPresets()[0].Spec
	fb.Config.Shards = 8
	for _, s := range []*Spec{&small, &one, &masked, &fb} {
		s.Version = VersionShards
	}
	return []goldenCode{
		{Name: "preset " + Presets()[1].Name + ", 4 shards", Spec: small},
		{Name: "preset " + Presets()[0].Name + ", 1 shard written out", Spec: one},
		{Name: "comparison preset, 2 shards", Spec: masked},
		{Name: "feedback stage, 8 shards", Spec: fb},
	}
}

// TestGoldenCodes: codes made by earlier builds keep decoding to the same Spec, and re-encode to
// the same code. A built-in
// corpus (or task) that has changed since is reported (ErrCorpusChanged) but the Spec still
// comes back.
func TestGoldenCodes(t *testing.T) {
	for _, tc := range []struct {
		version int
		path    string
		update  bool
		specs   func(*testing.T) []goldenCode
		least   int
	}{
		{1, codesV1, *updateCodes, goldenSpecs, 6},
		{2, codesV2, *updateCodesV2, goldenSpecsV2, 4},
		{3, codesV3, *updateCodesV3, goldenSpecsV3, 3},
		{4, codesV4, *updateCodesV4, goldenSpecsV4, 3},
		{5, codesV5, *updateCodesV5, goldenSpecsV5, 4},
		{6, codesV6, *updateCodesV6, goldenSpecsV6, 4},
		{7, codesV7, *updateCodesV7, goldenSpecsV7, 4},
	} {
		t.Run(fmt.Sprintf("v%d", tc.version), func(t *testing.T) {
			if tc.update {
				writeGolden(t, tc.path, tc.specs(t))
			}
			checkGolden(t, tc.path, tc.version, tc.least)
		})
	}
}

func writeGolden(t *testing.T, path string, gs []goldenCode) {
	for i := range gs {
		code, err := Encode(gs[i].Spec)
		require.NoError(t, err)
		gs[i].Code = code
	}
	data, err := json.MarshalIndent(gs, "", "  ")
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll("testdata", 0o755))
	require.NoError(t, os.WriteFile(path, append(data, '\n'), 0o644))
}

func checkGolden(t *testing.T, path string, version, least int) {
	data, err := os.ReadFile(filepath.FromSlash(path))
	require.NoError(t, err)
	var gs []goldenCode
	require.NoError(t, json.Unmarshal(data, &gs))
	require.GreaterOrEqual(t, len(gs), least)
	for _, g := range gs {
		t.Run(g.Name, func(t *testing.T) {
			require.Equal(t, versionChar(version), g.Code[0])
			require.Equal(t, version, g.Spec.Version)
			s, err := Decode(g.Code)
			if errors.Is(err, ErrCorpusChanged) {
				t.Logf("the built-in corpus changed since this code was made: %v", err)
			} else {
				require.NoError(t, err)
				code, err := Encode(s)
				require.NoError(t, err)
				require.Equal(t, g.Code, code, "the spec re-encodes to the same code")
			}
			require.Equal(t, g.Spec, s)
		})
	}
}

func builtinTaskHash(t *testing.T, id string) string {
	tk, err := task.Builtin(id)
	require.NoError(t, err)
	return tk.Hash()
}

// TestMethodKindVersions (#17): a comparison naming any of #17's kinds is written as version 6
// whatever else it carries, one of the first kinds only keeps its version, a lower version
// naming a new kind, or a version 6 naming none, is refused, and a sharded base under a new
// kind is version 7.
func TestMethodKindVersions(t *testing.T) {
	lesson, err := PresetByName("en-lesson")
	require.NoError(t, err)
	for _, kind := range []string{compare.DoRA, compare.IA3, compare.BitFit, compare.LNTuning, compare.LoRAPlus, compare.PiSSA, compare.Prompt} {
		s := lesson.Spec
		s.Methods = append(slices.Clone(s.Methods), compare.Defaults(kind).Canonical())
		code, err := Encode(s)
		require.NoError(t, err)
		require.Equal(t, byte('6'), code[0], kind)
		s.Version = VersionFingerprints // hand-made: an older version naming a new kind
		s.Fingerprints = map[string]string{compare.Base: "cpu:0a0b0c0d0e0f"}
		require.ErrorContains(t, s.Validate(), "needs link version 6", kind)
	}
	code, err := Encode(lesson.Spec)
	require.NoError(t, err)
	require.Equal(t, byte('2'), code[0], "the first kinds keep version 2")
	s := lesson.Spec
	s.Version = VersionMethods
	require.ErrorContains(t, s.Validate(), "names a method kind added in version 6")

	// A sharded base under a new kind takes the newer of the two versions, 7, and reads back.
	both := lesson.Spec
	both.Config.Shards = 2
	both.Methods = []compare.Method{compare.Defaults(compare.DoRA).Canonical()}
	code, err = Encode(both)
	require.NoError(t, err)
	require.Equal(t, byte('7'), code[0])
	back, err := Decode(code)
	require.NoError(t, err)
	both.Version = VersionShards
	require.Equal(t, both, back)
}

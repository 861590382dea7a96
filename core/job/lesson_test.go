package job

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/checkpoint"
	"pretune/core/compare"
	"pretune/core/corpus"
	"pretune/core/feedback"
	"pretune/core/ops"
	"pretune/core/runspec"
	"pretune/core/task"
)

// keptBaseDir holds the base checkpoints make base writes (web/base from the repository root).
var keptBaseDir = filepath.Join("..", "..", "web", "base")

// loadKeptBase loads the kept base of a base preset; a missing or stale file fails the test with
// what to run, since the comparison presets depend on it.
func loadKeptBase(t *testing.T, preset string) (*checkpoint.Checkpoint, []byte) {
	t.Helper()
	path := filepath.Join(keptBaseDir, preset+".ckpt")
	data, err := os.ReadFile(path)
	require.NoError(t, err, "the kept base is missing: run make base")
	ck, err := checkpoint.Load(bytes.NewReader(data), ops.NewCPU())
	require.NoError(t, err, "%s is damaged: run make base", path)
	return ck, data
}

// TestKeptBasesAreUnderTwoMegabytes: the kept bases are committed, so they must stay small, and
// each is the result of its preset's pretraining (its recorded spec matches this build's).
func TestKeptBasesAreUnderTwoMegabytes(t *testing.T) {
	for _, p := range runspec.BasePresets() {
		ck, data := loadKeptBase(t, p.Name)
		require.Less(t, len(data), 2<<20, p.Name)
		require.True(t, IsBaseOf(ck, p.Spec), "%s.ckpt is not the result of the %s preset: run make base", p.Name, p.Name)
		require.False(t, ck.HasOptimizer, p.Name)
	}
}

// TestKeptZhBaseRegenerates pretrains zh-base again (1000 steps, under a minute) and checks the
// bytes equal the kept file: the kept base is what the preset produces, bit for bit. en-base
// (20000 steps, about 15 minutes) is checked by make base alone.
func TestKeptZhBaseRegenerates(t *testing.T) {
	if testing.Short() {
		t.Skip("pretrains 1000 steps")
	}
	// The long tests of this package run side by side: each is one goroutine's work for a
	// minute or more, and make test has two cores.
	t.Parallel()
	p, err := runspec.PresetByName("zh-base")
	require.NoError(t, err)
	_, kept := loadKeptBase(t, p.Name)
	res, err := Run(context.Background(), p.Spec, ops.NewCPU(), Options{})
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, SaveBase(&buf, p.Spec, res))
	require.True(t, bytes.Equal(kept, buf.Bytes()), "web/base/zh-base.ckpt differs from what the zh-base preset trains now: run make base and commit it if the change is intended")
}

// TestDefaultLesson is the fine-tuning issue's acceptance, on the default generative lesson (the
// en-lesson preset: core/compare's default config, from the kept en-base): full fine-tuning
// reaches at least 0.8 held-out accuracy, every method beats the base, LoRA trains under 5% of
// the parameters. The task's own held-out part has 38 prompts, where 0.8 is one answer and
// beating the base one right answer, so every model is also judged on lessonJudgingPairs (230
// prompts no method trains on): there full fine-tuning must reach 0.8 and every method must
// stand at least 0.1 above the base. Today: base 0 right, full 191 (0.830), LoRA 139 (0.604),
// adapter 78 (0.339), prefix 24 (0.104, one answer above its bar). It logs the table the README
// shows (go test -run TestDefaultLesson -v ./core/job/, or make lesson for the command line's
// version). About three minutes.
func TestDefaultLesson(t *testing.T) {
	if testing.Short() {
		t.Skip("fine-tunes the small model four ways for 500 steps each")
	}
	// The long tests of this package run side by side: each is one goroutine's work for a
	// minute or more, and make test has two cores.
	t.Parallel()
	p, err := runspec.PresetByName("en-lesson")
	require.NoError(t, err)
	base, _ := loadKeptBase(t, "en-base")
	require.True(t, IsBaseOf(base, p.Spec), "web/base/en-base.ckpt is not en-lesson's base: run make base")
	// The job's own comparison (runCompare, as Run from a kept base), with the judging prompts as
	// the fixed prompts every model answers: they are answered after training, so the runs,
	// their held-out accuracies and fingerprints are the preset's.
	c, err := p.Spec.Resolve()
	require.NoError(t, err)
	tk, err := taskFor(p.Spec, base.Tok)
	require.NoError(t, err)
	judging := lessonJudgingPairs(t, tk)
	cfg := CompareConfig(p.Spec)
	for _, jp := range judging {
		cfg.Prompts = append(cfg.Prompts, jp.Prompt)
	}
	results, err := compare.Run(context.Background(), base.Model, base.Tok, tk, c, cfg, nil)
	require.NoError(t, err)
	t.Log("\n" + compare.Markdown(results))
	byName := map[string]compare.Result{}
	judged := map[string]float64{}
	for _, r := range results {
		byName[r.Method] = r
		require.Len(t, r.Answers, len(judging))
		right := 0
		for i, a := range r.Answers {
			if task.ExactMatch(a.Answer, judging[i].Response) {
				right++
			}
			if i < 8 {
				t.Logf("%-8s %q -> %q", r.Method, a.Prompt, a.Answer)
			}
		}
		judged[r.Method] = float64(right) / float64(len(judging))
		t.Logf("%-8s held-out accuracy %.3f on the task's %d prompts, %.3f (%d) on the %d judging prompts",
			r.Method, r.TaskAccuracy, len(tk.ValPairs), judged[r.Method], right, len(judging))
	}
	require.Equal(t, compare.Base, results[0].Method)
	require.GreaterOrEqual(t, byName[compare.Full].TaskAccuracy, 0.8, "full fine-tuning")
	require.GreaterOrEqual(t, judged[compare.Full], 0.8, "full fine-tuning on the judging prompts")
	for _, r := range results[1:] {
		require.Greater(t, r.TaskAccuracy, byName[compare.Base].TaskAccuracy, "%s must beat the base", r.Method)
		require.GreaterOrEqual(t, judged[r.Method], judged[compare.Base]+0.1, "%s must stand 0.1 above the base on the judging prompts", r.Method)
	}
	require.Less(t, byName[compare.LoRA].TrainableShare, 0.05)
}

// lessonJudgingPairs are the default lesson's judging prompts: the task's held-out pairs and the
// same facts asked in phrasings that en-facts never uses, none of them a training prompt. The
// built-in task itself stays as it is (share links and kept bases name it by id and hash); the
// facts come from the world the base was pretrained on, so a fine-tuned model can know them.
func lessonJudgingPairs(t *testing.T, tk *task.Task) []task.Pair {
	t.Helper()
	require.Equal(t, "en-facts", tk.ID)
	w := corpus.TheWorld()
	out := append([]task.Pair(nil), tk.ValPairs...)
	add := func(answer string, prompts ...string) {
		for _, p := range prompts {
			out = append(out, task.Pair{Prompt: p, Response: answer})
		}
	}
	for _, a := range w.Animals {
		the, they := "the "+a.En, a.EnPlural
		add(w.Places[a.Place].EnIn, "Where does "+the+" make its home?", "In which place does "+the+" live?", "Where do "+they+" live?")
		add(w.Foods[a.Food].En, "What do "+they+" eat?", "What does "+the+" like to eat?", "What food does "+the+" eat?")
		add(w.Colours[a.Colour].En, "What colour are "+they+"?", "Which colour is "+the+"?")
		add(corpus.SizeEn(a.Big), "Is "+the+" small or big?", "Are "+they+" big or small?")
		add(w.Habits[a.Habit].En, "What do "+they+" like to do?", "What do "+they+" love to do?")
	}
	for _, p := range w.People {
		add(w.Jobs[p.Job].En, "What work does "+p.En+" do?", "What is the job of "+p.En+"?")
		add("a "+w.Animals[p.Pet].En, "What animal does "+p.En+" have?", "What is "+p.En+"'s pet?")
		add(w.Colours[p.Colour].En, "What colour does "+p.En+" like best?", "What colour does "+p.En+" like?")
	}
	seen := map[string]bool{}
	for _, tp := range tk.TrainPairs {
		seen[tp.Prompt] = true
	}
	for _, jp := range out {
		require.False(t, seen[jp.Prompt], "judging prompt %q is a training prompt", jp.Prompt)
		seen[jp.Prompt] = true // and no judging prompt twice
	}
	require.GreaterOrEqual(t, len(out), 150)
	return out
}

// TestKeptSFTsAreTheirPresets: the kept SFT models are committed, so they must stay small, and
// each is the SFT model of its feedback preset (its recorded SFT spec is this build's), made
// from the kept base of that preset (it records that base's pretraining fingerprint), and no
// base itself.
func TestKeptSFTsAreTheirPresets(t *testing.T) {
	for _, p := range runspec.SFTPresets() {
		name := strings.TrimSuffix(runspec.SFTFile(p), ".ckpt")
		ck, data := loadKeptBase(t, name)
		require.Less(t, len(data), 2<<20, name)
		require.True(t, IsSFTOf(ck, p.Spec), "%s.ckpt is not the SFT model of the %s preset: run make base", name, p.Name)
		require.False(t, IsBaseOf(ck, p.Spec), name)
		require.False(t, ck.HasOptimizer, name)
		base := KeptBase(p.Spec, []*checkpoint.Checkpoint{mustLoadBase(t, p.Spec.Lang+"-base")})
		require.NotNil(t, base, "%s's base is kept as %s-base.ckpt", p.Name, p.Spec.Lang)
		require.Equal(t, base.Meta[MetaFingerprint], ck.Meta[MetaPretrainFingerprint], name)
	}
}

func mustLoadBase(t *testing.T, name string) *checkpoint.Checkpoint {
	ck, _ := loadKeptBase(t, name)
	return ck
}

// TestKeptZhSFTRegenerates fine-tunes zh-sft again from the kept zh-base (500 steps, under
// 30 s) and checks the bytes equal the kept file. en-sft is checked by make base alone.
func TestKeptZhSFTRegenerates(t *testing.T) {
	if testing.Short() {
		t.Skip("fine-tunes 500 steps")
	}
	t.Parallel()
	p, err := runspec.PresetByName("zh-feedback")
	require.NoError(t, err)
	base, _ := loadKeptBase(t, "zh-base")
	_, kept := loadKeptBase(t, "zh-sft")
	m, res, err := TrainSFT(context.Background(), p.Spec, base.Model, base.Tok, nil)
	require.NoError(t, err)
	defer m.Free()
	var buf bytes.Buffer
	require.NoError(t, SaveSFT(&buf, p.Spec, base, m, base.Tok, res))
	require.True(t, bytes.Equal(kept, buf.Bytes()), "web/base/zh-sft.ckpt differs from what the zh-feedback preset's SFT spec trains now: run make base and commit it if the change is intended")
}

// TestDefaultFeedbackLesson is the feedback issue's acceptance, on the default feedback lesson
// (the en-feedback preset, from the kept SFT model web/base/en-sft.ckpt, on the food taste):
// the reward model's held-out pair accuracy is at least 0.8 (against the labels as the
// simulated class gave them, a tenth flipped), and PPO, DPO and GRPO each win at least 0.7 of
// the taste's judgements against the SFT model's answers to the held-out prompts. Today: reward
// model 0.827 (0.960 against the taste itself), PPO 0.763, DPO 0.747, GRPO 0.796 (the SFT
// model's answers talk about food 0.184 of the time; the methods' 0.711, 0.678, 0.776). It logs the
// table the README shows (go test -run TestDefaultFeedbackLesson -v ./core/job/, or make
// feedback-lesson for the command line's version). About a minute and a half.
func TestDefaultFeedbackLesson(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a reward model and three methods for about a minute and a half")
	}
	t.Parallel() // see TestDefaultLesson
	p, err := runspec.PresetByName("en-feedback")
	require.NoError(t, err)
	sft, _ := loadKeptBase(t, "en-sft")
	require.True(t, IsSFTOf(sft, p.Spec), "web/base/en-sft.ckpt is not en-feedback's SFT model: run make base")
	res, err := Run(context.Background(), p.Spec, ops.NewCPU(), Options{Base: sft})
	require.NoError(t, err)
	t.Log("\n" + feedback.Markdown(res.Feedback))
	byName := map[string]feedback.Result{}
	for _, r := range res.Feedback {
		byName[r.Method] = r
		t.Logf("%-12s taste score %.3f, reward-model gold accuracy %.3f", r.Method, r.TasteScore, r.RMGoldAccuracy)
	}
	require.GreaterOrEqual(t, byName[feedback.RewardModel].RMAccuracy, 0.8)
	for _, m := range p.Spec.Feedback.Methods {
		r := byName[m.Label()]
		require.Equal(t, feedback.JudgeTaste, r.WinJudge)
		require.GreaterOrEqual(t, r.GoldWinRate, 0.7, "%s's gold win rate (KL %.3f)", m.Label(), r.KL)
	}
}

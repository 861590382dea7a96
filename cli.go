//go:build !js

package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"

	"pretune/core"
	"pretune/core/checkpoint"
	"pretune/core/compare"
	"pretune/core/feedback"
	"pretune/core/fingerprint"
	"pretune/core/job"
	"pretune/core/ops"
	"pretune/core/runspec"
	"pretune/webgpu"
)

// commandLine runs the native program and returns its exit status. Errors go to stderr.
func commandLine(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pretune", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		addr    = fs.String("addr", "127.0.0.1:8080", "address to serve the playground on")
		class   = fs.String("class", "", "serve class mode too: students' picks are sent to this server and kept in `dir`/pretune-class.db")
		presets = fs.Bool("presets", false, "list the built-in presets (pretraining runs, fine-tuning comparisons, then feedback stages): name, a tab, its code")
		code    = fs.String("run", "", "train the run of a share `code` (or a whole link) on the CPU device")
		asJSON  = fs.Bool("json", false, "with -run: print one JSON object per line")
		out     = fs.String("out", "", "with -run: save the trained model as a checkpoint `file` (of a feedback stage: the reward model, as safetensors)")
		bases   = fs.String("bases", "", "regenerate the kept base checkpoints (one per comparison preset) and SFT models (one per feedback preset), on the CPU, into `dir` (make base)")
		taskF   = fs.String("task", "", "with -run of a comparison: fine-tune on your own task `file` instead (prompt/response pairs, or labelled lines with -task-kind classify; TSV or JSON Lines)")
		kind    = fs.String("task-kind", "generate", "with -task: generate (prompt/response pairs) or classify (text and label)")
		noLeash = fs.Bool("no-leash", false, "with -run of a feedback stage: add PPO without its KL penalty (kl_coef 0) beside the link's methods, to see what the leash is for")
		prefs   = fs.String("prefs", "", "with -run of a feedback stage (a preset such as en-feedback, or its link): learn from your preference pairs `file` (prompt/chosen/rejected, TSV or JSON Lines) instead of the built-in taste")
		fresh   = fs.Bool("pretrain", false, "with -run of a comparison: pretrain its base even when a kept copy of it exists")
		shards  = fs.Int("shards", -1, "with -run: cut each pretraining step's batch into `n` shards (a different run from the link's; 1 is unsharded); the link's count when not given")
		workers = fs.Int("workers", 0, "with -run: goroutines computing a sharded step's shards (0: one per core); the result is the same for any number")
		device  = fs.String("device", "cpu", "with -run: cpu (reproduces exactly everywhere), webgpu (any adapter, software ones too) or auto (a hardware GPU if there is one, else cpu)")
	)
	so := addServeFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: pretune [-addr host:port] [-class DIR] | -presets | -run CODE_OR_URL_OR_PRESET [-json] [-out FILE] [-pretrain] [-task FILE | -prefs FILE] [-no-leash] | -bases DIR")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "pretune: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	var err error
	switch {
	case *presets:
		err = listPresets(stdout)
	case *code != "":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		defer stop()
		err = runCode(ctx, *code, runOptions{device: *device, asJSON: *asJSON, out: *out, pretrain: *fresh, task: *taskF, taskKind: *kind, prefs: *prefs, noLeash: *noLeash, shards: *shards, workers: *workers}, stdout, stderr)
	case *bases != "":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		defer stop()
		err = writeBases(ctx, *bases, runspec.BasePresets(), stdout)
		if err == nil {
			err = writeSFTs(ctx, *bases, runspec.SFTPresets(), stdout)
		}
	case so.Static != "":
		err = writeStatic(*so, stderr)
	case so.Precompress != "":
		err = precompress(so.Precompress, true, stderr)
	default:
		err = serve(*addr, so.TLSCert, so.TLSKey, *class, stderr)
	}
	if err != nil {
		fmt.Fprintf(stderr, "pretune: %v\n", err)
		return 1
	}
	return 0
}

func listPresets(w io.Writer) error {
	all := append(runspec.Presets(), runspec.ComparisonPresets()...)
	for _, p := range append(all, runspec.FeedbackPresets()...) {
		c, err := runspec.Encode(p.Spec)
		if err != nil {
			return fmt.Errorf("preset %s: %w", p.Name, err)
		}
		fmt.Fprintf(w, "%s\t%s\n", p.Name, c)
	}
	return nil
}

// openDevice opens the -device choice; with "auto" it may fall back to the CPU and say why.
func openDevice(name string, log io.Writer) (ops.Device, error) {
	dev, fallback, err := webgpu.Select(name)
	if err != nil {
		return nil, err
	}
	if fallback != "" {
		fmt.Fprintf(log, "pretune: using the CPU device: %s\n", fallback)
	}
	if g, ok := dev.(*webgpu.Device); ok {
		fmt.Fprintf(log, "pretune: %s: largest buffer %d MiB, workgroup memory %d KiB\n",
			g.Name(), g.MaxBufferElements()*4>>20, g.Info().Limits.MaxComputeWorkgroupStorageSize>>10)
	}
	return dev, nil
}

// runOptions are -run's companions.
type runOptions struct {
	device   string
	asJSON   bool
	out      string // a checkpoint file to write
	pretrain bool   // a comparison pretrains its base even when a kept copy exists
	task     string // a learner's task file replacing a comparison's task
	taskKind string // its kind: task.KindGenerate or task.KindClassify
	prefs    string // a learner's preference file replacing a feedback stage's taste
	noLeash  bool   // add feedback.NoLeash to a feedback stage's methods
	shards   int    // the pretraining's shard count instead of the link's (-1: the link's)
	workers  int    // goroutines computing shards (0: one per core)
}

// withNoLeash adds PPO without its KL penalty to a feedback stage's methods. The link's
// fingerprints stay: the other methods' runs do not change.
func withNoLeash(spec runspec.Spec) (runspec.Spec, error) {
	if !spec.Feeds() {
		return spec, fmt.Errorf("-no-leash needs a feedback stage to run (a preset such as en-feedback, or a feedback link)")
	}
	cfg := *spec.Feedback
	cfg.Methods = append(slices.Clone(cfg.Methods), feedback.NoLeash())
	spec.Feedback = &cfg
	if _, err := runspec.Encode(spec); err != nil { // at most 8 methods, names unique
		return spec, err
	}
	return spec, nil
}

// withUserPrefs replaces a feedback stage's taste with the learner's preference file, refused
// with feedback.ParsePairs's line-numbered error before anything trains. The link's
// fingerprints were the taste's run: they are dropped.
func withUserPrefs(spec runspec.Spec, path string) (runspec.Spec, error) {
	if !spec.Feeds() {
		return spec, fmt.Errorf("-prefs needs a feedback stage to run (a preset such as en-feedback, or a feedback link)")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return spec, err
	}
	name := filepath.Base(path)
	if _, err := feedback.ParsePairs(name, data); err != nil {
		return spec, fmt.Errorf("%s: %w", path, err)
	}
	ref, err := runspec.UserPrefsRef(name, string(data))
	if err != nil {
		return spec, fmt.Errorf("%s: %w", path, err)
	}
	cfg := *spec.Feedback
	cfg.Taste = ""
	spec.Feedback, spec.Prefs, spec.Fingerprints = &cfg, ref, nil
	if _, err := runspec.Encode(spec); err != nil { // a method may need the taste (GRPO's judge)
		return spec, err
	}
	return spec, nil
}

// withUserTask replaces a comparison's task with the learner's file.
func withUserTask(spec runspec.Spec, path, kind string) (runspec.Spec, error) {
	if !spec.Compares() {
		return spec, fmt.Errorf("-task needs a comparison to run (a preset such as en-lesson, or a comparison's link)")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return spec, err
	}
	ref, err := runspec.UserTaskRef(filepath.Base(path), kind, string(data))
	if err != nil {
		return spec, fmt.Errorf("%s: %w", path, err)
	}
	spec.Task = ref
	if _, err := runspec.Encode(spec); err != nil { // the methods must suit the task's kind
		return spec, err
	}
	return spec, nil
}

// decodeRun reads -run's argument: a share code or link, or a preset's name.
func decodeRun(arg string) (runspec.Spec, error) {
	spec, err := runspec.Decode(arg)
	if err != nil {
		if p, perr := runspec.PresetByName(arg); perr == nil {
			return p.Spec, nil
		}
	}
	return spec, err
}

func runCode(ctx context.Context, code string, ro runOptions, w, log io.Writer) error {
	asJSON, out := ro.asJSON, ro.out
	spec, err := decodeRun(code)
	if err != nil {
		return err
	}
	if ro.task != "" {
		if spec, err = withUserTask(spec, ro.task, ro.taskKind); err != nil {
			return err
		}
	}
	if ro.prefs != "" {
		if spec, err = withUserPrefs(spec, ro.prefs); err != nil {
			return err
		}
	}
	if ro.noLeash {
		if spec, err = withNoLeash(spec); err != nil {
			return err
		}
	}
	if ro.shards >= 0 && ro.shards != max(spec.Config.Shards, 1) {
		spec.Config.Shards = ro.shards
		if ro.shards <= 1 {
			spec.Config.Shards = 0 // one shard is the unsharded run: write the lowest link version
		}
		spec.Fingerprint, spec.Fingerprints = "", nil // another run: the link's results are not its
		if _, err := runspec.Encode(spec); err != nil {
			return err
		}
	}
	dev, err := openDevice(ro.device, log)
	if err != nil {
		return err
	}
	var base *checkpoint.Checkpoint
	if spec.Compares() && !ro.pretrain {
		if out != "" && !spec.Feeds() {
			return fmt.Errorf("-out saves the pretrained model of a comparison's base: add -pretrain to pretrain it here (the kept bases are in web/base)")
		}
		if base, err = keptBase(spec, dev); err != nil {
			return err
		}
	}
	enc := json.NewEncoder(w)
	if !asJSON {
		c := spec.Config
		objective := "causal LM"
		if o := spec.MLM(); o != nil {
			objective = fmt.Sprintf("masked LM (%.0f%% masked)", 100*o.Rate)
		}
		fmt.Fprintf(w, "corpus %s, %s, %d layers x %d channels, %d heads, context %d, batch %d, %d steps, seed %d, device %s\n",
			corpusLabel(spec), objective, c.Layers, c.Dim, c.Heads, c.Context, c.Batch, c.Steps, c.Seed, dev.Name())
		if c.Shards > 1 {
			fmt.Fprintf(w, "each step's batch in %d shards, summed in order: any number of workers gives the same run\n", c.Shards)
		}
		if spec.Compares() {
			var names []string
			for _, m := range spec.Methods {
				names = append(names, m.Label())
			}
			taskName := spec.Task.ID
			if spec.Task.ID == runspec.UserTask {
				taskName = fmt.Sprintf("%q (yours)", spec.Task.Name)
			}
			if spec.Feeds() {
				fmt.Fprintf(w, "then fine-tunes that base on task %s, %d steps of %s: the SFT model\n", taskName, spec.FineTune.Steps, names[0])
				printFeedbackPlan(w, spec)
			} else {
				fmt.Fprintf(w, "then fine-tunes that base on task %s, %d steps with each method: %s\n",
					taskName, spec.FineTune.Steps, strings.Join(names, ", "))
			}
		}
	}
	verdicts := map[string]job.Event{} // a comparison's results, by method, with their verdicts
	res, err := job.Run(ctx, spec, dev, job.Options{Base: base, FallbackToCPU: true, Workers: ro.workers, OnEvent: func(e job.Event) {
		switch {
		case asJSON:
			e.LoRAUpdates = nil // thousands of numbers per method: the playground draws them
			_ = enc.Encode(e)
		case e.Event == "device":
			fmt.Fprintf(w, "device change: %s\n", e.Note)
		case e.Event == "eval" && e.Reward != nil:
			fmt.Fprintf(w, "%-8s step %4d/%d  train loss %+.4f  held-out reward %+.3f  KL %.4f\n", e.Method, e.Step, e.Steps, e.TrainLoss, *e.Reward, *e.KL)
		case e.Event == "eval" && e.RMAccuracy != nil:
			fmt.Fprintf(w, "%-8s step %4d/%d  train loss %.4f  held-out loss %.4f  accuracy %.3f\n", e.Method, e.Step, e.Steps, e.TrainLoss, e.ValLoss, *e.RMAccuracy)
		case e.Event == "eval" && e.Method != job.MethodPretrain:
			fmt.Fprintf(w, "%-8s step %4d/%d  train loss %.4f  held-out task loss %.4f\n", e.Method, e.Step, e.Steps, e.TrainLoss, e.ValLoss)
		case e.Event == "eval":
			fmt.Fprintf(w, "step %5d/%d  train loss %.4f  held-out loss %.4f  %.0f tokens/s\n", e.Step, e.Steps, e.TrainLoss, e.ValLoss, e.TokensPerS)
		case e.Event == "result" && e.Method != job.MethodPretrain:
			// A comparison's results are printed together as a table at the end.
			verdicts[e.Method] = e
		case e.Event == "result" && e.Note != "":
			fmt.Fprintf(w, "base: %s; held-out loss %.4f\nfingerprint %s\n", e.Note, e.ValLoss, e.Fingerprint)
			printVerdict(w, e)
		case e.Event == "result":
			fmt.Fprintf(w, "done: held-out loss %.4f, %d trainable parameters, %.0f tokens/s\n", e.ValLoss, e.TrainableParams, e.TokensPerS)
			if e.FillBlank != nil {
				fmt.Fprintf(w, "fill-in-the-blank probe: %.1f%% of blanked held-out characters restored\n", 100**e.FillBlank)
			}
			fmt.Fprintf(w, "fingerprint %s\n", e.Fingerprint)
			printVerdict(w, e)
		}
	}})
	if err != nil {
		return err
	}
	switch {
	case asJSON:
	case spec.Feeds():
		printFeedback(w, res.Feedback, verdicts)
	case spec.Compares():
		printComparison(w, res.Compare, verdicts)
	default:
		if err := printSample(w, spec, res); err != nil {
			return err
		}
	}
	if out != "" {
		save := func() error { return saveCheckpoint(out, res) }
		if spec.Feeds() {
			save = func() error { return saveRewardModel(out, res.Feedback) }
		}
		if err := save(); err != nil {
			return err
		}
		if !asJSON {
			fmt.Fprintf(w, "saved %s\n", out)
		}
	}
	return nil
}

// saveRewardModel writes a feedback stage's reward model (safetensors, Hugging Face's score head).
func saveRewardModel(path string, results []feedback.Result) error {
	for _, r := range results {
		if r.Kind == feedback.RewardModel && len(r.File) > 0 {
			return os.WriteFile(path, r.File, 0o644)
		}
	}
	return fmt.Errorf("the run has no reward model to save")
}

// printSample shows what the model learned: a greedy continuation of the start of the held-out
// text, or for a masked-LM model (which cannot generate) its guesses at blanks in it.
func printSample(w io.Writer, spec runspec.Spec, res *job.Result) error {
	c, err := spec.Resolve()
	if err != nil {
		return err
	}
	if res.Trainer.Masked() != nil {
		blanked, filled, err := core.FillBlanks(res.Trainer.Model, res.Trainer.Tok, c.Val, 5)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "blanks: %q\nfilled: %q\n", blanked, filled)
		return nil
	}
	prompt := []rune(c.Val)
	prompt = prompt[:min(len(prompt), 12)]
	text, err := res.Trainer.Model.Generate(res.Trainer.Tok, string(prompt), core.SampleOptions{Tokens: 100})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "sample: %q\n", string(prompt)+text)
	return nil
}

// printVerdict says how the pretraining's fingerprint compares with the link's, if it has one.
func printVerdict(w io.Writer, e job.Event) {
	switch e.Match {
	case fingerprint.Matches:
		fmt.Fprintln(w, "matches the link's fingerprint: the run reproduced bit for bit")
	case fingerprint.Differs:
		fmt.Fprintf(w, "DIFFERS from the link's fingerprint %s\n", e.Expected)
	case fingerprint.OtherDevice:
		fmt.Fprintf(w, "the link was made on another device class (%s): losses agree only within tolerance there\n", e.Expected)
	}
}

// printComparison shows a comparison's table (the base first), each model's answer to the
// task's first held-out prompt, and each model's fingerprint with its verdict (the result
// events in verdicts) when the link carried one.
func printComparison(w io.Writer, results []compare.Result, verdicts map[string]job.Event) {
	fmt.Fprintf(w, "\n%s", compare.Markdown(results))
	for _, r := range results {
		for _, a := range r.Answers[:min(len(r.Answers), 1)] {
			fmt.Fprintf(w, "%-8s %q -> %q\n", r.Method, a.Prompt, a.Answer)
		}
	}
	for _, r := range results {
		fmt.Fprintf(w, "fingerprint %-8s %s%s\n", r.Method, r.Fingerprint, verdictNote(verdicts[r.Method]))
	}
}

// printFeedbackPlan says where a feedback stage's pairs come from and what it trains.
func printFeedbackPlan(w io.Writer, spec runspec.Spec) {
	cfg := spec.Feedback
	from := "the built-in taste " + cfg.Taste
	if spec.Prefs != nil {
		from = fmt.Sprintf("your preference pairs %q", spec.Prefs.Name)
	}
	var names []string
	for _, m := range cfg.Methods {
		names = append(names, m.Label())
	}
	fmt.Fprintf(w, "then learns from feedback: a reward model from %s (%d steps), then %d steps with each method: %s\n",
		from, cfg.RewardSteps, cfg.Steps, strings.Join(names, ", "))
}

// printFeedback shows a feedback stage's table (feedback.Markdown), each model's answer to the
// first held-out prompt, and each model's fingerprint with its verdict when the link carried one.
func printFeedback(w io.Writer, results []feedback.Result, verdicts map[string]job.Event) {
	fmt.Fprintf(w, "\n%s", feedback.Markdown(results))
	for _, r := range results {
		for _, s := range r.Samples[:min(len(r.Samples), 1)] {
			fmt.Fprintf(w, "%-12s %q -> %q\n", r.Method, s.Prompt, s.Answer)
		}
	}
	for _, r := range results {
		fmt.Fprintf(w, "fingerprint %-12s %s%s\n", r.Method, r.Fingerprint, verdictNote(verdicts[r.Method]))
	}
}

// verdictNote is a result's fingerprint verdict after its fingerprint, or "" without one.
func verdictNote(e job.Event) string {
	switch e.Match {
	case fingerprint.Matches:
		return "  matches the link's"
	case fingerprint.Differs:
		return "  DIFFERS from the link's " + e.Expected
	case fingerprint.OtherDevice:
		return "  the link's was made on another device class: " + e.Expected
	}
	return ""
}

func corpusLabel(s runspec.Spec) string {
	if s.Corpus.ID != "" {
		return s.Corpus.ID
	}
	return fmt.Sprintf("your text (%d bytes)", len(s.Corpus.Text))
}

// saveCheckpoint writes to a temporary file first, so a failed save never leaves half a file
// where a good one was.
func saveCheckpoint(path string, res *job.Result) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	err = checkpoint.Save(f, res.Trainer.Model, res.Trainer.Tok, res.Trainer.Opt)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("saving %s: %w", path, err)
	}
	return os.Rename(tmp, path)
}

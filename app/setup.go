package app

import (
	"errors"
	"fmt"
	"strconv"
	"sync"

	"pretune/core"
	"pretune/core/corpus"
	"pretune/core/runspec"
)

// setup is the pretraining form's state: the corpus, the model size and its fields, the device.
// It is plain Go so the form's logic (defaults, resets, validation, the parameter count, the
// spec a run gets) is tested without a browser.
type setup struct {
	CorpusID string // a built-in id or runspec.UserCorpus
	UserText string
	UserName string
	Size     string      // the core size preset the shape came from ("" for a shape of its own)
	Cfg      core.Config // what the fields show
	// Default is what each field resets to: the values of the preset, size or link the form
	// was last loaded from.
	Default core.Config
	Device  string // runspec.DeviceAuto, DeviceCPU or DeviceWebGPU
	Prompt  string // starts the samples; "" lets the trainer take the held-out text's start
	// DefaultCorpus and DefaultSize are what the corpus and size pickers reset to; the device
	// resets to runspec.DeviceAuto.
	DefaultCorpus string
	DefaultSize   string
	// Objective is runspec.ObjectiveCausal ("") or ObjectiveMasked, MaskRate the masked
	// objective's share of hidden characters; each resets to its Default.
	Objective, DefaultObjective string
	MaskRate, DefaultMaskRate   float32
	// Workers is how many workers (cores) may train a sharded run at once; not in the link, as
	// it never changes the result. 0: the page's default (setup.workers).
	Workers int
}

// cores is this computer's logical cores, navigator.hardwareConcurrency as the page reads it
// when it mounts (1 until then, and in go test).
var cores = 1

// maxDefaultWorkers caps the workers a run gets unasked: past 8, a step's few shards leave
// more workers idle than they help, and the learner's other tabs want cores too.
const maxDefaultWorkers = 8

// workers is how many workers a sharded run may use: the learner's choice, else one per core
// up to maxDefaultWorkers.
func (s setup) workers() int {
	if s.Workers > 0 {
		return s.Workers
	}
	return max(1, min(cores, maxDefaultWorkers))
}

// defaultMaskRate is the mask rate a masked run starts with (core.DefaultMLM's 15%).
var defaultMaskRate = core.DefaultMLM().Rate

// field is one number of the form: its key (also its element id and i18n key), how to read and
// write it in a Config, and its range.
type field struct {
	Key      string
	Get      func(c core.Config) float64
	Set      func(c *core.Config, v float64)
	Min, Max float64
	Int      bool
}

// fields lists the form's numbers in the order they show.
var fields = []field{
	{"layers", func(c core.Config) float64 { return float64(c.Layers) }, func(c *core.Config, v float64) { c.Layers = int(v) }, 1, core.MaxLayers, true},
	{"dim", func(c core.Config) float64 { return float64(c.Dim) }, func(c *core.Config, v float64) { c.Dim = int(v) }, 4, core.MaxDim, true},
	{"heads", func(c core.Config) float64 { return float64(c.Heads) }, func(c *core.Config, v float64) { c.Heads = int(v) }, 1, 64, true},
	{"context", func(c core.Config) float64 { return float64(c.Context) }, func(c *core.Config, v float64) { c.Context = int(v) }, 2, core.MaxContext, true},
	{"batch", func(c core.Config) float64 { return float64(c.Batch) }, func(c *core.Config, v float64) { c.Batch = int(v) }, 1, core.MaxBatch, true},
	// Shards (data-parallel steps): 1 is written as 0, the unsharded run every old link is.
	{"shards", func(c core.Config) float64 { return float64(max(c.Shards, 1)) }, setShards, 1, core.MaxBatch, true},
	{"steps", func(c core.Config) float64 { return float64(c.Steps) }, func(c *core.Config, v float64) { c.Steps = int(v) }, 1, core.MaxSteps, true},
	{"lr", func(c core.Config) float64 { return float64(c.LR) }, func(c *core.Config, v float64) { c.LR = float32(v) }, 1e-5, 1, false},
	{"dropout", func(c core.Config) float64 { return float64(c.Dropout) }, func(c *core.Config, v float64) { c.Dropout = float32(v) }, 0, 0.5, false},
	{"eval_every", func(c core.Config) float64 { return float64(c.EvalEvery) }, func(c *core.Config, v float64) { c.EvalEvery = int(v) }, 1, core.MaxSteps, true},
	{"seed", func(c core.Config) float64 { return float64(c.Seed) }, func(c *core.Config, v float64) { c.Seed = uint64(v) }, 0, 1 << 50, true},
}

// setShards sets the shard count, 1 as 0 (the same run, and a link without the field).
func setShards(c *core.Config, v float64) {
	c.Shards = int(v)
	if c.Shards <= 1 {
		c.Shards = 0
	}
}

func fieldByKey(key string) (field, bool) {
	for _, f := range fields {
		if f.Key == key {
			return f, true
		}
	}
	return field{}, false
}

// defaultSetup is the first run a learner sees: the en-tiny preset.
func defaultSetup() setup {
	s, err := setupFromSpec(runspec.Presets()[0].Spec)
	if err != nil {
		panic(err) // a built-in preset always fits the form
	}
	return s
}

// setupFromSpec fills the form from a spec (a preset or a link), whose values become the
// defaults; Size names the size preset with the same shape, if any.
func setupFromSpec(spec runspec.Spec) (setup, error) {
	s := setup{CorpusID: spec.Corpus.ID, DefaultCorpus: spec.Corpus.ID, Cfg: spec.Config, Default: spec.Config, Device: spec.Device,
		Objective: spec.Objective, DefaultObjective: spec.Objective, MaskRate: defaultMaskRate}
	if o := spec.MLM(); o != nil {
		s.MaskRate = o.Rate
	}
	s.DefaultMaskRate = s.MaskRate
	if s.Device == "" {
		s.Device = runspec.DeviceAuto
	}
	if spec.Corpus.ID == runspec.UserCorpus {
		s.UserText, s.UserName = spec.Corpus.Text, spec.Corpus.Name
	}
	for _, p := range core.SizePresets() {
		c := p.Config
		if c.Layers == spec.Config.Layers && c.Dim == spec.Config.Dim && c.Heads == spec.Config.Heads && c.Context == spec.Config.Context {
			s.Size = p.Name
		}
	}
	s.DefaultSize = s.Size
	return s, nil
}

// SetSize picks a model size and resets every field to its values.
func (s *setup) SetSize(name string) error {
	p, err := core.SizePreset(name)
	if err != nil {
		return err
	}
	s.Size, s.Cfg = name, p.Config
	s.Cfg.Vocab = 0
	s.Cfg.Shards = core.DefaultShards(s.Cfg.Batch) // a run of one's own: several cores may train it
	s.Default = s.Cfg
	return nil
}

// Reset puts one field back to its default.
func (s *setup) Reset(key string) {
	if f, ok := fieldByKey(key); ok {
		f.Set(&s.Cfg, f.Get(s.Default))
		s.Cfg.Warmup = min(s.Default.Warmup, s.Cfg.Steps)
	}
}

// SetField parses and range-checks one field's text. A refused value leaves the config as it
// was and returns a fieldError the page translates.
func (s *setup) SetField(key, text string) error {
	f, ok := fieldByKey(key)
	if !ok {
		return fmt.Errorf("no field %q", key)
	}
	v, err := strconv.ParseFloat(text, 64)
	if err != nil || v != v {
		return &fieldError{Key: key, Code: "not_number"}
	}
	if f.Int && v != float64(int64(v)) {
		return &fieldError{Key: key, Code: "not_integer"}
	}
	if v < f.Min || v > f.Max {
		return &fieldError{Key: key, Code: "range", Min: f.Min, Max: f.Max}
	}
	f.Set(&s.Cfg, v)
	// Warm-up is not on the form: keep it inside the run, as short as the default or shorter.
	s.Cfg.Warmup = min(s.Default.Warmup, s.Cfg.Steps)
	return nil
}

// SetMaskRate parses and range-checks the masked objective's mask rate.
func (s *setup) SetMaskRate(text string) error {
	v, err := strconv.ParseFloat(text, 64)
	if err != nil || v != v {
		return &fieldError{Key: "mask_rate", Code: "not_number"}
	}
	if v < runspec.MinMaskRate || v > runspec.MaxMaskRate {
		return &fieldError{Key: "mask_rate", Code: "range", Min: runspec.MinMaskRate, Max: runspec.MaxMaskRate}
	}
	s.MaskRate = float32(v)
	return nil
}

// fieldError is why a field's value was refused, in a form the page can translate.
type fieldError struct {
	Key      string
	Code     string // "not_number", "not_integer", "range", "heads", "warmup"
	Min, Max float64
}

func (e *fieldError) Error() string { return e.Key + ": " + e.Code }

// Check validates the whole config: the cross-field rules first (in words the page can
// translate), then core's own check.
func (s setup) Check() error {
	c := s.Cfg
	if c.Heads < 1 || c.Dim%c.Heads != 0 {
		return &fieldError{Key: "heads", Code: "heads"}
	}
	if c.Warmup > c.Steps {
		return &fieldError{Key: "steps", Code: "warmup"}
	}
	if c.Shards > c.Batch {
		return &fieldError{Key: "shards", Code: "shards"}
	}
	return c.Validate()
}

// Corpus resolves the chosen corpus (the learner's text is checked by corpus.FromText, whose
// *corpus.TextError the page translates).
func (s setup) Corpus() (*corpus.Corpus, error) {
	if s.CorpusID == runspec.UserCorpus {
		return corpus.FromText(s.UserName, []byte(s.UserText))
	}
	return corpus.Builtin(s.CorpusID)
}

// vocabCache remembers each corpus's vocabulary size (the parameter count needs it live, as the
// learner types).
var vocabCache = struct {
	sync.Mutex
	m map[string]int
}{m: map[string]int{}}

// Vocab is the vocabulary size a model trained on the chosen corpus gets.
func (s setup) Vocab() (int, error) {
	key := s.CorpusID
	if key == runspec.UserCorpus {
		key = "user:" + runspec.TextHash(s.UserText)
	}
	vocabCache.Lock()
	v, ok := vocabCache.m[key]
	vocabCache.Unlock()
	if ok {
		return v, nil
	}
	c, err := s.Corpus()
	if err != nil {
		return 0, err
	}
	tk, err := core.PretrainTokenizer(c)
	if err != nil {
		return 0, err
	}
	vocabCache.Lock()
	vocabCache.m[key] = tk.VocabSize()
	vocabCache.Unlock()
	return tk.VocabSize(), nil
}

// Params is the model's parameter count, or 0 when the corpus is not usable yet.
func (s setup) Params() int {
	v, err := s.Vocab()
	if err != nil {
		return 0
	}
	return s.Cfg.ParamCount(v)
}

// Spec is the run the form describes, in lang, ready to encode as a link.
func (s setup) Spec(lang Lang) (runspec.Spec, error) {
	if err := s.Check(); err != nil {
		return runspec.Spec{}, err
	}
	var ref runspec.CorpusRef
	var err error
	if s.CorpusID == runspec.UserCorpus {
		if _, err := corpus.FromText(s.UserName, []byte(s.UserText)); err != nil {
			return runspec.Spec{}, err // the translatable *corpus.TextError
		}
		ref, err = runspec.UserText(s.UserName, s.UserText)
	} else {
		ref, err = runspec.Builtin(s.CorpusID)
	}
	if err != nil {
		return runspec.Spec{}, err
	}
	cfg := s.Cfg
	cfg.Vocab = 0
	spec := runspec.Spec{Version: runspec.Version, Corpus: ref, Config: cfg, Device: s.Device, Lang: string(lang)}
	if s.Objective == runspec.ObjectiveMasked {
		// The default rate stays implicit, so the same run has one link.
		spec.Version, spec.Objective = runspec.VersionObjective, runspec.ObjectiveMasked
		if s.MaskRate != defaultMaskRate {
			spec.MaskRate = s.MaskRate
		}
	}
	if cfg.Shards != 0 {
		spec.Version = runspec.VersionShards
	}
	if err := spec.Validate(); err != nil && !errors.Is(err, runspec.ErrCorpusChanged) {
		return runspec.Spec{}, err
	}
	return spec, nil
}

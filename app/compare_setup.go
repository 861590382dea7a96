package app

import (
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"pretune/core"
	"pretune/core/compare"
	"pretune/core/runspec"
	"pretune/core/task"
)

// compareSetup is the fine-tuning comparison's form: which base, which task, which methods with
// their few settings, the steps and the seed. It is plain Go, so building the specs the workers
// get (and the link) is tested without a browser.
type compareSetup struct {
	// Base is basePretrained (the model the pretraining view just trained), the name of a
	// built-in base (runspec.BasePresets: "en-base", "zh-base"), or baseLink (the pretraining
	// a link carries, which neither of the others is).
	Base string
	// Pre is the base's pretraining: the spec whose corpus and config made it.
	Pre  runspec.Spec
	Task string // a built-in task of the base's language, or runspec.UserTask
	// UserText, UserKind and UserName are the learner's own task (Task == runspec.UserTask):
	// the pasted or loaded file, task.KindGenerate or KindClassify, and its name.
	UserText, UserKind, UserName string
	Methods                      []methodSetup
	Steps                        int
	// Seed drives the methods' data order and initialisation; it starts as the base's
	// pretraining seed (a link then stays version 2).
	Seed uint64
}

// Base choices besides the built-in bases' names.
const (
	basePretrained = "pretrained"
	baseLink       = "link"
)

// methodSetup is one method's row of the form: whether it is ticked, and the method as a link
// carries it. Zero LR and Alpha mean "the default" (compare.Method.Filled: the kind's learning
// rate, α = 2r), so the defaults follow when the rank changes.
type methodSetup struct {
	On bool
	compare.Method
}

// defaultMethod is a kind's row as the form starts it: compare.Defaults.
func defaultMethod(kind string) methodSetup {
	return methodSetup{Method: compare.Defaults(kind)}
}

// defaultTicks ticks the default lesson's kinds for a task kind (compare.DefaultMethods):
// full, LoRA, adapter and prefix for a generate task; the head and LoRA for a classify task.
func defaultTicks(ms []methodSetup, taskKind string) {
	on := map[string]bool{}
	for _, m := range compare.DefaultMethods(taskKind) {
		on[m.Kind] = true
	}
	for i := range ms {
		ms[i].On = on[ms[i].Kind]
	}
}

// newCompareSetup is the form for a base (a name as in Base) whose pretraining is pre.
func newCompareSetup(base string, pre runspec.Spec) compareSetup {
	s := compareSetup{Base: base, Pre: pre.Pretraining(), Steps: compare.DefaultSteps, Seed: pre.Config.Seed}
	for _, k := range compare.Kinds {
		s.Methods = append(s.Methods, defaultMethod(k))
	}
	s.Task = s.FirstTask()
	defaultTicks(s.Methods, s.TaskKind())
	return s
}

// defaultCompareSetup starts from the built-in base of the page's language.
func defaultCompareSetup(l Lang) compareSetup {
	name := "en-base"
	if l == ZH {
		name = "zh-base"
	}
	p, err := runspec.PresetByName(name)
	if err != nil {
		panic(err) // a built-in base preset
	}
	return newCompareSetup(name, p.Spec)
}

// builtinBases are the built-in bases' names (web/base/<name>.ckpt).
func builtinBases() []string {
	var out []string
	for _, p := range runspec.BasePresets() {
		out = append(out, p.Name)
	}
	return out
}

// builtinBaseOf names the built-in base whose pretraining pre is, or "".
func builtinBaseOf(pre runspec.Spec) string {
	for _, p := range runspec.BasePresets() {
		if samePretraining(p.Spec, pre) {
			return p.Name
		}
	}
	return ""
}

// samePretraining says whether two specs pretrain the same model (corpus, config and objective).
func samePretraining(a, b runspec.Spec) bool {
	return reflect.DeepEqual(a.Pretraining(), b.Pretraining())
}

// Lang is the base's language ("en" or "zh"): its corpus's.
func (s compareSetup) Lang() string {
	c, err := s.Pre.Resolve()
	if err != nil || c.Lang == "" {
		return "en"
	}
	return c.Lang
}

// tasksFor lists the built-in tasks in lang; for a masked-LM base (masked), only the classify
// ones: such a model cannot generate.
func tasksFor(lang string, masked bool) []string {
	var out []string
	for _, id := range task.Builtins() {
		if tLang, kind, ok := builtinLangKind(id); ok && tLang == lang && (!masked || kind == task.KindClassify) {
			out = append(out, id)
		}
	}
	return out
}

// Tasks are the tasks the form offers for its base: the built-in ones that fit it, then the
// learner's own.
func (s compareSetup) Tasks() []string {
	return append(tasksFor(s.Lang(), s.Masked()), runspec.UserTask)
}

// Masked says whether the base was pretrained with the masked objective.
func (s compareSetup) Masked() bool { return s.Pre.Objective == runspec.ObjectiveMasked }

// FirstTask is the task the form starts with and resets to.
func (s compareSetup) FirstTask() string { return firstTask(s.Lang(), s.Masked()) }

// firstTask is lang's first generate task (the facts), else its first task.
func firstTask(lang string, masked bool) string {
	ids := tasksFor(lang, masked)
	for _, id := range ids {
		if _, kind, _ := builtinLangKind(id); kind == task.KindGenerate {
			return id
		}
	}
	if len(ids) > 0 {
		return ids[0]
	}
	return ""
}

// TaskKind is the chosen task's kind.
func (s compareSetup) TaskKind() string {
	if s.Task == runspec.UserTask {
		if s.UserKind == "" {
			return task.KindGenerate
		}
		return s.UserKind
	}
	t, err := task.Builtin(s.Task)
	if err != nil {
		return task.KindGenerate
	}
	return t.Kind
}

// SetBase switches to another base: the task follows when the language changes.
func (s *compareSetup) SetBase(name string, pre runspec.Spec) {
	s.Base, s.Pre = name, pre.Pretraining()
	if !slices.Contains(s.Tasks(), s.Task) {
		s.SetTask(s.FirstTask())
	}
}

// SetTask picks a task; a task of another kind gets that kind's default methods ticked (a head
// only fits a classify task).
func (s *compareSetup) SetTask(id string) {
	before := s.TaskKind()
	s.Task = id
	if s.TaskKind() != before {
		defaultTicks(s.Methods, s.TaskKind())
	}
}

// SetUserKind says what the learner's task file holds: pairs (task.KindGenerate) or labelled
// lines (task.KindClassify).
func (s *compareSetup) SetUserKind(kind string) {
	before := s.TaskKind()
	s.UserKind = kind
	if s.TaskKind() != before {
		defaultTicks(s.Methods, s.TaskKind())
	}
}

// taskRef is the chosen task as a link carries it: a built-in one, or the learner's file
// checked by task.FromFile (its errors say the line).
func (s compareSetup) taskRef() (*runspec.TaskRef, *task.Task, error) {
	if s.Task == runspec.UserTask {
		if strings.TrimSpace(s.UserText) == "" {
			return nil, nil, errNoUserTask
		}
		ref, err := runspec.UserTaskRef(s.UserName, s.TaskKind(), s.UserText)
		if err != nil {
			return nil, nil, err
		}
		t, err := ref.Resolve()
		return ref, t, err
	}
	t, err := task.Builtin(s.Task)
	if err != nil {
		return nil, nil, err
	}
	return &runspec.TaskRef{ID: t.ID, Hash: t.Hash()}, t, nil
}

// method returns the row of kind.
func (s *compareSetup) method(kind string) *methodSetup {
	for i := range s.Methods {
		if s.Methods[i].Kind == kind {
			return &s.Methods[i]
		}
	}
	return nil
}

// methodField is one number of a compare method's row (number_field.go's table, shared with
// the feedback view's methods).
type methodField = numberField[methodSetup, *methodSetup]

var methodFields = []methodField{
	{Key: "lr", Kinds: compare.Kinds, Min: 1e-6, Max: 1,
		Get: func(m methodSetup) float64 { return float64(m.Filled().LR) },
		Set: func(m *methodSetup, v float64) { m.LR = float32(v) }},
	{Key: "rank", Kinds: []string{compare.LoRA, compare.DoRA, compare.LoRAPlus, compare.PiSSA}, Min: 1, Max: core.MaxDim, Int: true,
		Get: func(m methodSetup) float64 { return float64(m.Rank) },
		Set: func(m *methodSetup, v float64) { m.Rank = int(v) }},
	{Key: "alpha", Kinds: []string{compare.LoRA, compare.DoRA, compare.LoRAPlus, compare.PiSSA}, Min: 1e-3, Max: 1024,
		Get: func(m methodSetup) float64 { return float64(m.Filled().Alpha) },
		Set: func(m *methodSetup, v float64) { m.Alpha = float32(v) }},
	{Key: "size", Kinds: []string{compare.Adapter}, Min: 1, Max: 4 * core.MaxDim, Int: true,
		Get: func(m methodSetup) float64 { return float64(m.Size) },
		Set: func(m *methodSetup, v float64) { m.Size = int(v) }},
	{Key: "len", Kinds: []string{compare.Prefix}, Min: 1, Max: compare.MaxPrefixLen, Int: true,
		Get: func(m methodSetup) float64 { return float64(m.Len) },
		Set: func(m *methodSetup, v float64) { m.Len = int(v) }},
	// #17 (peft-b): LoRA+'s ratio and prompt tuning's soft tokens (Len, labelled as what it
	// counts here).
	{Key: "ratio", Kinds: []string{compare.LoRAPlus}, Min: 1, Max: core.MaxLoRAPlusRatio,
		Get: func(m methodSetup) float64 { return float64(m.Filled().Ratio) },
		Set: func(m *methodSetup, v float64) { m.Ratio = float32(v) }},
	{Key: "soft_tokens", Kinds: []string{compare.Prompt}, Min: 1, Max: core.MaxPromptLen, Int: true,
		Get: func(m methodSetup) float64 { return float64(m.Len) },
		Set: func(m *methodSetup, v float64) { m.Len = int(v) }},
}

// fieldsOf lists the number fields of a kind, in order.
func fieldsOf(kind string) []methodField { return fieldsFor(methodFields, kind) }

// targets are LoRA's layers as the form shows them: the default four when none were chosen (nil),
// none at all when every box was unticked (empty, which the form refuses).
func (m methodSetup) targets() []string {
	if m.Targets != nil {
		return m.Targets
	}
	return m.Filled().Targets
}

// SetTarget adds or removes one of LoRA's layers, keeping core.LoRATargets' order.
func (m *methodSetup) SetTarget(name string, on bool) {
	var out []string
	for _, t := range core.LoRATargets {
		if (t == name && on) || (t != name && slices.Contains(m.targets(), t)) {
			out = append(out, t)
		}
	}
	if out == nil {
		out = []string{} // none chosen: the check says so, rather than the default coming back
	}
	if slices.Equal(out, core.AttentionTargets()) { // the default: said by leaving it unsaid
		out = nil
	}
	m.Targets = out
}

// SetField parses and range-checks one of the method's numbers; a refused value leaves the row
// as it was and returns a *fieldError the page translates.
func (m *methodSetup) SetField(key, text string) error {
	return setFieldOf(methodFields, m.Kind, m, key, text)
}

// Reset puts one of the method's settings back to the kind's default (compare.Defaults).
func (m *methodSetup) Reset(key string) {
	d := compare.Defaults(m.Kind)
	switch key {
	case "lr":
		m.LR = d.LR
	case "rank":
		m.Rank = d.Rank
	case "alpha":
		m.Alpha = d.Alpha
	case "targets":
		m.Targets = d.Targets
	case "size":
		m.Size = d.Size
	case "len", "soft_tokens":
		m.Len = d.Len
	case "ratio":
		m.Ratio = d.Ratio
	case "train_body":
		m.TrainBody = d.TrainBody
	}
}

// IsDefault says whether a setting shows its default (its reset button is then off).
func (m methodSetup) IsDefault(key string) bool {
	switch key {
	case "targets":
		return m.Targets == nil
	case "train_body":
		return !m.TrainBody
	}
	for _, f := range fieldsOf(m.Kind) {
		if f.Key == key {
			return f.IsDefault(m)
		}
	}
	return true
}

// Link is the row as a link's method (compare.Method.Canonical): a default learning rate and
// LoRA's default layers stay unsaid, LoRA's α is always written, as the lesson presets do, so the
// form's defaults are exactly the built-in lesson.
func (m methodSetup) Link() compare.Method {
	return m.Method.Canonical()
}

// SetSteps and SetSeed parse the schedule's numbers.
func (s *compareSetup) SetSteps(text string) error {
	v, err := parseNumber("steps", text, 1, core.MaxSteps, true)
	if err == nil {
		s.Steps = int(v)
	}
	return err
}

func (s *compareSetup) SetSeed(text string) error {
	v, err := parseNumber("seed", text, 1, 1<<50, true)
	if err == nil {
		s.Seed = uint64(v)
	}
	return err
}

// parseNumber reads a field's text: a number, whole when isInt, within [lo, hi].
func parseNumber(key, text string, lo, hi float64, isInt bool) (float64, error) {
	v, err := strconv.ParseFloat(text, 64)
	if err != nil || v != v {
		return 0, &fieldError{Key: key, Code: "not_number"}
	}
	if isInt && v != float64(int64(v)) {
		return 0, &fieldError{Key: key, Code: "not_integer"}
	}
	if v < lo || v > hi {
		return 0, &fieldError{Key: key, Code: "range", Min: lo, Max: hi}
	}
	return v, nil
}

// Why a form cannot run, in words the page translates.
var (
	errNoMethod   = errors.New("tick at least one method")
	errNoTargets  = errors.New("LoRA has no target layers: tick at least one")
	errNoUserTask = errors.New("paste or load your task first")
)

// Spec is the comparison the form describes, in lang: the base's pretraining, the task, the
// schedule and every ticked method, checked as a link is (runspec.Encode) and in the version
// its link will have.
func (s compareSetup) Spec(lang Lang) (runspec.Spec, error) {
	ref, t, err := s.taskRef()
	if err != nil {
		return runspec.Spec{}, err
	}
	spec := s.Pre.Pretraining()
	spec.Device, spec.Lang = runspec.DeviceAuto, string(lang)
	spec.Task = ref
	ft := runspec.ScheduleFor(s.Steps)
	if s.Seed != s.Pre.Config.Seed { // the pretraining's seed needs no seed of its own
		ft.Seed = s.Seed
	}
	spec.FineTune = &ft
	for _, m := range s.Methods {
		if m.On && (m.Kind != compare.Head || t.Kind == task.KindClassify) { // a head fits labels only
			if compare.LoRALike(m.Kind) && len(m.targets()) == 0 { // a link would read "none" as the default four
				return runspec.Spec{}, errNoTargets
			}
			spec.Methods = append(spec.Methods, m.Link())
		}
	}
	if len(spec.Methods) == 0 {
		return runspec.Spec{}, errNoMethod
	}
	code, err := runspec.Encode(spec)
	if err != nil {
		return runspec.Spec{}, err
	}
	// The decoded spec is the one a link gives: its version is set, nothing else changes.
	out, err := runspec.Decode(code)
	if err != nil && !errors.Is(err, runspec.ErrCorpusChanged) {
		return runspec.Spec{}, err
	}
	return out, nil
}

// setupFromComparison fills the form from a link's comparison: its methods' settings become
// the rows (the kinds it does not use stay unticked, with their defaults).
func setupFromComparison(spec runspec.Spec, base string) compareSetup {
	s := newCompareSetup(base, spec)
	s.Task = spec.Task.ID
	if spec.Task.ID == runspec.UserTask {
		s.UserText, s.UserKind, s.UserName = spec.Task.Text, spec.Task.Kind, spec.Task.Name
	}
	s.Steps = spec.FineTune.Steps
	s.Seed = spec.FineTuneSeed()
	for i := range s.Methods {
		s.Methods[i].On = false
	}
	for _, lm := range spec.Methods {
		m := s.method(lm.Kind)
		if m == nil || m.On { // the form has one row a kind: it shows the first (the run keeps all)
			continue
		}
		m.On, m.Method = true, lm
		m.Name = "" // the form has no names: a row is its kind
		m.Targets = slices.Clone(lm.Targets)
		if len(m.Targets) == 0 {
			m.Targets = nil // the default four
		}
	}
	return s
}

// methodSpecs splits a comparison into one spec per method, each run by a worker of its own:
// the same base pretraining, task, schedule and seed, and that one method, with the fingerprints
// the link carried for the base and that method (the worker checks them).
func methodSpecs(spec runspec.Spec) []runspec.Spec {
	var out []runspec.Spec
	for _, m := range spec.Methods {
		one := spec
		m.Targets = slices.Clone(m.Targets)
		one.Methods = []compare.Method{m}
		one.Fingerprints = nil
		for _, name := range []string{compare.Base, m.Label()} {
			if fp, ok := spec.Fingerprints[name]; ok {
				if one.Fingerprints == nil {
					one.Fingerprints = map[string]string{}
				}
				one.Fingerprints[name] = fp
			}
		}
		ft := *spec.FineTune
		one.FineTune = &ft
		out = append(out, one)
	}
	return out
}

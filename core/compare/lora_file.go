package compare

import (
	"fmt"

	"pretune/core"
	"pretune/core/task"
)

// Loaded is the result name of a LoRA adapter loaded from a file onto the base (LoadAdapter).
const Loaded = "loaded"

// AdapterOf returns the adapter file of a finished comparison's LoRA, DoRA or IA3 method: the
// method named method, or, when method is "", the only such method. Other methods have no
// adapter to give.
func AdapterOf(results []Result, method string) ([]byte, error) {
	if len(results) == 0 {
		return nil, fmt.Errorf("compare: no comparison has finished here yet, so there is no adapter to save")
	}
	var loras []string
	for _, r := range results {
		if HasAdapterFile(r.Kind) {
			loras = append(loras, r.Method)
		}
		if method != "" && r.Method == method {
			if !HasAdapterFile(r.Kind) || r.AdapterFile == nil {
				return nil, fmt.Errorf("compare: method %s is %s, not LoRA: only a LoRA, DoRA or IA3 method has an adapter to save", method, r.Kind)
			}
			return r.AdapterFile, nil
		}
	}
	switch {
	case method != "":
		return nil, fmt.Errorf("compare: the comparison has no method %s", method)
	case len(loras) == 0:
		return nil, fmt.Errorf("compare: the comparison has no LoRA method, so there is no adapter to save")
	case len(loras) > 1:
		return nil, fmt.Errorf("compare: the comparison has %d LoRA methods (%v): name the one whose adapter to save", len(loras), loras)
	}
	return AdapterOf(results, loras[0])
}

// HasAdapterFile says whether a method kind's result carries an adapter file (AdapterFile),
// which LoadAdapter loads back onto the base: LoRA's and DoRA's in PEFT's LoRA naming, IA3's in
// PEFT's IA3 naming.
func HasAdapterFile(kind string) bool { return kind == LoRA || kind == DoRA || kind == IA3 }

// LoadAdapter puts an adapter file (core.Model.ExportLoRA's or ExportIA3's, or PEFT's with the
// same names) on a clone of base and reports what the method's result shows: the answers to
// cfg's fixed prompts, and for LoRA and DoRA with the adapter off and merged too and the learned
// updates ΔW, and the trainable parameters. Its Kind is the file's: LoRA, DoRA or IA3. It trains nothing and measures no accuracy. A generate task only: the file holds
// LoRA's matrices, not the class head a classify task's answers need. The base is unchanged;
// a refused file's error wraps core.ErrLoRADamaged, ErrLoRANotAdapter or ErrLoRAMismatch.
func LoadAdapter(base *core.Model, tk *core.Tokenizer, t *task.Task, cfg Config, adapter []byte) (*Result, error) {
	if t.Kind != task.KindGenerate {
		return nil, fmt.Errorf("compare: an adapter file is shown on a generate task only: it holds LoRA's matrices, not the class head task %s needs", t.ID)
	}
	if len(adapter) == 0 {
		return nil, fmt.Errorf("compare: the adapter file is empty")
	}
	cfg.Steps = max(cfg.Steps, 1) // nothing trains, but the fine-tuner wants a valid schedule
	// A clone shaped as every method's model is (prepare), so the answers are the ones the
	// method that saved the file gave.
	m, err := prepare(base, t, cfg, Method{Kind: Full}, nil)
	if err != nil {
		return nil, err
	}
	defer m.Free()
	peftType, err := m.ImportAdapter(adapter)
	if err != nil {
		return nil, fmt.Errorf("compare: %w", err)
	}
	ft, err := core.NewFineTuner(m, tk, t, core.FineTuneOptions{PromptLoss: cfg.PromptLoss})
	if err != nil {
		return nil, err
	}
	r := &Result{Method: Loaded, Kind: LoRA, TrainableParams: m.TrainableCount()}
	if lc, ok := m.LoRA(); ok && lc.UseDoRA {
		r.Kind = DoRA
	}
	r.TrainableShare = float64(r.TrainableParams) / float64(baseCount(m))
	if r.Answers, err = answer(ft, t, cfg); err != nil {
		return nil, err
	}
	if peftType == "IA3" { // no LoRA extras: IA3 has no low-rank update to show or merge
		r.Kind = IA3
		r.AdapterFile = adapter
		return r, nil
	}
	if err := loraExtras(r, ft, t, cfg); err != nil {
		return nil, err
	}
	return r, nil
}

package compare

import (
	"bytes"
	"fmt"

	"pretune/core"
	"pretune/core/task"
)

// Loaded is the result name of a LoRA adapter loaded from a file onto the base (LoadAdapter).
const Loaded = "loaded"

// AdapterOf returns the adapter file of a finished comparison's LoRA method: the method named
// method, or, when method is "", the only LoRA method. Other methods have no adapter to give.
func AdapterOf(results []Result, method string) ([]byte, error) {
	if len(results) == 0 {
		return nil, fmt.Errorf("compare: no comparison has finished here yet, so there is no adapter to save")
	}
	var loras []string
	for _, r := range results {
		if r.Kind == LoRA {
			loras = append(loras, r.Method)
		}
		if method != "" && r.Method == method {
			if r.Kind != LoRA || r.AdapterFile == nil {
				return nil, fmt.Errorf("compare: method %s is %s, not LoRA: only a LoRA method has an adapter to save", method, r.Kind)
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

// LoadAdapter puts a LoRA adapter file (core.Model.ExportLoRA's, or PEFT's with the same names)
// on a clone of base and reports what a LoRA method's result shows: the answers to cfg's fixed
// prompts with the adapter on, off and merged, the learned updates ΔW = s·B·A, and the trainable
// parameters. It trains nothing and measures no accuracy. A generate task only: the file holds
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
	if err := m.ImportLoRA(bytes.NewReader(adapter)); err != nil {
		return nil, fmt.Errorf("compare: %w", err)
	}
	ft, err := core.NewFineTuner(m, tk, t, core.FineTuneOptions{PromptLoss: cfg.PromptLoss})
	if err != nil {
		return nil, err
	}
	r := &Result{Method: Loaded, Kind: LoRA, TrainableParams: m.TrainableCount()}
	r.TrainableShare = float64(r.TrainableParams) / float64(baseCount(m))
	if r.Answers, err = answer(ft, t, cfg); err != nil {
		return nil, err
	}
	if err := loraExtras(r, ft, t, cfg); err != nil {
		return nil, err
	}
	return r, nil
}

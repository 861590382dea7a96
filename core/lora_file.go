package core

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"pretune/core/safetensors"
)

// A LoRA adapter travels alone, as a safetensors file in PEFT's naming: every tensor is
// "base_model.model." + the model's name for it, e.g.
// "base_model.model.blocks.0.attn.q_proj.lora_A.weight" ([r, in]) and "...lora_B.weight"
// ([out, r]); the metadata holds "peft_type": "LORA", "format": "pt" and "lora_config", the
// LoRAConfig as JSON with PEFT's field names (r, lora_alpha, use_rslora, lora_dropout,
// target_modules). The framing is core/safetensors', which core/checkpoint's model files share;
// an adapter file needs no model config.

// loraPrefix is PEFT's prefix of adapter tensor names.
const loraPrefix = "base_model.model."

// maxLoRAHeader bounds the JSON header of an adapter file (a corrupt length must not allocate
// gigabytes).
const maxLoRAHeader = 1 << 20

// ImportLoRA's refusals each wrap one of these, so the playground can say in the learner's
// language what is wrong with a file (its detail stays in English, as data).
var (
	// ErrLoRADamaged: the file is cut short or its header or data are damaged.
	ErrLoRADamaged = errors.New("damaged or cut short")
	// ErrLoRANotAdapter: a readable safetensors file that holds no LoRA adapter (a whole model's
	// weights, or another PEFT method).
	ErrLoRANotAdapter = errors.New("not a LoRA adapter")
	// ErrLoRAMismatch: a LoRA adapter made for a model of another shape (width, layers) or with
	// another LoRA config than the one attached.
	ErrLoRAMismatch = errors.New("made for another model")
)

// ExportLoRA writes the model's LoRA tensors (unmerged values) and config as safetensors.
func (m *Model) ExportLoRA(w io.Writer) error {
	if !m.hasLoRA() {
		return fmt.Errorf("lora: the model has no LoRA to export")
	}
	if m.PiSSA() {
		// A and B belong on the residual weights (pissa.go): on the base, which is what a
		// LoRA file is loaded onto, they would add the principal part a second time.
		return fmt.Errorf("lora: a PiSSA adapter belongs on its residual weights, not on the base, so it is not saved as a LoRA file")
	}
	var names []string
	params := map[string]*Param{}
	for _, bl := range m.blocks {
		for _, lo := range bl.lora {
			if lo != nil {
				ps := []*Param{lo.A, lo.B}
				if lo.M != nil {
					ps = append(ps, lo.M) // DoRA: PEFT's lora_magnitude_vector beside A and B
				}
				for _, p := range ps {
					names = append(names, loraPrefix+p.Name)
					params[loraPrefix+p.Name] = p
				}
			}
		}
	}
	sort.Strings(names)
	cfg, err := json.Marshal(m.loraCfg)
	if err != nil {
		return err
	}
	tensors := make([]safetensors.Tensor, len(names))
	for i, n := range names {
		p := params[n]
		host := make([]float32, p.Size())
		if err := m.Dev.Download(p.W, host); err != nil {
			return err
		}
		tensors[i] = safetensors.Tensor{Name: n, Shape: p.Shape, Data: host}
	}
	return safetensors.Write(w, map[string]string{"format": "pt", "peft_type": "LORA", "lora_config": string(cfg)}, tensors)
}

// ImportLoRA reads an adapter written by ExportLoRA (or by PEFT with the same names). A model
// without LoRA gets it attached with the file's config; a model with LoRA must have the same
// config. Every tensor must be present, with the right shape and finite values; on any error the
// model's weights are unchanged.
func (m *Model) ImportLoRA(r io.Reader) error {
	meta, entries, body, err := readAdapter(r, "lora file")
	if err != nil {
		return err
	}
	if meta["lora_config"] == "" {
		return fmt.Errorf("lora file: %w: the metadata has no lora_config", ErrLoRANotAdapter)
	}
	if t := meta["peft_type"]; t != "" && t != "LORA" {
		return fmt.Errorf("lora file: %w: peft_type %q is not LORA", ErrLoRANotAdapter, t)
	}
	var cfg LoRAConfig
	if err := json.Unmarshal([]byte(meta["lora_config"]), &cfg); err != nil {
		return fmt.Errorf("lora file: %w: lora_config: %v", ErrLoRADamaged, err)
	}
	if err := cfg.Validate(m.Cfg.Dim); err != nil {
		return fmt.Errorf("lora file: %w: %v", ErrLoRAMismatch, err)
	}
	if m.hasLoRA() && !sameLoRA(cfg, m.loraCfg) {
		return fmt.Errorf("lora file: %w: its config %+v differs from the model's LoRA %+v", ErrLoRAMismatch, cfg, m.loraCfg)
	}
	// Check everything against the model's shape before touching the model.
	want := map[string][]int{}
	for l := range m.blocks {
		for t := 0; t < numLoRATargets; t++ {
			if !cfg.has(t) {
				continue
			}
			out, in := m.Cfg.Dim, m.Cfg.Dim
			switch t {
			case loraFcIn:
				out = 4 * m.Cfg.Dim
			case loraFcOut:
				in = 4 * m.Cfg.Dim
			}
			pre := fmt.Sprintf("%sblocks.%d.%s.", loraPrefix, l, loraModule[t])
			want[pre+"lora_A.weight"] = []int{cfg.Rank, in}
			want[pre+"lora_B.weight"] = []int{out, cfg.Rank}
			if cfg.UseDoRA {
				want[pre+"lora_magnitude_vector"] = []int{out}
			}
		}
	}
	values, err := adapterValues(entries, body, want, "lora file", "lora_config")
	if err != nil {
		return err
	}
	if !m.hasLoRA() {
		if _, err := m.AttachLoRA(cfg, 0); err != nil {
			return err
		}
	}
	m.UnmergeLoRA()
	for _, p := range m.MethodParams() {
		if v, ok := values[loraPrefix+p.Name]; ok {
			m.Dev.Upload(p.W, v)
		}
	}
	return nil
}

func sameLoRA(a, b LoRAConfig) bool {
	return a.Rank == b.Rank && a.Alpha == b.Alpha && a.RSLoRA == b.RSLoRA && a.Dropout == b.Dropout && a.UseDoRA == b.UseDoRA &&
		strings.Join(sortedCopy(a.Targets), ",") == strings.Join(sortedCopy(b.Targets), ",")
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

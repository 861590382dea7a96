package core

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"

	"pretune/core/safetensors"
)

// An IA3 adapter travels alone like a LoRA one (lora_file.go): safetensors in PEFT's naming,
// "base_model.model." + the model's name for each vector, e.g.
// "base_model.model.blocks.0.attn.k_proj.ia3_l" ([out, 1]) and
// "base_model.model.blocks.0.mlp.fc_out.ia3_l" ([1, in] for a feedforward module); the metadata
// holds "peft_type": "IA3", "format": "pt" and "ia3_config", the IA3Config as JSON with PEFT's
// field names (target_modules, feedforward_modules).

// ExportIA3 writes the model's IA3 vectors and config as safetensors.
func (m *Model) ExportIA3(w io.Writer) error {
	if m.ia3 == nil {
		return fmt.Errorf("ia3: the model has no IA3 to export")
	}
	var tensors []safetensors.Tensor
	for _, ia := range m.ia3 {
		host := make([]float32, ia.L.Size())
		if err := m.Dev.Download(ia.L.W, host); err != nil {
			return err
		}
		tensors = append(tensors, safetensors.Tensor{Name: loraPrefix + ia.L.Name, Shape: ia.L.Shape, Data: host})
	}
	sort.Slice(tensors, func(i, j int) bool { return tensors[i].Name < tensors[j].Name })
	cfg, err := json.Marshal(m.ia3Cfg)
	if err != nil {
		return err
	}
	return safetensors.Write(w, map[string]string{"format": "pt", "peft_type": "IA3", "ia3_config": string(cfg)}, tensors)
}

// ImportIA3 reads an adapter written by ExportIA3 (or by PEFT with the same names). A model
// without IA3 gets it attached with the file's config; a model with IA3 must have the same
// config. Every vector must be present, with the right shape and finite values; on any error
// the model is unchanged. Refusals wrap ErrLoRADamaged, ErrLoRANotAdapter or ErrLoRAMismatch.
func (m *Model) ImportIA3(r io.Reader) error {
	meta, entries, body, err := readAdapter(r, "ia3 file")
	if err != nil {
		return err
	}
	if meta["ia3_config"] == "" || meta["peft_type"] != "IA3" {
		return fmt.Errorf("ia3 file: %w: the metadata has no ia3_config with peft_type IA3", ErrLoRANotAdapter)
	}
	var cfg IA3Config
	if err := json.Unmarshal([]byte(meta["ia3_config"]), &cfg); err != nil {
		return fmt.Errorf("ia3 file: %w: ia3_config: %v", ErrLoRADamaged, err)
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("ia3 file: %w: %v", ErrLoRAMismatch, err)
	}
	if m.ia3 != nil && !sameIA3(cfg, m.ia3Cfg) {
		return fmt.Errorf("ia3 file: %w: its config %+v differs from the model's IA3 %+v", ErrLoRAMismatch, cfg, m.ia3Cfg)
	}
	C := m.Cfg.Dim
	want := map[string][]int{}
	for l := range m.blocks {
		for t, name := range LoRATargets {
			if !slices.Contains(cfg.Targets, name) {
				continue
			}
			out, in := C, C
			switch t {
			case loraFcIn:
				out = 4 * C
			case loraFcOut:
				in = 4 * C
			}
			shape := []int{out, 1}
			if slices.Contains(cfg.Feedforward, name) {
				shape = []int{1, in}
			}
			want[fmt.Sprintf("%sblocks.%d.%s.ia3_l", loraPrefix, l, loraModule[t])] = shape
		}
	}
	values, err := adapterValues(entries, body, want, "ia3 file", "ia3_config")
	if err != nil {
		return err
	}
	if m.ia3 == nil {
		if _, err := m.AttachIA3(cfg); err != nil {
			return err
		}
	}
	for _, ia := range m.ia3 {
		m.Dev.Upload(ia.L.W, values[loraPrefix+ia.L.Name])
	}
	return nil
}

func sameIA3(a, b IA3Config) bool {
	return slices.Equal(sortedCopy(a.Targets), sortedCopy(b.Targets)) && slices.Equal(sortedCopy(a.Feedforward), sortedCopy(b.Feedforward))
}

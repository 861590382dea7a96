package compare

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"pretune/core"
	"pretune/core/task"
)

// Method kinds. A new kind is written once, in this file: its constant here, its settings in
// Method (with their JSON names, which share links carry), its defaults in Defaults and
// DefaultLR, its checks in Validate; then prepare (compare.go) attaches it to a model. The page's
// form, the presets, the command line and the link decoding read it from here.
const (
	Full    = "full"    // every weight trainable
	LoRA    = "lora"    // low-rank updates on chosen linear layers, base frozen
	Adapter = "adapter" // bottleneck adapters after attention and MLP, base frozen
	Prefix  = "prefix"  // learned key/value prefixes per layer, base frozen
	Head    = "head"    // a classification head replacing the LM head, body frozen or trained
	Base    = "base"    // the result name of the untouched base model
)

// The parameter-efficient methods of issue #17 (part a): DoRA, IA3, BitFit, LayerNorm tuning.
const (
	DoRA     = "dora"      // LoRA on each output row's direction plus a learned magnitude per row (PEFT's use_dora)
	IA3      = "ia3"       // learned vectors rescaling keys, values and the MLP's hidden units (PEFT's IA3)
	BitFit   = "bitfit"    // only the base's biases train: no new parameters
	LNTuning = "ln_tuning" // only the base's LayerNorm gains and biases train (PEFT's LN_TUNING)
)

// More parameter-efficient kinds (#17, part b).
const (
	LoRAPlus = "loraplus" // LoRA whose B learns Ratio× faster than its A
	PiSSA    = "pissa"    // LoRA started from W's top singular directions, the residual frozen
	Prompt   = "prompt"   // Len trainable soft tokens before the input embeddings, base frozen
)

// LoRALike says whether a kind is LoRA or LoRA with a twist: it takes LoRA's rank, α and
// targets (the page shows LoRA's settings for it), and its α and targets default as LoRA's do.
func LoRALike(kind string) bool {
	return kind == LoRA || kind == DoRA || kind == LoRAPlus || kind == PiSSA
}

// Kinds are the method kinds, in the order the page offers them.
var Kinds = []string{Full, LoRA, Adapter, Prefix, Head, DoRA, IA3, BitFit, LNTuning, LoRAPlus, PiSSA, Prompt}

// Method is one fine-tuning method with its few settings, as a share link carries it (its JSON
// is the link's: field names and order must not change) and as Run runs it. The settings a kind
// does not use stay zero; a zero LR, LoRA α or LoRA targets means the kind's default (Filled).
type Method struct {
	Name  string  `json:"name,omitempty"` // shown in results; "" means Kind
	Kind  string  `json:"kind"`
	LR    float32 `json:"lr,omitempty"` // peak learning rate; 0 takes DefaultLR(Kind)
	Rank  int     `json:"r,omitempty"`  // lora: the rank
	Alpha float32 `json:"alpha,omitempty"`
	// Targets are lora's adapted projections (core.LoRATargets); empty means the attention four.
	Targets   []string `json:"targets,omitempty"`
	Size      int      `json:"size,omitempty"`       // adapter: the bottleneck width
	Len       int      `json:"len,omitempty"`        // prefix: rows per layer; prompt: soft tokens
	TrainBody bool     `json:"train_body,omitempty"` // head: train the body too
	// Ratio is LoRA+'s learning rate of B over A's (0 means DefaultLoRAPlusRatio).
	Ratio float32 `json:"ratio,omitempty"`
}

// Label is the method's name in results.
func (m Method) Label() string {
	if m.Name != "" {
		return m.Name
	}
	return m.Kind
}

// Defaults is a kind's method as a new comparison starts it: the sizes it is given, and zero
// for the settings whose default follows from the others (the learning rate, LoRA's α and
// targets; see Filled).
func Defaults(kind string) Method {
	m := Method{Kind: kind}
	switch kind {
	case LoRA, DoRA:
		m.Rank = 4
	case Adapter:
		m.Size = 16
	case Prefix:
		m.Len = 16
	case LoRAPlus, PiSSA:
		m.Rank = 4
	case Prompt:
		m.Len = 8
	}
	if m.Kind == LoRAPlus {
		m.Ratio = core.DefaultLoRAPlusRatio
	}
	return m
}

// DefaultLR is each kind's peak learning rate: methods with few parameters starting from zero
// (or from a frozen model's keys) need larger steps than full fine-tuning, which must not wreck
// the pretrained weights.
func DefaultLR(kind string) float32 {
	switch kind {
	case Full:
		return 1e-3
	case LoRA:
		return 1e-2
	case Adapter:
		return 1e-2
	case Prefix:
		// Prefix rows are activations (keys and values of order 1), not weights: they need
		// steps of that order to move within a few hundred updates.
		return 1e-1
	case Head:
		return 3e-3
	case DoRA:
		return 1e-2 // LoRA's: the same low-rank update, its magnitudes start at the base's norms
	case IA3:
		// The vectors start at 1 and scale whole activations: a step of 3e-2 moves a scale by
		// a few percent, enough to learn within a few hundred steps (IA3's paper uses 3e-3
		// on models a thousand times larger, for many more steps).
		return 3e-2
	case BitFit, LNTuning:
		// Biases and gains are few and start where pretraining left them; LoRA's step moves
		// them as much as the task needs without the blow-ups of larger ones.
		return 1e-2
	case LoRAPlus:
		// A's rate; B's is Ratio× this. Half LoRA's puts B's (8e-2 at the default ratio 16)
		// where the en-base lesson learns best: measured over 500 steps, A at 2e-3 reached
		// 0.55 accuracy, 5e-3 0.68, and 1e-2 (B at 0.16) diverged to 0.
		return 5e-3
	case PiSSA:
		// LoRA's rate: on the en-base lesson 1e-2 reached 0.58 accuracy and the lowest held-out
		// loss of the LoRA family, 3e-3 0.47, 1e-3 0.32.
		return 1e-2
	case Prompt:
		// Soft tokens are input vectors, like prefix rows activations of order 1: prefix
		// tuning's rate (0.3 and 1 did no better on the en-base lesson).
		return 1e-1
	}
	return 1e-3
}

// Filled is m with every zero setting that stands for a default replaced by that default: the
// learning rate, and LoRA's α (2r, a scaling of 2 at any rank) and targets (the attention
// projections). Run trains exactly what Filled says.
func (m Method) Filled() Method {
	if m.LR == 0 {
		m.LR = DefaultLR(m.Kind)
	}
	if LoRALike(m.Kind) {
		if m.Alpha == 0 {
			m.Alpha = 2 * float32(m.Rank)
			if m.Kind == PiSSA {
				m.Alpha = float32(m.Rank) // the PiSSA authors' α = r: s = 1, A and B as √S
			}
		}
		if len(m.Targets) == 0 {
			m.Targets = core.AttentionTargets()
		}
	}
	if m.Kind == LoRAPlus && m.Ratio == 0 {
		m.Ratio = core.DefaultLoRAPlusRatio
	}
	m.Targets = slices.Clone(m.Targets)
	return m
}

// Canonical is m as a link writes it: a default learning rate and LoRA's default targets unsaid,
// LoRA's α always said (the lesson presets' links have always carried it).
func (m Method) Canonical() Method {
	f := m.Filled()
	if f.LR == DefaultLR(m.Kind) {
		m.LR = 0
	}
	if LoRALike(m.Kind) {
		m.Alpha = f.Alpha
		if slices.Equal(f.Targets, core.AttentionTargets()) {
			m.Targets = nil
		}
	}
	if m.Kind == LoRAPlus {
		m.Ratio = f.Ratio // always said, as α is
	}
	m.Targets = slices.Clone(m.Targets)
	return m
}

// LoRAConfig is a lora (or dora) method's core config, its defaults filled.
func (m Method) LoRAConfig() core.LoRAConfig {
	f := m.Filled()
	return core.LoRAConfig{Rank: f.Rank, Alpha: f.Alpha, Targets: f.Targets, UseDoRA: m.Kind == DoRA}
}

// DefaultMethods are the default lesson's methods for a task kind.
func DefaultMethods(kind string) []Method {
	lora := Defaults(LoRA).Canonical()
	if kind == task.KindClassify {
		lora.Name = "lora+head"
		return []Method{
			{Name: "head", Kind: Head},
			{Name: "head+body", Kind: Head, TrainBody: true, LR: 1e-3},
			lora,
		}
	}
	return []Method{Defaults(Full), lora, Defaults(Adapter), Defaults(Prefix)}
}

// MaxNameBytes bounds a method's name, which results and share links show.
const MaxNameBytes = 200

// MaxPrefixLen bounds a prefix's rows per layer.
const MaxPrefixLen = 256

// Validate checks one method for a model of C channels and a task of kind taskKind. Settings
// that the kind does not use must stay zero: a link carrying them was made by hand or damaged.
func (m Method) Validate(C int, taskKind string) error {
	// "pretrain" is the job's name for the base's pretraining in its events (job.MethodPretrain).
	if len(m.Name) > MaxNameBytes || !utf8.ValidString(m.Name) || m.Name == Base || m.Name == "pretrain" {
		return fmt.Errorf("the name must be UTF-8 of at most %d bytes and not %q or \"pretrain\"", MaxNameBytes, Base)
	}
	if !(m.LR >= 0 && m.LR <= 1) { // also refuses NaN
		return fmt.Errorf("learning rate %g is outside 0..1", m.LR)
	}
	unused := func(ok bool, what string) error {
		if !ok {
			return fmt.Errorf("a %s method has no %s setting", m.Kind, what)
		}
		return nil
	}
	var errs []error
	if !LoRALike(m.Kind) {
		errs = append(errs, unused(m.Rank == 0 && m.Alpha == 0 && len(m.Targets) == 0, "rank, alpha or targets"))
	}
	if m.Kind != Adapter {
		errs = append(errs, unused(m.Size == 0, "size"))
	}
	if m.Kind != Prefix && m.Kind != Prompt {
		errs = append(errs, unused(m.Len == 0, "len"))
	}
	if m.Kind != LoRAPlus {
		errs = append(errs, unused(m.Ratio == 0, "ratio"))
	}
	if m.Kind != Head {
		errs = append(errs, unused(!m.TrainBody, "train_body"))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	switch m.Kind {
	case Full, IA3, BitFit, LNTuning:
	case LoRA, DoRA, LoRAPlus, PiSSA:
		if m.Kind == LoRAPlus && !(m.Ratio >= 0 && m.Ratio <= core.MaxLoRAPlusRatio) { // 0: the default
			return fmt.Errorf("ratio %g is outside 0..%d", m.Ratio, core.MaxLoRAPlusRatio)
		}
		if !(m.Alpha >= 0 && m.Alpha <= 1e4) {
			return fmt.Errorf("alpha %g is outside 0..10000", m.Alpha)
		}
		return m.LoRAConfig().Validate(C)
	case Adapter:
		if m.Size < 1 || m.Size > 4*C {
			return fmt.Errorf("adapter size %d is outside 1..%d", m.Size, 4*C)
		}
	case Prefix:
		if m.Len < 1 || m.Len > MaxPrefixLen {
			return fmt.Errorf("prefix len %d is outside 1..%d", m.Len, MaxPrefixLen)
		}
	case Head:
		if taskKind != task.KindClassify {
			return fmt.Errorf("a class head needs a classify task")
		}
	case Prompt:
		if m.Len < 1 || m.Len > core.MaxPromptLen {
			return fmt.Errorf("prompt len %d is outside 1..%d", m.Len, core.MaxPromptLen)
		}
	default:
		return fmt.Errorf("kind %q is not one of %s", m.Kind, strings.Join(Kinds, ", "))
	}
	return nil
}

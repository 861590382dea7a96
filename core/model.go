// Package core is pretune's engine: the transformer with its forward and backward passes on an
// ops.Device, the fine-tuning methods, the optimizer, the trainer, generation and inspection, the
// tokenizer and the seeded generators. It uses the standard library only (and pretune's own
// packages), so it compiles natively and to WebAssembly alike.
package core

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"

	"pretune/core/ops"
)

// Param is one named weight tensor with its gradient, both on the model's device.
type Param struct {
	Name  string // documented, stable names: checkpoints and safetensors files use them
	Shape []int
	W, DW ops.Buf
	// Decay says whether weight decay applies: matrices yes; biases and LayerNorm gains no.
	Decay bool
	// Frozen params get no gradient and no update (fine-tuning methods freeze the base).
	Frozen bool
	// LRScale multiplies the learning rate of this tensor's updates (LoRA+ gives B a larger
	// one than A); 0 means 1, and leaves the update exactly as it was before the field existed.
	LRScale float32
}

// Size is the number of elements.
func (p *Param) Size() int {
	n := 1
	for _, d := range p.Shape {
		n *= d
	}
	return n
}

// block holds one transformer block's parameters.
type block struct {
	ln1W, ln1B, wq, bq, wk, bk, wv, bv, wo, bo *Param
	ln2W, ln2B, wfc, bfc, wproj, bproj         *Param

	// Fine-tuning methods attached to the block (nil when absent): LoRA per target linear layer
	// (indexed like LoRATargets), bottleneck adapters after attention [0] and after the MLP [1],
	// and a learned key/value prefix.
	lora     [numLoRATargets]*loraLayer
	adapters [2]*adapter
	prefix   *prefixKV
}

// Model is a GPT: token and position embeddings, pre-LayerNorm blocks of causal multi-head
// attention and a GELU MLP, a final LayerNorm and an LM head. It is written once against Device.
type Model struct {
	Cfg Config
	Dev ops.Device
	// Params lists every tensor in a fixed order: initialisation, optimizer and checkpoints follow
	// it. The base model's tensors come first (BaseParams); a fine-tuning method appends its own
	// (LoRA, adapters, prefixes, a class head) after them.
	Params []*Param
	// Mask is the attention mask of every block: Causal for a GPT, Bidirectional for a masked-LM
	// model (which can be scored and given a class head, but cannot generate).
	Mask ops.MaskMode

	wte, wpe, lnfW, lnfB, lmHead *Param
	blocks                       []block
	nBase                        int // len(BaseParams())

	// Fine-tuning state shared by all blocks.
	loraCfg   LoRAConfig
	loraOff   bool           // LoRA is attached but switched off: the base model's outputs exactly
	pissa     bool           // LoRA came from AttachPiSSA: the adapted base tensors hold residuals
	prefixLen int            // P: learned key/value rows per layer, 0 without prefix tuning
	eye       ops.Buf        // P×P identity: copies a prefix into its table with a MatMul
	head      *classHead     // a classification head replacing the LM head, or nil
	prompt    *promptTensors // prompt tuning's soft tokens, or nil (prompt.go)
	value     *valueHead     // PPO's value head beside the LM head, or nil (policy.go)

	// IA3 (ia3.go): its vectors by the weight of the layer they rescale (nil without), and config.
	ia3    map[*Param]*ia3Layer
	ia3Cfg IA3Config

	train, single *acts // activations for a training batch, and for one sequence (sampling)
}

// NewModel allocates a model on dev and initialises it from cfg.Seed's init stream, GPT-2's way:
// weights N(0, 0.02), the two residual projections scaled by 1/sqrt(2·layers), biases 0,
// LayerNorm gains 1.
func NewModel(dev ops.Device, cfg Config) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Vocab < numSpecial+1 {
		return nil, fmt.Errorf("model: vocab %d is too small", cfg.Vocab)
	}
	m := &Model{Cfg: cfg, Dev: dev}
	C, V := cfg.Dim, cfg.Vocab
	add := func(name string, decay bool, shape ...int) *Param {
		p := &Param{Name: name, Shape: shape, Decay: decay}
		p.W, p.DW = dev.Alloc(p.Size()), dev.Alloc(p.Size())
		m.Params = append(m.Params, p)
		return p
	}
	m.wte = add("wte.weight", true, V, C)
	m.wpe = add("wpe.weight", true, cfg.Context, C)
	for l := 0; l < cfg.Layers; l++ {
		pre := fmt.Sprintf("blocks.%d.", l)
		var b block
		b.ln1W, b.ln1B = add(pre+"ln1.weight", false, C), add(pre+"ln1.bias", false, C)
		b.wq, b.bq = add(pre+"attn.q_proj.weight", true, C, C), add(pre+"attn.q_proj.bias", false, C)
		b.wk, b.bk = add(pre+"attn.k_proj.weight", true, C, C), add(pre+"attn.k_proj.bias", false, C)
		b.wv, b.bv = add(pre+"attn.v_proj.weight", true, C, C), add(pre+"attn.v_proj.bias", false, C)
		b.wo, b.bo = add(pre+"attn.o_proj.weight", true, C, C), add(pre+"attn.o_proj.bias", false, C)
		b.ln2W, b.ln2B = add(pre+"ln2.weight", false, C), add(pre+"ln2.bias", false, C)
		b.wfc, b.bfc = add(pre+"mlp.fc_in.weight", true, 4*C, C), add(pre+"mlp.fc_in.bias", false, 4*C)
		b.wproj, b.bproj = add(pre+"mlp.fc_out.weight", true, C, 4*C), add(pre+"mlp.fc_out.bias", false, C)
		m.blocks = append(m.blocks, b)
	}
	m.lnfW, m.lnfB = add("ln_f.weight", false, C), add("ln_f.bias", false, C)
	m.lmHead = add("lm_head.weight", true, V, C)

	m.nBase = len(m.Params)

	m.initWeights()
	m.allocActs()
	return m, nil
}

func (m *Model) initWeights() {
	rng := NewRNG(m.Cfg.Seed, StreamInit)
	residScale := float32(0.02) / sqrt32(float32(2*m.Cfg.Layers))
	residual := map[*Param]bool{}
	for _, b := range m.blocks {
		residual[b.wo], residual[b.wproj] = true, true
	}
	for _, p := range m.Params {
		host := make([]float32, p.Size())
		switch {
		case len(p.Shape) == 2:
			std := float32(0.02)
			if residual[p] {
				std = residScale
			}
			for i := range host {
				host[i] = rng.Normal() * std
			}
		case isGain(p.Name):
			for i := range host {
				host[i] = 1
			}
		}
		m.Dev.Upload(p.W, host)
	}
}

func isGain(name string) bool {
	n := len(name)
	return n > 7 && name[n-7:] == ".weight" // 1-D ".weight" tensors are LayerNorm gains
}

// ParamCount is the number of parameters; TrainableCount excludes frozen ones.
func (m *Model) ParamCount() int {
	n := 0
	for _, p := range m.Params {
		n += p.Size()
	}
	return n
}

// TrainableCount is the number of parameters that receive updates.
func (m *Model) TrainableCount() int {
	n := 0
	for _, p := range m.Params {
		if !p.Frozen {
			n += p.Size()
		}
	}
	return n
}

// Param returns the named parameter, or nil.
func (m *Model) Param(name string) *Param {
	for _, p := range m.Params {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// BaseParams are the base model's tensors (what NewModel creates), without any fine-tuning
// method's; checkpoints of the base model hold exactly these.
func (m *Model) BaseParams() []*Param { return m.Params[:m.nBase] }

// MethodParams are the tensors the attached fine-tuning methods added (none for a plain model).
func (m *Model) MethodParams() []*Param { return m.Params[m.nBase:] }

// allocActs (re)allocates the activations of the training batch shape and of one sequence; the
// fine-tuning methods call it after they change what the forward pass computes.
func (m *Model) allocActs() {
	if m.train != nil {
		m.train.free(m.Dev)
		m.single.free(m.Dev)
	}
	m.train = m.newActs(m.Cfg.Batch, m.Cfg.Context)
	m.single = m.newActs(1, m.Cfg.Context)
}

// SetBatchShape changes the training batch size and the dropout rate (a fine-tuning run may use
// others than pretraining did) and reallocates the activations for them.
func (m *Model) SetBatchShape(batch int, dropout float32) error {
	c := m.Cfg
	c.Batch, c.Dropout = batch, dropout
	if err := c.Validate(); err != nil {
		return err
	}
	m.Cfg = c
	m.allocActs()
	return nil
}

// addParam allocates a method's tensor (zeros) and appends it to Params.
func (m *Model) addParam(name string, decay bool, shape ...int) *Param {
	p := &Param{Name: name, Shape: shape, Decay: decay}
	p.W, p.DW = m.Dev.Alloc(p.Size()), m.Dev.Alloc(p.Size())
	m.Params = append(m.Params, p)
	return p
}

// FreezeBase freezes every base tensor; the methods' own tensors stay trainable.
func (m *Model) FreezeBase() {
	for _, p := range m.BaseParams() {
		p.Frozen = true
	}
}

// Clone returns a new model on the same device with the same config, mask mode and base weights
// (bit for bit), and no fine-tuning method: the comparison starts every method from one clone.
func (m *Model) Clone() (*Model, error) {
	c, err := NewModel(m.Dev, m.Cfg)
	if err != nil {
		return nil, err
	}
	c.Mask = m.Mask
	host := []float32{}
	for i, p := range m.BaseParams() {
		host = append(host[:0], make([]float32, p.Size())...)
		if err := m.Dev.Download(p.W, host); err != nil {
			c.Free()
			return nil, err
		}
		m.Dev.Upload(c.Params[i].W, host)
	}
	return c, nil
}

// Free releases every buffer the model holds on its device.
func (m *Model) Free() {
	for _, p := range m.Params {
		m.Dev.Free(p.W)
		m.Dev.Free(p.DW)
	}
	for _, b := range m.blocks {
		for _, lo := range b.lora {
			if lo != nil && lo.backup != nil {
				m.Dev.Free(lo.backup)
			}
		}
	}
	if m.eye != nil {
		m.Dev.Free(m.eye)
	}
	if m.prompt != nil {
		m.prompt.free(m.Dev)
	}
	m.train.free(m.Dev)
	m.single.free(m.Dev)
}

// Batch is one step's tokens on the device: B sequences of T ids, the next-token targets and a
// loss weight per position (0 excludes a position: padding, a prompt, an unmasked token).
type Batch struct {
	B, T                     int
	Inputs, Targets, Weights ops.Buf
}

// NewBatch allocates a batch of up to maxB×maxT positions on dev.
func NewBatch(dev ops.Device, maxB, maxT int) *Batch {
	return &Batch{B: maxB, T: maxT, Inputs: dev.AllocInts(maxB * maxT), Targets: dev.AllocInts(maxB * maxT), Weights: dev.Alloc(maxB * maxT)}
}

// Set uploads B×T inputs, targets and weights (weights nil means all 1). The slices may be
// shorter than the buffers; the rest is padded with weight 0.
func (b *Batch) Set(dev ops.Device, B, T int, inputs, targets []int32, weights []float32) {
	n := b.Inputs.Len()
	if B*T > n || len(inputs) != B*T || len(targets) != B*T || (weights != nil && len(weights) != B*T) {
		panic(fmt.Sprintf("core: batch of %dx%d does not fit (%d inputs, %d targets, capacity %d)", B, T, len(inputs), len(targets), n))
	}
	b.B, b.T = B, T
	in, tg, w := make([]int32, n), make([]int32, n), make([]float32, n)
	copy(in, inputs)
	copy(tg, targets)
	if weights == nil {
		for i := 0; i < B*T; i++ {
			w[i] = 1
		}
	} else {
		copy(w, weights)
	}
	dev.UploadInts(b.Inputs, in)
	dev.UploadInts(b.Targets, tg)
	dev.Upload(b.Weights, w)
}

// Free releases the batch's buffers.
func (b *Batch) Free(dev ops.Device) {
	dev.Free(b.Inputs)
	dev.Free(b.Targets)
	dev.Free(b.Weights)
}

// Weights downloads every parameter, in Params order.
func (m *Model) Weights() ([][]float32, error) {
	out := make([][]float32, len(m.Params))
	for i, p := range m.Params {
		out[i] = make([]float32, p.Size())
		if err := m.Dev.Download(p.W, out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// WeightsHash is the hex SHA-256 of every parameter's name, shape and float32 bits (little
// endian), in Params order: two models with the same hash have bit-identical weights.
func (m *Model) WeightsHash() (string, error) {
	ws, err := m.Weights()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	var buf [4]byte
	for i, p := range m.Params {
		fmt.Fprintf(h, "%s%v;", p.Name, p.Shape)
		for _, v := range ws[i] {
			binary.LittleEndian.PutUint32(buf[:], math.Float32bits(v))
			h.Write(buf[:])
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

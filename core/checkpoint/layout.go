package checkpoint

import (
	"fmt"

	"pretune/core"
)

// tensorSpec is one parameter a model of a given config has: its name and shape.
type tensorSpec struct {
	name  string
	shape []int
}

func (s tensorSpec) size() int {
	n := 1
	for _, d := range s.shape {
		n *= d
	}
	return n
}

// expectedTensors lists the parameters core.NewModel allocates for cfg, in its Params order,
// without allocating anything: loading checks a file's tensor table against it before it builds
// the model. TestExpectedTensorsMatchModel keeps it in step with core/model.go.
// scoreTensor is a reward model's score head, named as Hugging Face names a
// sequence-classification head with one label (GPT2ForSequenceClassification: no bias).
const scoreTensor = "score.weight"

// rewardTensors are a reward model's tensors: the base model's, then its score head.
func rewardTensors(cfg core.Config) []tensorSpec {
	return append(expectedTensors(cfg), tensorSpec{scoreTensor, []int{1, cfg.Dim}})
}

func expectedTensors(cfg core.Config) []tensorSpec {
	C, V := cfg.Dim, cfg.Vocab
	out := []tensorSpec{{"wte.weight", []int{V, C}}, {"wpe.weight", []int{cfg.Context, C}}}
	for l := 0; l < cfg.Layers; l++ {
		pre := fmt.Sprintf("blocks.%d.", l)
		add := func(name string, shape ...int) { out = append(out, tensorSpec{pre + name, shape}) }
		add("ln1.weight", C)
		add("ln1.bias", C)
		for _, proj := range []string{"q_proj", "k_proj", "v_proj", "o_proj"} {
			add("attn."+proj+".weight", C, C)
			add("attn."+proj+".bias", C)
		}
		add("ln2.weight", C)
		add("ln2.bias", C)
		add("mlp.fc_in.weight", 4*C, C)
		add("mlp.fc_in.bias", 4*C)
		add("mlp.fc_out.weight", C, 4*C)
		add("mlp.fc_out.bias", C)
	}
	return append(out,
		tensorSpec{"ln_f.weight", []int{C}}, tensorSpec{"ln_f.bias", []int{C}},
		tensorSpec{"lm_head.weight", []int{V, C}})
}

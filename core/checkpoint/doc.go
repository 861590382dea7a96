// Package checkpoint saves and loads pretune models: its own versioned binary format (weights,
// tokenizer, config and optionally the AdamW state, to resume training exactly), and the
// safetensors format, to take a model to PyTorch and back.
//
// # Loading is defensive
//
// Load and ImportSafetensors read files a learner picked, so they never panic and never
// allocate from a length they have not checked. They check the framing, the checksum (own
// format), the header, the config (core.Config.Validate), the tokenizer, the tensor table against
// the model the config describes, and that every number is finite, all before they build the
// model. Each failure wraps one sentinel error (ErrNotCheckpoint, ErrNewerVersion,
// ErrTruncated, ErrCorrupt, ...) for errors.Is, with a message that says what is wrong: "not a
// pretune checkpoint: it looks like a PNG image", "the file is truncated: it has 1000 of its
// 5230 bytes (4230 bytes missing)", "made by a newer pretune (format 3; this one reads up to 1)".
//
// # Versioning
//
// The format version (Version) is a number in the preamble. Within a version, a writer may add
// header fields that older readers can skip without misreading the file (readers ignore unknown
// JSON fields); anything else (a new tensor kind, a changed layout) takes a new version, which
// older readers refuse with ErrNewerVersion instead of loading something they do not understand.
//
// # Tensor names
//
// Both formats name tensors as core.Model's parameters. With C channels, V tokens, T context
// and L blocks (N = 0..L-1), in this order; linear weights are [out, in], PyTorch's nn.Linear
// layout:
//
//	wte.weight                  [V, C]   token embeddings
//	wpe.weight                  [T, C]   position embeddings
//	blocks.N.ln1.weight         [C]      LayerNorm before attention (gain)
//	blocks.N.ln1.bias           [C]
//	blocks.N.attn.q_proj.weight [C, C]   query projection (heads are consecutive C/H slices)
//	blocks.N.attn.q_proj.bias   [C]
//	blocks.N.attn.k_proj.weight [C, C]
//	blocks.N.attn.k_proj.bias   [C]
//	blocks.N.attn.v_proj.weight [C, C]
//	blocks.N.attn.v_proj.bias   [C]
//	blocks.N.attn.o_proj.weight [C, C]   attention output projection
//	blocks.N.attn.o_proj.bias   [C]
//	blocks.N.ln2.weight         [C]      LayerNorm before the MLP
//	blocks.N.ln2.bias           [C]
//	blocks.N.mlp.fc_in.weight   [4C, C]
//	blocks.N.mlp.fc_in.bias     [4C]
//	blocks.N.mlp.fc_out.weight  [C, 4C]
//	blocks.N.mlp.fc_out.bias    [C]
//	ln_f.weight                 [C]      final LayerNorm
//	ln_f.bias                   [C]
//	lm_head.weight              [V, C]   output projection (not tied to wte)
//
// The LayerNorms use eps 1e-5, the MLP uses GELU in its tanh form (approximate="tanh"), and
// attention is causal with scale 1/sqrt(C/H).
//
// # Safetensors metadata
//
// __metadata__ holds strings: "format": "pt"; "pretune.version": "1"; "pretune.config": the
// core.Config as JSON (vocab, context, layers, heads, dim, ...); "pretune.alphabet": the
// tokenizer's characters in id order, the first one being id 3; "pretune.specials": the reserved
// tokens as a JSON list, ids 0.. ("<unk>", "<pad>", "<mask>"); "pretune.mask": the attention
// mask, "causal" (a GPT) or "bidirectional" (a masked-LM base). A token id is therefore its
// character's index in the alphabet plus 3.
//
// Both formats store a base model: its tensors listed below, no fine-tuning method's (Save and
// ExportSafetensors refuse a model with LoRA, adapters, a prefix or a class head attached).
//
// # Loading in PyTorch
//
//	import json
//	from safetensors import safe_open
//	from safetensors.torch import load_file
//
//	weights = load_file("model.safetensors")          # dict: name -> torch.float32 tensor
//	with safe_open("model.safetensors", "pt") as f:
//	    meta = f.metadata()
//	config = json.loads(meta["pretune.config"])
//	specials = json.loads(meta["pretune.specials"])
//	itos = specials + list(meta["pretune.alphabet"])  # id -> token
//	stoi = {ch: i for i, ch in enumerate(itos)}
//	print(config["dim"], weights["wte.weight"].shape)  # C, [V, C]
//
// To bring edited weights back, save them with safetensors.torch.save_file(weights, path,
// metadata=meta) (same names, float32, the metadata unchanged) and import the file.
package checkpoint

package checkpoint

import "pretune/core"

// MaxTrainingBytes bounds the memory a model of a loaded config may need to train: a valid
// config can still ask for more than a browser tab (32-bit WebAssembly: 4 GiB at most) can hold,
// chiefly through the B·H·T·T attention matrices, and allocating that would crash the tab
// rather than fail with an error.
const MaxTrainingBytes = 2 << 30

// TrainingBytes estimates, from above, the device memory core.NewModel plus core.NewOptimizer
// allocate for cfg (cfg.Vocab included): weights, gradients and both AdamW moments, and the
// activations of a training batch and of one sampling sequence. TestTrainingBytes keeps it
// within a few percent of what core allocates. It belongs in core; it lives here until core has
// one.
func TrainingBytes(cfg core.Config) int64 {
	C, V, L, H := int64(cfg.Dim), int64(cfg.Vocab), int64(cfg.Layers), int64(cfg.Heads)
	T := int64(cfg.Context)
	params := 2*V*C + T*C + L*(12*C*C+13*C) + 2*C
	acts := func(B int64) int64 {
		N := B * T
		perLayer := 24*N*C + 4*N + 2*B*H*T*T
		n := L*perLayer + 22*N*C + 3*N*V + 2*B*H*T*T + 5*N
		if cfg.Dropout > 0 {
			n += (2*L + 2) * N * C
		}
		return n
	}
	return 4 * (4*params + acts(int64(cfg.Batch)) + acts(1))
}

package core

import (
	"math"

	"pretune/core/ops"
)

// Optimizer is AdamW over a model's trainable parameters, with global gradient-norm clipping.
// Its moments live on the model's device.
type Optimizer struct {
	cfg   Config
	dev   ops.Device
	m, v  map[*Param]ops.Buf
	norms ops.Buf // one slot per parameter for the squared gradient norms
	t     int     // updates done
	pow1  float64
	pow2  float64
	// LastGradNorm is the global gradient norm before clipping, of the last update.
	LastGradNorm float64
}

// NewOptimizer allocates zeroed moments for every parameter of m that is not frozen.
func NewOptimizer(m *Model) *Optimizer {
	o := &Optimizer{cfg: m.Cfg, dev: m.Dev, m: map[*Param]ops.Buf{}, v: map[*Param]ops.Buf{}, pow1: 1, pow2: 1}
	for _, p := range m.Params {
		if !p.Frozen {
			o.m[p], o.v[p] = m.Dev.Alloc(p.Size()), m.Dev.Alloc(p.Size())
		}
	}
	o.norms = m.Dev.Alloc(len(m.Params))
	return o
}

// Bytes is the optimizer state's size: two float32 moments per trainable parameter.
func (o *Optimizer) Bytes() int {
	n := 0
	for _, b := range o.m {
		n += 2 * 4 * b.Len()
	}
	return n
}

// Steps is the number of updates done so far.
func (o *Optimizer) Steps() int { return o.t }

// Update applies one AdamW step at learning rate lr to the parameters of ps (in order) from their
// gradients, first scaling all gradients so their global norm is at most the config's GradClip.
func (o *Optimizer) Update(ps []*Param, lr float32) error {
	for i, p := range ps {
		if !p.Frozen {
			o.dev.SumSquares(o.norms, i, p.DW, p.Size())
		}
	}
	sq := make([]float32, o.norms.Len())
	if err := o.dev.Download(o.norms, sq); err != nil {
		return err
	}
	var total float64
	for i, p := range ps {
		if !p.Frozen {
			total += float64(sq[i])
		}
	}
	o.LastGradNorm = math.Sqrt(total)
	scale := float32(1)
	if c := float64(o.cfg.GradClip); c > 0 && o.LastGradNorm > c {
		scale = float32(c / (o.LastGradNorm + 1e-6))
	}
	o.t++
	o.pow1 *= float64(o.cfg.Beta1)
	o.pow2 *= float64(o.cfg.Beta2)
	args := ops.AdamWArgs{
		LR: lr, Beta1: o.cfg.Beta1, Beta2: o.cfg.Beta2, Eps: o.cfg.Eps,
		BiasCorr1: float32(1 - o.pow1), BiasCorr2: float32(1 - o.pow2), GradScale: scale,
	}
	for _, p := range ps {
		if p.Frozen {
			continue
		}
		a := args
		if p.LRScale != 0 { // 0: the learning rate untouched, bit for bit
			a.LR = float32(lr * p.LRScale)
		}
		if p.Decay {
			a.WeightDecay = o.cfg.WeightDecay
		}
		o.dev.AdamW(p.W, p.DW, o.m[p], o.v[p], p.Size(), a)
	}
	return o.dev.Flush()
}

// Free releases the moments.
func (o *Optimizer) Free() {
	for _, b := range o.m {
		o.dev.Free(b)
	}
	for _, b := range o.v {
		o.dev.Free(b)
	}
	o.dev.Free(o.norms)
}

// LearningRate is the schedule at step s (0-based): linear warm-up from LR/Warmup to LR over
// Warmup steps, then a cosine from LR down to MinLR at the last step.
func LearningRate(c Config, s int) float32 {
	if s < c.Warmup {
		return float32(float64(c.LR) * float64(s+1) / float64(c.Warmup))
	}
	span := c.Steps - c.Warmup
	if span <= 1 {
		return c.LR
	}
	progress := float64(s-c.Warmup) / float64(span-1)
	if progress > 1 {
		progress = 1
	}
	lr, minLR := float64(c.LR), float64(c.MinLR)
	// One operation per statement, each rounded (explicit conversions): no FMA anywhere.
	half := float64(0.5 * float64(lr-minLR))
	wave := float64(1 + cosPi(progress))
	return float32(minLR + float64(half*wave))
}

// cosPi returns cos(πx) for x in [0, 1] with a Taylor series in plain float64 arithmetic (the
// explicit conversions stop FMA fusion), so the schedule is the same on every platform; math.Cos
// is assembly on some and not others.
func cosPi(x float64) float64 {
	sign := 1.0
	if x > 0.5 { // cos(πx) = -cos(π(1-x)) keeps the argument within [0, π/2]
		x, sign = 1-x, -1
	}
	y := float64(math.Pi * x)
	y2 := float64(y * y)
	// Σ (-1)^k y^(2k) / (2k)!, Horner from the y^22 term down: error < 1e-17 for y <= π/2.
	s := 1.0
	for k := 11; k >= 1; k-- {
		s = 1 - float64(float64(y2*s)/float64((2*k)*(2*k-1)))
	}
	return float64(sign * s)
}

// Moments returns the first and second moment buffers of a trainable parameter (nil for a frozen
// one); checkpoints save and restore them.
func (o *Optimizer) Moments(p *Param) (m, v ops.Buf) { return o.m[p], o.v[p] }

// SetSteps restores the update count of a resumed run, so bias corrections continue from it.
func (o *Optimizer) SetSteps(t int) {
	o.t, o.pow1, o.pow2 = t, 1, 1
	for i := 0; i < t; i++ {
		o.pow1 *= float64(o.cfg.Beta1)
		o.pow2 *= float64(o.cfg.Beta2)
	}
}

package feedback

import (
	"context"
	"fmt"

	"pretune/core"
	"pretune/core/corpus"
	"pretune/core/task"
)

// Inputs are what a feedback comparison starts from.
type Inputs struct {
	// SFT is the supervised fine-tuned model every method starts from; it also serves, frozen
	// and unchanged, as the reference. Tok is its tokenizer.
	SFT *core.Model
	Tok *core.Tokenizer
	// Pairs are a learner's preference pairs; one in five, spread evenly, is held out to measure
	// the reward model. Without a taste (Config.Taste empty) their prompts are the held-out
	// prompts and the reward model judges; with one, the taste judges on its own held-out
	// prompts, and measures the reward model against its own verdicts.
	Pairs []Pair
	// Task, optional, is the task the SFT model was taught: each model's held-out accuracy on
	// it is measured. Pretrain, optional, is the SFT model's pretraining corpus: its held-out
	// text measures forgetting.
	Task     *task.Task
	Pretrain *corpus.Corpus
	// BetweenSteps, when set, runs after every step of the reward model and of each method:
	// the browser worker blocks in it while a run is paused and yields to the event loop there.
	BetweenSteps func()
}

// stage is what every method of one comparison shares.
type stage struct {
	cfg          Config
	tk           *core.Tokenizer
	sft          *model
	taste        *Taste
	rm           *rewardModel
	trainPrompts []string
	heldPrompts  []string
	in           Inputs
	valTokens    []int32
	sftLoss      float64
	sftSamples   []sequence // the SFT model's answers to the held-out prompts (the win rates' other side)
	sftScores    []float32
}

// Run measures the SFT model, trains the reward model on the pairs (the taste's, or the
// learner's), then trains every method of cfg from its own clone of the SFT model and measures
// each: reward, gold win rate against the SFT model, KL to it, task accuracy, forgetting,
// trainable parameters, optimizer memory, speed, samples and a fingerprint. Results come back
// in order: the SFT model's, the reward model's, then one per method. The SFT model is left
// unchanged. Cancelling ctx stops between two steps with ctx's error.
func Run(ctx context.Context, in Inputs, cfg Config, on func(Event)) ([]Result, error) {
	if on == nil {
		on = func(Event) {}
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("feedback: %w", err)
	}
	if in.SFT == nil || in.Tok == nil {
		return nil, fmt.Errorf("feedback: no model to start from")
	}
	if !in.SFT.CanGenerate() {
		return nil, fmt.Errorf("feedback: the model to start from must be a causal model with its LM head (it samples answers)")
	}
	sftClone, err := in.SFT.Clone() // the reference: never trained, and its batch shape is ours
	if err != nil {
		return nil, err
	}
	if err := sftClone.SetBatchShape(max(cfg.Batch, 2*cfg.PairsPerStep), 0); err != nil {
		sftClone.Free()
		return nil, err
	}
	st := &stage{cfg: cfg, tk: in.Tok, sft: newModel(sftClone, in.Tok), in: in}
	defer st.sft.free()

	var train, held []labelled
	switch {
	case cfg.Taste != "" && len(in.Pairs) == 0:
		// The taste labels pairs of the SFT model's own answers, and judges.
		if st.taste, err = BuiltinTaste(cfg.Taste); err != nil {
			return nil, err
		}
		if err := checkVocabulary(in.Tok, st.taste.Train, st.taste.Held); err != nil {
			return nil, err
		}
		st.trainPrompts, st.heldPrompts = st.taste.Train, st.taste.Held
		sampling, flips := core.NewRNG(cfg.Seed, core.StreamSampling+"/pairs"), core.NewRNG(cfg.Seed, core.StreamData+"/flips")
		if train, err = labelPairs(ctx, st.sft, st.taste, st.trainPrompts, cfg.Pairs, cfg.Tokens, cfg.Flip, sampling, flips); err != nil {
			return nil, err
		}
		if held, err = labelPairs(ctx, st.sft, st.taste, st.heldPrompts, max(8, cfg.Pairs/4), cfg.Tokens, cfg.Flip, sampling, flips); err != nil {
			return nil, err
		}
	default:
		// The learner's pairs teach; a taste, if given, only judges: the methods are measured
		// on its held-out prompts, which no pair and no rollout used.
		if cfg.Taste != "" {
			if st.taste, err = BuiltinTaste(cfg.Taste); err != nil {
				return nil, err
			}
			if err := checkVocabulary(in.Tok, st.taste.Held); err != nil {
				return nil, err
			}
		}
		if train, held, err = learnerPairs(in.Pairs, in.Tok, in.SFT.Cfg.Context, st.taste); err != nil {
			return nil, err
		}
		st.trainPrompts, st.heldPrompts = promptsOf(train), promptsOf(held)
		if st.taste != nil {
			st.heldPrompts = st.taste.Held
		}
	}
	if in.Pretrain != nil {
		st.valTokens = in.Tok.Encode(in.Pretrain.Val)
		if st.sftLoss, err = meanLoss(st.sft.m, st.valTokens); err != nil {
			return nil, err
		}
	}

	rm, rmRes, err := trainReward(ctx, in.SFT, in.Tok, train, held, cfg, on, in.BetweenSteps)
	if err != nil {
		return nil, fmt.Errorf("feedback: reward model: %w", err)
	}
	defer rm.free()
	st.rm = rm

	sftRes, err := st.measureSFT()
	if err != nil {
		return nil, err
	}
	on(Event{Event: core.Event{Kind: "result"}, Method: SFT, Result: sftRes})
	on(Event{Event: core.Event{Kind: "result"}, Method: RewardModel, Result: rmRes})
	results := []Result{*sftRes, *rmRes}
	for _, meth := range cfg.Methods {
		res, err := st.runMethod(ctx, meth, on)
		if err != nil {
			return nil, fmt.Errorf("feedback: method %s: %w", meth.Label(), err)
		}
		on(Event{Event: core.Event{Kind: "result"}, Method: res.Method, Result: res})
		results = append(results, *res)
	}
	return results, nil
}

// learnerPairs checks a learner's pairs against the model (its tokenizer knows every character,
// every answer fits its context) and splits them (splitPairs). With a taste, each pair's label
// is checked against it: Flipped when the taste prefers the rejected answer, Undecided when it
// scores both alike, so the reward model's gold accuracy is the taste's.
func learnerPairs(pairs []Pair, tk *core.Tokenizer, context int, taste *Taste) (train, held []labelled, err error) {
	if err := CheckVocab(pairs, tk.Knows); err != nil {
		return nil, nil, fmt.Errorf("feedback: %w", err)
	}
	for i, p := range pairs {
		for _, answer := range []string{p.Chosen, p.Rejected} {
			if _, err := textSequence(tk, p.Prompt, answer, context); err != nil {
				return nil, nil, fmt.Errorf("feedback: pair %d of your file: %w", i+1, err)
			}
		}
	}
	if train, held, err = splitPairs(pairs); err != nil || taste == nil {
		return train, held, err
	}
	for _, l := range [][]labelled{train, held} {
		for i := range l {
			switch taste.Verdict(l[i].Prompt, l[i].Chosen, l[i].Rejected) {
			case 0:
				l[i].Undecided = true
			case 2:
				l[i].Flipped = true
			}
		}
	}
	return train, held, nil
}

// splitPairs holds out one pair in five of a learner's pairs, spread evenly.
func splitPairs(pairs []Pair) (train, held []labelled, err error) {
	if len(pairs) < 10 {
		return nil, nil, fmt.Errorf("feedback: %d pairs are too few: the reward model needs at least 10 (8 to learn from, 2 to be measured on)", len(pairs))
	}
	for i, p := range pairs {
		if i%5 == 4 {
			held = append(held, labelled{Pair: p})
		} else {
			train = append(train, labelled{Pair: p})
		}
	}
	return train, held, nil
}

func promptsOf(pairs []labelled) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range pairs {
		if !seen[p.Prompt] {
			seen[p.Prompt] = true
			out = append(out, p.Prompt)
		}
	}
	return out
}

// checkVocabulary refuses prompts with characters the model's tokenizer does not know.
func checkVocabulary(tk *core.Tokenizer, lists ...[]string) error {
	for _, l := range lists {
		for _, p := range l {
			for _, r := range task.PromptText(p) {
				if !tk.Knows(r) {
					return fmt.Errorf("feedback: the model has never seen %q (in %q): start from a model pretrained on text in the taste's language", string(r), p)
				}
			}
		}
	}
	return nil
}

// meanLoss is the model's held-out pretraining loss (the trainer's evaluation windows).
func meanLoss(m *core.Model, tokens []int32) (float64, error) {
	b := core.NewBatch(m.Dev, m.Cfg.Batch, m.Cfg.Context)
	defer b.Free(m.Dev)
	return m.MeanLoss(tokens, b, m.Cfg.EvalBatches)
}

// refPairSums is the reference's summed log-probability of each training pair's answers.
func (st *stage) refPairSums() ([][2]float32, error) {
	logp, _, err := st.sft.logProbs(interleave(st.rm.train))
	if err != nil {
		return nil, err
	}
	out := make([][2]float32, len(st.rm.train))
	for i := range out {
		out[i] = [2]float32{sum(logp[2*i]), sum(logp[2*i+1])}
	}
	return out, nil
}

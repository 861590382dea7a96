package job

import (
	"context"
	"fmt"
	"io"
	"reflect"
	"strconv"

	"pretune/core/checkpoint"
	"pretune/core/corpus"
	"pretune/core/runspec"
)

// A base checkpoint written by SaveBase records, in its header's meta, the pretraining run it is
// the result of: a comparison whose link embeds that same pretraining can start from the file
// instead of pretraining again, and still report the pretraining's fingerprint.
const (
	MetaSpec        = "pretune.spec"        // the share code of the pretraining run
	MetaFingerprint = "pretune.fingerprint" // that run's fingerprint
	MetaValLoss     = "pretune.val_loss"    // its final held-out loss, exactly
)

// SaveBase writes the model of a finished pretraining run as a base for fine-tuning: the weights
// and tokenizer without the optimizer state (fine-tuning starts a fresh optimizer), and the run's
// spec and fingerprint. Nothing in it depends on the time or the machine, so the same run writes
// the same bytes: `make base` relies on it.
func SaveBase(w io.Writer, spec runspec.Spec, res *Result) error {
	if res == nil || res.Trainer == nil {
		return fmt.Errorf("job: no trained model to save")
	}
	pre := spec.Pretraining()
	code, err := runspec.Encode(pre)
	if err != nil {
		return err
	}
	meta := map[string]string{
		MetaSpec:        code,
		MetaFingerprint: res.Final.Fingerprint,
		MetaValLoss:     strconv.FormatFloat(res.Final.ValLoss, 'g', -1, 64),
	}
	return checkpoint.SaveWithMeta(w, res.Trainer.Model, res.Trainer.Tok, nil, meta)
}

// IsBaseOf says whether ck was saved by SaveBase from the pretraining spec embeds (a comparison's
// or a plain run's): same corpus, same config, seed included.
func IsBaseOf(ck *checkpoint.Checkpoint, spec runspec.Spec) bool {
	if ck == nil || ck.Meta[MetaSpec] == "" {
		return false
	}
	saved, err := runspec.Decode(ck.Meta[MetaSpec])
	// A kept SFT model records a comparison: it embeds the same pretraining but is no base.
	if err != nil || saved.Compares() {
		return false
	}
	return reflect.DeepEqual(saved.Pretraining(), spec.Pretraining())
}

// KeptBase returns the first of bases that is the result of spec's pretraining, or nil.
func KeptBase(spec runspec.Spec, bases []*checkpoint.Checkpoint) *checkpoint.Checkpoint {
	for _, b := range bases {
		if IsBaseOf(b, spec) {
			return b
		}
	}
	return nil
}

// compareFromBase runs a comparison's fine-tuning from a loaded base instead of pretraining one.
// It first reports the base as the pretraining's result (pretrainFromBase).
func compareFromBase(ctx context.Context, spec runspec.Spec, base *checkpoint.Checkpoint, c *corpus.Corpus, emit func(Event), paced *pace) (*Result, error) {
	if base.Model == nil || base.Tok == nil {
		return nil, fmt.Errorf("job: the base checkpoint has no model")
	}
	pre := pretrainFromBase(spec, base)
	emit(pre)
	results, err := runCompare(ctx, spec, base.Model, base.Tok, c, emit, paced)
	if err != nil {
		return nil, err
	}
	return &Result{Final: pre, Compare: results}, nil
}

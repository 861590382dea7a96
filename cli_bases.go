//go:build !js

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"pretune/core/checkpoint"
	"pretune/core/job"
	"pretune/core/ops"
	"pretune/core/runspec"
)

// keptBase is the kept checkpoint (web/base, embedded in the command line) a run starts from,
// loaded on dev: for a feedback spec its kept SFT model if there is one, else the kept base that
// is the result of spec's pretraining; nil when none is: then the run pretrains.
func keptBase(spec runspec.Spec, dev ops.Device) (*checkpoint.Checkpoint, error) {
	if spec.Feeds() {
		sft, err := findKept(dev, func(ck *checkpoint.Checkpoint) bool { return job.IsSFTOf(ck, spec) })
		if sft != nil || err != nil {
			return sft, err
		}
	}
	return findKept(dev, func(ck *checkpoint.Checkpoint) bool { return job.IsBaseOf(ck, spec) })
}

// findKept is the first kept checkpoint that is what the run wants, loaded on dev, or nil.
func findKept(dev ops.Device, wanted func(*checkpoint.Checkpoint) bool) (*checkpoint.Checkpoint, error) {
	files := keptBaseFS()
	names, err := fs.Glob(files, "*.ckpt")
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		data, err := fs.ReadFile(files, name)
		if err != nil {
			return nil, err
		}
		ck, err := checkpoint.Load(bytes.NewReader(data), dev)
		if err != nil {
			return nil, fmt.Errorf("the kept base web/base/%s: %w (run make base)", name, err)
		}
		if wanted(ck) {
			return ck, nil
		}
		ck.Model.Free()
	}
	return nil, nil
}

// writeBases pretrains each preset on the CPU device and writes it to dir as <name>.ckpt (make
// base, with runspec.BasePresets), saying for each whether the bytes equal the file it replaces.
func writeBases(ctx context.Context, dir string, presets []runspec.Preset, w io.Writer) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, p := range presets {
		fmt.Fprintf(w, "%s: pretraining %d steps on the CPU\n", p.Name, p.Spec.Config.Steps)
		res, err := job.Run(ctx, p.Spec, ops.NewCPU(), job.Options{OnEvent: func(e job.Event) {
			if e.Event == "eval" && e.Step%(max(e.Steps/10, 1)) == 0 {
				fmt.Fprintf(w, "%s: step %5d/%d  held-out loss %.4f\n", p.Name, e.Step, e.Steps, e.ValLoss)
			}
		}})
		if err != nil {
			return fmt.Errorf("%s: %w", p.Name, err)
		}
		var buf bytes.Buffer
		if err := job.SaveBase(&buf, p.Spec, res); err != nil {
			return fmt.Errorf("%s: %w", p.Name, err)
		}
		path := filepath.Join(dir, p.Name+".ckpt")
		state, err := writeKept(path, buf.Bytes())
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s: wrote %s (%d bytes, fingerprint %s): %s\n", p.Name, path, buf.Len(), res.Final.Fingerprint, state)
		if strings.HasPrefix(state, "CHANGED") {
			defer fmt.Fprintf(w, "%s changed: commit it if the change is intended\n", path)
		}
	}
	return nil
}

// writeSFTs makes each feedback preset's SFT model on the CPU device from its kept base in dir
// (writeBases wrote it just before) and writes it to dir as runspec.SFTFile (make base, with
// runspec.SFTPresets), saying for each whether the bytes equal the file it replaces.
func writeSFTs(ctx context.Context, dir string, presets []runspec.Preset, w io.Writer) error {
	paths, err := filepath.Glob(filepath.Join(dir, "*.ckpt"))
	if err != nil {
		return err
	}
	var kept []*checkpoint.Checkpoint
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		ck, err := checkpoint.Load(bytes.NewReader(data), ops.NewCPU())
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		kept = append(kept, ck)
	}
	for _, p := range presets {
		base := job.KeptBase(p.Spec, kept)
		if base == nil {
			return fmt.Errorf("%s: no base in %s is the result of its pretraining: write the bases first", p.Name, dir)
		}
		fmt.Fprintf(w, "%s: fine-tuning the SFT model (%s, %d steps) on the CPU\n", p.Name, p.Spec.Methods[0].Label(), p.Spec.FineTune.Steps)
		m, res, err := job.TrainSFT(ctx, p.Spec, base.Model, base.Tok, nil)
		if err != nil {
			return fmt.Errorf("%s: %w", p.Name, err)
		}
		var buf bytes.Buffer
		err = job.SaveSFT(&buf, p.Spec, base, m, base.Tok, res)
		m.Free()
		if err != nil {
			return fmt.Errorf("%s: %w", p.Name, err)
		}
		path := filepath.Join(dir, runspec.SFTFile(p))
		state, err := writeKept(path, buf.Bytes())
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s: wrote %s (%d bytes, task accuracy %.3f, fingerprint %s): %s\n", p.Name, path, buf.Len(), res.TaskAccuracy, res.Fingerprint, state)
		if strings.HasPrefix(state, "CHANGED") {
			defer fmt.Fprintf(w, "%s changed: commit it if the change is intended\n", path)
		}
	}
	return nil
}

// writeFileAtomic writes data to path through a temporary file, so an interrupted write never
// leaves a half file where a good one was.
func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

// writeKept writes a kept checkpoint (atomically) and says how it compares with the file it
// replaces: "new", "identical to ..." or "CHANGED: ...", which make base reports.
func writeKept(path string, data []byte) (state string, err error) {
	state = "new"
	if old, err := os.ReadFile(path); err == nil {
		state = "identical to the file it replaces"
		if !bytes.Equal(old, data) {
			state = "CHANGED: differs from the file it replaces"
		}
	}
	return state, writeFileAtomic(path, data)
}

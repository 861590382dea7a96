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

// keptBase is the kept base checkpoint (web/base, embedded in the command line) that is the
// result of spec's pretraining, loaded on dev, or nil when none is: then the run pretrains.
func keptBase(spec runspec.Spec, dev ops.Device) (*checkpoint.Checkpoint, error) {
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
		if job.IsBaseOf(ck, spec) {
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
		state := "new"
		if old, err := os.ReadFile(path); err == nil {
			state = "identical to the file it replaces"
			if !bytes.Equal(old, buf.Bytes()) {
				state = "CHANGED: differs from the file it replaces"
			}
		}
		if err := writeFileAtomic(path, buf.Bytes()); err != nil {
			return err
		}
		fmt.Fprintf(w, "%s: wrote %s (%d bytes, fingerprint %s): %s\n", p.Name, path, buf.Len(), res.Final.Fingerprint, state)
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

//go:build !js

package webgpu

import (
	"github.com/gogpu/gputypes"
	"github.com/gogpu/wgpu"
)

// adapterInfo is what the native adapter reports.
func adapterInfo(a *wgpu.Adapter) gputypes.AdapterInfo { return a.Info() }

// requiredLimits asks for everything the adapter offers: natively gogpu takes the limits struct
// as a whole (a zero field would mean a zero limit), and the adapter's own values include a
// storage binding size above WebGPU's default 128 MiB where the driver allows one.
func requiredLimits(adapter gputypes.Limits) gputypes.Limits { return adapter }

// transferBarrier orders a copy against the compute work around it. gogpu v0.31.5 records
// barriers between dispatches, and tracks copies' buffer usages for barriers between
// submissions, but not the storage usages of compute passes: nothing orders a compute write
// before a later copy (a Download) or a copy before a later compute read (an Upload). Waiting
// for the device to go idle does; transfers are rare (a batch in, a loss out, per step) and a
// Download waits anyway.
func (d *Device) transferBarrier() error { return d.dev.WaitIdle() }

// writeBuffer copies raw into dst at off, ordered after every submitted command and before every
// later one. gogpu v0.31.5's Queue.WriteBuffer does not give that order on Vulkan (its staged
// copy lands in the next submission unordered against earlier ones: a buffer zeroed by a kernel
// and then uploaded could end up zero), so the copy comes from a mapped-at-creation staging
// buffer in a submission of its own, fenced on both sides by transferBarrier.
func (d *Device) writeBuffer(dst *wgpu.Buffer, off uint64, raw []byte) error {
	size := uint64(len(raw)+3) &^ 3
	st, err := d.dev.CreateBuffer(&wgpu.BufferDescriptor{
		Label: "upload", Size: size,
		Usage:            wgpu.BufferUsageMapWrite | wgpu.BufferUsageCopySrc,
		MappedAtCreation: true,
	})
	if err != nil {
		return err
	}
	defer st.Release()
	rng, err := st.MappedRange(0, size)
	if err != nil {
		return err
	}
	copy(rng.BytesMut(), raw)
	if err := st.Unmap(); err != nil {
		return err
	}
	if err := d.transferBarrier(); err != nil {
		return err
	}
	enc, err := d.dev.CreateCommandEncoder(&wgpu.CommandEncoderDescriptor{Label: "upload"})
	if err != nil {
		return err
	}
	enc.CopyBufferToBuffer(st, 0, dst, off, size)
	cb, err := enc.Finish()
	if err != nil {
		return err
	}
	if _, err = d.queue.Submit(cb); err != nil {
		return err
	}
	return d.transferBarrier()
}

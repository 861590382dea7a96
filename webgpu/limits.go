package webgpu

// MaxBufferElements is the most float32 values one buffer may hold on this adapter: the smaller
// of its storage binding and buffer size limits. core.NewTrainer checks models against it.
func (d *Device) MaxBufferElements() int {
	l := d.info.Limits
	limit := l.MaxStorageBufferBindingSize
	if l.MaxBufferSize > 0 && l.MaxBufferSize < limit {
		limit = l.MaxBufferSize
	}
	const most = int(^uint(0) >> 2)
	if limit/4 > uint64(most) {
		return most
	}
	return int(limit / 4)
}

package worker

import (
	"pretune/core/bench"
	"pretune/core/conformance"
	"pretune/core/protocol"
)

// conformance runs the device conformance suite on the request's device: one check message per
// check, then done.
func (h *Handler) conformance(req protocol.Request) {
	dev, ok := h.device(req)
	if !ok {
		return
	}
	conformance.Run(dev, func(name string, err error) {
		m := protocol.Message{ID: req.ID, Kind: protocol.Check, Name: name, Pass: err == nil}
		if err != nil {
			m.Error = err.Error()
		}
		h.post(m)
	})
	h.done(req)
}

// bench measures the request's device (core/bench): one metric message per figure, then done.
func (h *Handler) bench(req protocol.Request) {
	dev, ok := h.device(req)
	if !ok {
		return
	}
	err := bench.All(dev, func(name string, v float64, unit string) {
		h.post(protocol.Message{ID: req.ID, Kind: protocol.Metric, Name: name, Value: v, Unit: unit})
	})
	if err != nil {
		h.fail(req, err)
		return
	}
	h.done(req)
}

package worker

import (
	"pretune/core/job"
	"pretune/core/protocol"
	"pretune/core/runspec"
)

// calibrate times a few training steps of the request's config on its device, so the page can
// estimate a run's time here before starting it (protocol.Calibrate).
func (h *Handler) calibrate(req protocol.Request) {
	spec, err := runspec.Decode(req.Code)
	if err != nil {
		h.fail(req, err)
		return
	}
	dev, ok := h.device(req)
	if !ok {
		return
	}
	ms, err := job.TimeSteps(spec, dev, protocol.CalibrationSteps)
	if err != nil {
		h.fail(req, err)
		return
	}
	h.post(protocol.Message{ID: req.ID, Kind: protocol.Metric, Name: protocol.MetricMsPerStep, Value: ms, Unit: "ms"})
	h.done(req)
}

package conformance

import (
	"strings"
	"testing"

	"pretune/core/ops"
)

// overwritingScaleCols writes ScaleColsBackward's ds instead of adding to it.
type overwritingScaleCols struct{ *ops.CPU }

func (d overwritingScaleCols) ScaleColsBackward(dx, ds, dy, x, s ops.Buf, rows, cols int) {
	d.CPU.Zero(ds)
	d.CPU.ScaleColsBackward(dx, ds, dy, x, s, rows, cols)
}

// roundedDivision divides m by the norm 1 ulp off, as a GPU's reciprocal-then-multiply may, and
// so loses DoRA's exact start.
type roundedDivision struct{ *ops.CPU }

func (d roundedDivision) WeightNorm(norm, g, w, m ops.Buf, rows, cols int) {
	d.CPU.WeightNorm(norm, g, w, m, rows, cols)
	gv, mv, nv := ops.Floats(g), ops.Floats(m), ops.Floats(norm)
	for r := range rows {
		gv[r] = mv[r] * (1 / nv[r] * (1 + 1.2e-7))
	}
}

// TestPEFTChecksCatchBrokenDevices: the ScaleCols and WeightNorm checks fail on devices broken
// in those ops, and name them.
func TestPEFTChecksCatchBrokenDevices(t *testing.T) {
	for _, tc := range []struct {
		name    string
		d       ops.Device
		failing string
	}{
		{"scalecols backward overwrites ds", overwritingScaleCols{ops.NewCPU()}, "scalecols/backward/"},
		{"weightnorm divides 1 ulp off", roundedDivision{ops.NewCPU()}, "weightnorm/starts-at-one/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			failed := 0
			for _, r := range runSuite(tc.d) {
				if r.err == nil {
					continue
				}
				if !strings.HasPrefix(r.name, tc.failing) && !strings.HasPrefix(r.name, "weightnorm/forward/") {
					t.Errorf("%s failed but only %s* is broken: %v", r.name, tc.failing, r.err)
				}
				if strings.HasPrefix(r.name, tc.failing) {
					failed++
				}
			}
			if failed == 0 {
				t.Fatalf("no check under %q failed", tc.failing)
			}
		})
	}
}

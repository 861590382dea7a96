package webgpu

import (
	"testing"
	"time"

	"pretune/core/conformance"
)

// TestConformance runs the device conformance suite (every op against the CPU reference, with
// the suite's stated tolerances) on the Vulkan adapter, lavapipe in CI.
func TestConformance(t *testing.T) {
	d := testDevice(t)
	start := time.Now()
	checks := 0
	conformance.Run(d, func(name string, err error) {
		checks++
		t.Run(name, func(t *testing.T) {
			if err != nil {
				t.Fatal(err)
			}
		})
	})
	if checks == 0 {
		t.Fatal("the suite reported no checks")
	}
	t.Logf("%d checks on %s in %v", checks, d.Name(), time.Since(start).Round(time.Millisecond))
}

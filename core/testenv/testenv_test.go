package testenv

import "testing"

func TestRequired(t *testing.T) {
	for _, tc := range []struct {
		ci, require string
		browser     bool
		vulkan      bool
	}{
		{"", "", false, false},
		{"", "browser,vulkan", true, true},
		{"", "vulkan", false, true},
		{"", "browsers", false, false},
		{"true", "", true, true},
	} {
		t.Setenv("CI", tc.ci)
		t.Setenv("PRETUNE_REQUIRE", tc.require)
		if got := Required(Browser); got != tc.browser {
			t.Errorf("CI=%q PRETUNE_REQUIRE=%q: Required(browser) = %v", tc.ci, tc.require, got)
		}
		if got := Required(Vulkan); got != tc.vulkan {
			t.Errorf("CI=%q PRETUNE_REQUIRE=%q: Required(vulkan) = %v", tc.ci, tc.require, got)
		}
	}
}

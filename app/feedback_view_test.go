package app

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPickKey: 1, 2, 0, space and Backspace pick, skip and undo on the page itself; typed into
// a field they are the field's; space on a button, link, summary or control presses it (a
// keyboard user's way to press anything), while the digits still pick from there.
func TestPickKey(t *testing.T) {
	tests := []struct {
		key, tag, role string
		editable       bool
		want           bool
	}{
		{"1", "BODY", "", false, true},
		{"2", "MAIN", "", false, true},
		{"0", "DIV", "", false, true},
		{" ", "BODY", "", false, true},
		{"Backspace", "BODY", "", false, true},
		{"3", "BODY", "", false, false},
		{"Enter", "BODY", "", false, false},
		{"Tab", "BODY", "", false, false},
		{"1", "INPUT", "", false, false},
		{" ", "TEXTAREA", "", false, false},
		{"Backspace", "SELECT", "", false, false},
		{"1", "DIV", "", true, false},
		{" ", "BUTTON", "", false, false},
		{" ", "A", "", false, false},
		{" ", "SUMMARY", "", false, false},
		{" ", "DIV", "button", false, false},
		{" ", "SPAN", "checkbox", false, false},
		{"1", "DIV", "textbox", false, false},
		{"1", "BUTTON", "", false, true},
		{"Backspace", "BUTTON", "", false, true},
		{"2", "DIV", "tab", false, true},
	}
	for _, tc := range tests {
		t.Run(tc.key+" on "+tc.tag+" "+tc.role, func(t *testing.T) {
			require.Equal(t, tc.want, pickKey(tc.key, tc.tag, tc.role, tc.editable))
		})
	}
}

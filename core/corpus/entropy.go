package corpus

import (
	"math"
	"sort"
)

// UnigramEntropy returns the entropy of the text's code-point frequencies in nats per code point:
// the loss a model that knows only character frequencies would reach, a yardstick for a
// language model's training loss. An empty text has entropy 0. It is a measurement for tests
// and display, not part of training, so it may use math.Log; the terms are summed in code-point
// order so the result does not depend on map iteration order.
func UnigramEntropy(text string) float64 {
	counts := map[rune]int{}
	n := 0
	for _, r := range text {
		counts[r]++
		n++
	}
	if n == 0 {
		return 0
	}
	runes := make([]rune, 0, len(counts))
	for r := range counts {
		runes = append(runes, r)
	}
	sort.Slice(runes, func(i, j int) bool { return runes[i] < runes[j] })
	h := 0.0
	for _, r := range runes {
		p := float64(counts[r]) / float64(n)
		h -= p * math.Log(p)
	}
	return h
}

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

// BigramCrossEntropy returns the loss, in nats per code point, that a character-bigram model
// estimated on train reaches on heldOut: the bar a language model that uses more than the previous
// character must clear. Each code point after the first is predicted from the one before it by
// Witten-Bell interpolation, p(b|a) = (c(a,b) + u(a)·q(b)) / (c(a) + u(a)), where u(a) is the
// number of distinct code points seen after a; q is the add-one unigram over train's alphabet
// and one slot for code points train never has. The first code point is predicted by q alone.
// An empty heldOut gives 0. Like UnigramEntropy it is a measurement, not part of training.
func BigramCrossEntropy(train, heldOut string) float64 {
	type pair struct{ a, b rune }
	uni, follow, pairs := map[rune]int{}, map[rune]int{}, map[pair]int{}
	distinct := map[rune]int{} // u(a)
	n, prev := 0, rune(-1)
	for _, r := range train {
		uni[r]++
		n++
		if prev >= 0 {
			p := pair{prev, r}
			if pairs[p] == 0 {
				distinct[prev]++
			}
			pairs[p]++
			follow[prev]++
		}
		prev = r
	}
	q := func(b rune) float64 { return float64(uni[b]+1) / float64(n+len(uni)+1) }
	var loss float64
	count := 0
	prev = -1
	for _, b := range heldOut {
		p := q(b)
		if ca := follow[prev]; prev >= 0 && ca > 0 {
			u := float64(distinct[prev])
			p = (float64(pairs[pair{prev, b}]) + u*p) / (float64(ca) + u)
		}
		loss -= math.Log(p)
		count++
		prev = b
	}
	if count == 0 {
		return 0
	}
	return loss / float64(count)
}

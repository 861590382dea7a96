// Package grammar writes text for tests and benchmarks: sentences from a small seeded grammar,
// with enough structure that a model can predict far better than letter frequencies alone. The
// golden runs train on it, so its output is pinned by their files (core/testdata): a change here
// changes them.
package grammar

import (
	"strings"

	"pretune/core/corpus"
)

// Text writes n sentences ("the cat sees the river.\n") drawn with the given seed.
func Text(seed uint64, n int) string {
	r := newRand(seed)
	subjects := []string{"the cat", "a dog", "my friend", "the old man", "a small bird"}
	verbs := []string{"sees", "likes", "finds", "follows", "paints"}
	objects := []string{"the river", "a red ball", "the garden", "some bread", "the moon"}
	var sb strings.Builder
	for i := 0; i < n; i++ {
		sb.WriteString(subjects[r.Intn(len(subjects))])
		sb.WriteString(" ")
		sb.WriteString(verbs[r.Intn(len(verbs))])
		sb.WriteString(" ")
		sb.WriteString(objects[r.Intn(len(objects))])
		sb.WriteString(".\n")
	}
	return sb.String()
}

// newRand is the splitmix64 stream the grammar has always drawn from: the one core.NewRNG(seed,
// "test-grammar") gives, whose state starts at seed xor the FNV-1a hash of the stream name and
// skips one output. (For five choices core's Intn rejects only the draw 2^64-1, where corpus's
// takes the modulo: they agree on every other draw, and the golden files would say if not.)
func newRand(seed uint64) *corpus.Rand {
	const stream = "test-grammar"
	h := uint64(14695981039346656037)
	for i := 0; i < len(stream); i++ {
		h ^= uint64(stream[i])
		h *= 1099511628211
	}
	r := corpus.NewRand(seed ^ h)
	r.Uint64()
	return r
}

// Package fingerprint names a run's result in a few characters (its device class and a hash of
// its losses and weights), so whoever reruns a shared setup sees whether they got the same
// result, and says so in one verdict: matches, differs, or made on another device class.
package fingerprint

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"strings"
	"unicode"
)

// fingerprintHexLen is how many hex digits of the digest a fingerprint keeps: 48 bits, enough
// that two different runs share one by chance about once in 2^48.
const fingerprintHexLen = 12

// maxClassBytes bounds a device class ("cpu", "webgpu/<adapter name>").
const maxClassBytes = 200

// Of names a run's result: deviceClass + ":" + the first 12 hex digits of the SHA-256
// over every loss's float64 bits (8 bytes, little endian, in order) followed by the bytes of
// weightsHash (core.Model.WeightsHash). Runs in the same class are bit-exact, so the same spec
// in the same class must give the same fingerprint.
func Of(deviceClass string, losses []float64, weightsHash string) string {
	h := sha256.New()
	var b [8]byte
	for _, l := range losses {
		binary.LittleEndian.PutUint64(b[:], math.Float64bits(l))
		h.Write(b[:])
	}
	h.Write([]byte(weightsHash))
	return deviceClass + ":" + hex.EncodeToString(h.Sum(nil))[:fingerprintHexLen]
}

// Parse splits a fingerprint into its device class and hash. The class may itself
// contain ':' (an adapter name), so the split is at the last one.
func Parse(s string) (class, hash string, err error) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return "", "", fmt.Errorf("fingerprint %q has no ':' between its device class and hash", s)
	}
	class, hash = s[:i], s[i+1:]
	if err := checkClass(class); err != nil {
		return "", "", fmt.Errorf("fingerprint %q: %v", s, err)
	}
	if len(hash) != fingerprintHexLen || strings.Trim(hash, "0123456789abcdef") != "" {
		return "", "", fmt.Errorf("fingerprint %q: the hash must be %d lowercase hex digits", s, fingerprintHexLen)
	}
	return class, hash, nil
}

func checkClass(class string) error {
	if class == "" || len(class) > maxClassBytes {
		return fmt.Errorf("the device class must have 1 to %d bytes", maxClassBytes)
	}
	for _, r := range class {
		if !unicode.IsPrint(r) || r == '\uFFFD' {
			return fmt.Errorf("the device class has a character that cannot be shown (%q)", r)
		}
	}
	return nil
}

// SameClass reports whether two fingerprints (or device classes, or one of each) belong to the
// same device class, where results are bit-exact and comparable by hash alone.
func SameClass(a, b string) bool {
	return classOf(a) == classOf(b)
}

func classOf(s string) string {
	if class, _, err := Parse(s); err == nil {
		return class
	}
	return s
}

// Verdicts: how a run's fingerprint compares with the one a link expected (Verdict).
const (
	Matches     = "matches"      // the same class and hash: the run reproduced bit for bit
	Differs     = "differs"      // the same class, another hash: something changed
	OtherDevice = "other-device" // another device class: results agree only within tolerance
)

// Verdict compares the fingerprint a run got with the one expected (a link's): Matches, Differs
// or OtherDevice, or "" when either is unknown (a link shared before its run ended, a run that
// has not finished).
func Verdict(expected, got string) string {
	switch {
	case expected == "" || got == "":
		return ""
	case !SameClass(expected, got):
		return OtherDevice
	case expected == got:
		return Matches
	}
	return Differs
}

package checkpoint

import (
	"bytes"
	"encoding/binary"
	"errors"
	"unicode/utf8"
)

// Sentinel errors. Load and ImportSafetensors wrap exactly one of them with the detail (which
// tensor, how many bytes, what the file looks like), so a caller can tell the cases apart with
// errors.Is and show the message as it is.
var (
	// ErrNotCheckpoint: the bytes are not a pretune checkpoint (another kind of file).
	ErrNotCheckpoint = errors.New("not a pretune checkpoint")
	// ErrNotSafetensors: ImportSafetensors was given bytes that are not a safetensors file.
	ErrNotSafetensors = errors.New("not a safetensors file")
	// ErrNewerVersion: the file was written by a newer pretune in a format this one cannot read.
	ErrNewerVersion = errors.New("made by a newer pretune")
	// ErrTruncated: the file ends early (an interrupted download or copy).
	ErrTruncated = errors.New("the file is truncated")
	// ErrCorrupt: the checksum does not match, or the framing is damaged.
	ErrCorrupt = errors.New("the file is corrupt")
	// ErrHeader: the JSON header cannot be parsed or lacks a required field.
	ErrHeader = errors.New("the header is invalid")
	// ErrConfig: the stored config fails core.Config.Validate, or disagrees with the tokenizer.
	ErrConfig = errors.New("the stored config is invalid")
	// ErrTokenizer: the stored alphabet or special tokens cannot be used.
	ErrTokenizer = errors.New("the stored tokenizer is invalid")
	// ErrTensors: the tensor table does not match the model the config describes (a missing,
	// extra, duplicated or mis-shaped tensor, a bad dtype, offsets that overlap or leave gaps).
	ErrTensors = errors.New("the tensor table does not match the config")
	// ErrBadWeights: a weight or optimizer moment is NaN or infinite (or a second moment is
	// negative).
	ErrBadWeights = errors.New("the weights are not finite")
	// ErrTooLarge: a size is beyond the limits (MaxFileBytes, MaxHeaderBytes).
	ErrTooLarge = errors.New("the file is too large")
	// ErrNoOptimizer: RestoreOptimizer was called on a checkpoint saved without optimizer state,
	// or with an optimizer whose trainable tensors differ from the saved ones.
	ErrNoOptimizer = errors.New("no matching optimizer state")
)

// describe says what a file that is not a checkpoint looks like, from its first bytes, so the
// learner who picked the wrong file learns which file they picked.
func describe(b []byte) string {
	has := func(p string) bool { return bytes.HasPrefix(b, []byte(p)) }
	switch {
	case len(b) == 0:
		return "the file is empty"
	case has("\x89PNG\r\n\x1a\n"):
		return "it looks like a PNG image"
	case has("\xff\xd8\xff"):
		return "it looks like a JPEG image"
	case has("GIF87a"), has("GIF89a"):
		return "it looks like a GIF image"
	case has("%PDF"):
		return "it looks like a PDF document"
	case has("PK\x03\x04"):
		return "it looks like a ZIP archive (a PyTorch .pt/.bin file is one: export safetensors instead)"
	case has("\x1f\x8b"):
		return "it looks like a gzip-compressed file: decompress it first"
	case has("\x80\x02"), has("\x80\x03"), has("\x80\x04"), has("\x80\x05"):
		return "it looks like a Python pickle (a PyTorch or NumPy file): export safetensors instead"
	case has("\x93NUMPY"):
		return "it looks like a NumPy .npy file"
	case looksSafetensors(b):
		return "it looks like a safetensors file: import it as safetensors instead"
	case has("\ufeff"), utf8.Valid(b) && bytes.IndexByte(b, 0) < 0:
		trimmed := bytes.TrimLeft(bytes.TrimPrefix(b, []byte("\ufeff")), " \t\r\n")
		if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
			return "it looks like a JSON file"
		}
		return "it looks like a text file"
	}
	return "its first bytes are not the checkpoint signature \"PRETUNE\\0\""
}

// looksSafetensors reports whether b starts like a safetensors file: a little-endian u64 header
// length that fits in the file (or at least is plausible for a prefix), then '{'.
func looksSafetensors(b []byte) bool {
	if len(b) < 9 || b[8] != '{' {
		return false
	}
	n := binary.LittleEndian.Uint64(b)
	return n >= 2 && n <= MaxHeaderBytes
}

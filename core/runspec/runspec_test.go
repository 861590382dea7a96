package runspec

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core"
	"pretune/core/corpus"
)

var englishText = strings.Repeat("The fox lives in the forest and eats berries in the autumn.\n", 8)

var chineseText = strings.Repeat("小狐狸住在森林里，秋天吃浆果。它的朋友是一只老猫。\n", 10)

func userSpec(t testing.TB, name, text string) Spec {
	ref, err := UserText(name, text)
	require.NoError(t, err)
	cfg := core.DefaultConfig()
	cfg.Steps = 123
	return Spec{Version: Version, Corpus: ref, Config: cfg, Device: DeviceCPU, Lang: "zh",
		Fingerprint: "cpu:0123456789ab"}
}

// rawCode builds a version-1 code (rawCodeV for another version) around any JSON, to reach the checks after decompression.
func rawCode(t testing.TB, js string) string { return rawCodeV(t, 1, js) }

func rawCodeV(t testing.TB, v int, js string) string {
	var z bytes.Buffer
	zw, err := flate.NewWriter(&z, flate.BestCompression)
	require.NoError(t, err)
	_, err = zw.Write([]byte(js))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return string(versionChar(v)) + base64.RawURLEncoding.EncodeToString(z.Bytes())
}

// specJSON is a valid spec's JSON after edit changed it as a generic map.
func specJSON(t testing.TB, s Spec, edit func(m map[string]any)) string {
	b, err := json.Marshal(s)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	edit(m)
	b, err = json.Marshal(m)
	require.NoError(t, err)
	return string(b)
}

func TestPresetsRoundTrip(t *testing.T) {
	presets := Presets()
	require.GreaterOrEqual(t, len(presets), 3)
	names := map[string]bool{}
	for _, p := range presets {
		t.Run(p.Name, func(t *testing.T) {
			require.False(t, names[p.Name], "duplicate preset")
			names[p.Name] = true
			require.NoError(t, p.Spec.Validate())
			code, err := Encode(p.Spec)
			require.NoError(t, err)
			require.Less(t, len(code), 600, "a preset's link should stay short")
			t.Logf("%s: %d characters", p.Name, len(code))
			got, err := Decode(code)
			require.NoError(t, err)
			require.Equal(t, p.Spec, got)
			c, err := got.Resolve()
			require.NoError(t, err)
			require.Equal(t, p.Spec.Corpus.ID, c.ID)
			require.Equal(t, p.Spec.Lang, c.Lang)
			byName, err := PresetByName(p.Name)
			require.NoError(t, err)
			require.Equal(t, p, byName)
		})
	}
	for _, n := range []string{"en-tiny", "en-small", "zh-small"} {
		require.True(t, names[n], "preset %s is missing", n)
	}
	require.Equal(t, Presets(), Presets(), "presets must be deterministic")
	_, err := PresetByName("xx")
	require.ErrorContains(t, err, `unknown preset "xx"`)
}

func TestUserTextRoundTrip(t *testing.T) {
	for _, tc := range []struct{ name, text string }{
		{"fox.txt", englishText},
		{"狐狸.txt", chineseText},
		{"", "<b>tags & quotes \" stay\ttabs\r\nand CRLF</b> " + englishText},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := userSpec(t, tc.name, tc.text)
			code, err := Encode(s)
			require.NoError(t, err)
			require.Less(t, len(code), len(tc.text), "the text must travel compressed")
			got, err := Decode(code)
			require.NoError(t, err)
			require.Equal(t, s, got)
			c, err := got.Resolve()
			require.NoError(t, err)
			want, err := corpus.FromText(tc.name, []byte(tc.text))
			require.NoError(t, err)
			require.Equal(t, want, c)
		})
	}
}

// TestDecodeForms: a code is found in every form a learner may paste.
func TestDecodeForms(t *testing.T) {
	s := userSpec(t, "fox", englishText)
	code, err := Encode(s)
	require.NoError(t, err)
	link, err := URL("https://example.org/pretune/?x=1#old", s)
	require.NoError(t, err)
	require.Equal(t, "https://example.org/pretune/?x=1#r="+code, link)
	wrapped := code[:20] + "\n  " + code[20:40] + "\r\n" + code[40:]
	for _, form := range []string{
		code,
		"  " + code + "\n",
		"#r=" + code,
		"r=" + code,
		link,
		"http://127.0.0.1:8080/#r=" + code,
		"http://127.0.0.1:8080/?r=" + code,
		"http://localhost/app?lang=zh&r=" + code + "#about",
		"https://example.org/#tab=2&r=" + code,
		"/pretune/#r=" + code,
		wrapped,
		code + "==",
		strings.Replace("#r="+code, code[5:6], "%"+strings.ToUpper(hexByte(code[5])), 1),
	} {
		got, err := Decode(form)
		require.NoError(t, err, "form %q", form)
		require.Equal(t, s, got, "form %q", form)
	}
}

func hexByte(b byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[b>>4], digits[b&15]})
}

func TestEncodeFillsHashes(t *testing.T) {
	en := Presets()[0].Spec
	en.Corpus.Hash = ""
	code, err := Encode(en)
	require.NoError(t, err)
	got, err := Decode(code)
	require.NoError(t, err)
	c, err := corpus.Builtin(en.Corpus.ID)
	require.NoError(t, err)
	require.Equal(t, c.Hash(), got.Corpus.Hash)

	u := userSpec(t, "fox", englishText)
	u.Corpus.Hash, u.Version = "", 0
	code, err = Encode(u)
	require.NoError(t, err)
	got, err = Decode(code)
	require.NoError(t, err)
	require.Equal(t, TextHash(englishText), got.Corpus.Hash)
	require.Equal(t, 1, got.Version, "a spec without a comparison is written as version 1")
}

func TestEncodeRefuses(t *testing.T) {
	big := strings.Repeat("a quick brown fox. ", 3000) // 57,000 bytes
	tests := []struct {
		name string
		spec func() Spec
		want error
		msg  string
	}{
		{"text too large", func() Spec {
			s := userSpec(t, "fox", englishText)
			s.Corpus.Text, s.Corpus.Hash = big, ""
			return s
		}, ErrTooLarge, "the text is 57000 bytes; a link carries at most 49152 bytes (48 KiB) of text"},
		{"vocab set", func() Spec {
			s := Presets()[0].Spec
			s.Config.Vocab = 40
			return s
		}, ErrInvalid, "config vocab is 40"},
		{"bad config", func() Spec {
			s := Presets()[0].Spec
			s.Config.Heads = 5
			return s
		}, ErrInvalid, "heads 5 must divide dim 32"},
		{"name not UTF-8", func() Spec {
			s := userSpec(t, "fox", englishText)
			s.Corpus.Name = "\xff"
			return s
		}, ErrInvalid, "corpus name"},
		{"text too short", func() Spec {
			s := userSpec(t, "fox", englishText)
			s.Corpus.Text, s.Corpus.Hash = "hello", ""
			return s
		}, ErrInvalid, "too short"},
		{"unknown corpus", func() Spec {
			s := Presets()[0].Spec
			s.Corpus = CorpusRef{ID: "fr-world"}
			return s
		}, ErrInvalid, `unknown built-in corpus "fr-world"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, err := Encode(tc.spec())
			require.Empty(t, code)
			requireKind(t, err, tc.want, tc.msg)
		})
	}
	t.Run("at the limit", func(t *testing.T) {
		text := big[:MaxLinkTextBytes]
		s := userSpec(t, "fox", text)
		code, err := Encode(s)
		require.NoError(t, err)
		got, err := Decode(code)
		require.NoError(t, err)
		require.Equal(t, text, got.Corpus.Text)
	})
}

func TestDecodeRefuses(t *testing.T) {
	good := Presets()[0].Spec
	user := userSpec(t, "fox", englishText)
	edit := func(s Spec, f func(m map[string]any)) string { return rawCode(t, specJSON(t, s, f)) }
	corpusEdit := func(s Spec, key string, v any) string {
		return edit(s, func(m map[string]any) { m["corpus"].(map[string]any)[key] = v })
	}
	configEdit := func(key string, v any) string {
		return edit(good, func(m map[string]any) { m["config"].(map[string]any)[key] = v })
	}
	tests := []struct {
		name, code string
		want       error
		msg        string
	}{
		{"empty", "  ", ErrMalformed, "empty"},
		{"url without run", "https://example.org/pretune/", ErrMalformed, "carries no run"},
		{"url with other fragment", "https://example.org/#tab=2", ErrMalformed, "carries no run"},
		{"empty r", "#r=", ErrMalformed, "run code is empty"},
		{"no version", "-abc", ErrMalformed, "starts with its version number"},
		{"version 8", "8abcdef", ErrNewerVersion, "made by a newer pretune (link version 8; this one reads up to 7)"},
		{"version 35", "Zabcdef", ErrNewerVersion, "link version 35"},
		{"bad base64", "1abc!def", ErrMalformed, "not base64url"},
		{"bad deflate", "1" + base64.RawURLEncoding.EncodeToString([]byte("not deflate at all")), ErrMalformed, "compressed data is damaged"},
		{"cut short", func() string {
			c, err := Encode(user)
			require.NoError(t, err)
			return c[:len(c)/2]
		}(), ErrMalformed, "compressed data is damaged"},
		{"bytes after deflate", func() string {
			c, err := Encode(good)
			require.NoError(t, err)
			z, err := base64.RawURLEncoding.DecodeString(c[1:])
			require.NoError(t, err)
			return "1" + base64.RawURLEncoding.EncodeToString(append(z, 0, 0))
		}(), ErrMalformed, "2 bytes follow the compressed data"},
		{"bad JSON", rawCode(t, `{"v":1,`), ErrMalformed, "not valid JSON"},
		{"JSON list", rawCode(t, `[1,2]`), ErrMalformed, "not valid JSON"},
		{"two objects", rawCode(t, specJSON(t, good, func(map[string]any) {})+"{}"), ErrMalformed, "something follows"},
		{"unknown field", edit(good, func(m map[string]any) { m["base_run"] = "x" }), ErrMalformed, `unknown field "base_run"`},
		{"methods in version 1", edit(good, func(m map[string]any) { m["methods"] = []map[string]any{{"kind": "full"}} }), ErrInvalid, "needs link version 2"},
		{"unknown config field", configEdit("lora_rank", 8), ErrMalformed, `unknown field "lora_rank"`},
		{"version field differs", edit(good, func(m map[string]any) { m["v"] = 2 }), ErrMalformed, "its settings say 2"},
		{"code too long", "1" + strings.Repeat("A", MaxCodeBytes), ErrTooLarge, "more than the limit of 81920"},
		{"decompression bomb", rawCode(t, `{"v":1,"corpus":{"id":"user","text":"`+strings.Repeat("a", 2<<20)+`"}}`), ErrTooLarge, "decompresses to more than"},
		{"text over the limit", func() string {
			text := strings.Repeat("a quick brown fox. ", 3000)
			return corpusEdit(corpusEditSpec(user, text), "hash", TextHash(text))
		}(), ErrTooLarge, "the text is 57000 bytes"},
		{"vocab set", configEdit("vocab", 50), ErrInvalid, "config vocab is 50"},
		{"layers 0", configEdit("layers", 0), ErrInvalid, "layers 0 is outside"},
		{"steps huge", configEdit("steps", 1e9), ErrInvalid, "steps 1000000000 is outside"},
		{"lr negative", configEdit("lr", -1), ErrInvalid, "lr -1 is outside"},
		{"too big to train", edit(good, func(m map[string]any) {
			c := m["config"].(map[string]any)
			c["batch"], c["context"], c["layers"], c["heads"], c["dim"] = 64, 512, 12, 512, 512
		}), ErrTooLarge, "GiB to train; the limit is 2 GiB"},
		{"number not integer", configEdit("layers", 1.5), ErrMalformed, "not valid JSON"},
		{"unknown device", edit(good, func(m map[string]any) { m["device"] = "gpu" }), ErrInvalid, `device "gpu"`},
		{"unknown language", edit(good, func(m map[string]any) { m["lang"] = "fr" }), ErrInvalid, `language "fr"`},
		{"bad fingerprint", edit(good, func(m map[string]any) { m["fingerprint"] = "cpu:XYZ" }), ErrInvalid, "lowercase hex"},
		{"unknown corpus", corpusEdit(good, "id", "fr-world"), ErrInvalid, `unknown built-in corpus "fr-world"`},
		{"built-in with text", corpusEdit(good, "text", englishText), ErrInvalid, "must not carry text"},
		{"user text too short", func() string {
			return corpusEdit(corpusEditSpec(user, "too short"), "hash", TextHash("too short"))
		}(), ErrInvalid, "too short"},
		{"user text damaged", corpusEdit(user, "text", strings.Replace(englishText, "fox", "box", 1)), ErrMalformed, "the link was damaged"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Decode(tc.code)
			require.Equal(t, Spec{}, s)
			requireKind(t, err, tc.want, tc.msg)
		})
	}
	t.Run("corpus changed", func(t *testing.T) {
		s, err := Decode(corpusEdit(good, "hash", "0123456789abcdef"))
		requireKind(t, err, ErrCorpusChanged, "the sample text changed since this link was made")
		require.Contains(t, err.Error(), "en-world")
		want := good
		want.Corpus.Hash = "0123456789abcdef"
		require.Equal(t, want, s, "the spec comes back, to run on the current text if the learner wants")
		_, err = s.Resolve()
		require.ErrorIs(t, err, ErrCorpusChanged)
	})
}

func corpusEditSpec(s Spec, text string) Spec {
	s.Corpus.Text = text
	return s
}

var sentinels = []error{ErrMalformed, ErrNewerVersion, ErrInvalid, ErrTooLarge, ErrCorpusChanged}

func requireKind(t testing.TB, err, want error, msg string) {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, want, "got %q", err)
	n := 0
	for _, s := range sentinels {
		if errors.Is(err, s) {
			n++
		}
	}
	require.Equal(t, 1, n, "error %q should wrap exactly one sentinel", err)
	require.Contains(t, err.Error(), msg)
}

// TestShardsTakeVersion7: a spec with a shard count encodes as version 7 and decodes back with
// it; a lower version carrying one, a version 7 without one, and more shards than sequences
// are refused.
func TestShardsTakeVersion7(t *testing.T) {
	s := Presets()[0].Spec
	s.Config.Shards = 4
	code, err := Encode(s)
	require.NoError(t, err)
	require.Equal(t, byte('7'), code[0])
	got, err := Decode(code)
	require.NoError(t, err)
	require.Equal(t, 4, got.Config.Shards)

	s.Version = Version
	require.ErrorIs(t, s.Validate(), ErrInvalid, "a version 1 link with shards")
	plain := Presets()[0].Spec
	plain.Version = VersionShards
	require.ErrorIs(t, plain.Validate(), ErrInvalid, "a version 7 link without shards")
	s.Version, s.Config.Shards = VersionShards, s.Config.Batch+1
	require.ErrorIs(t, s.Validate(), ErrInvalid, "more shards than sequences")
}

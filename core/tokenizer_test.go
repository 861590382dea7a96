package core

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTokenizerRoundTrip(t *testing.T) {
	for _, text := range []string{"hello, world\n", "小狐狸住在森林里。", "mixed 中文 and English!"} {
		t.Run(text, func(t *testing.T) {
			tk, err := NewTokenizer(text)
			require.NoError(t, err)
			ids := tk.Encode(text)
			require.Len(t, ids, len([]rune(text)))
			require.Equal(t, text, tk.Decode(ids))
			for _, id := range ids {
				require.GreaterOrEqual(t, int(id), numSpecial)
			}
			again, err := TokenizerFromString(tk.Alphabet())
			require.NoError(t, err)
			require.Equal(t, ids, again.Encode(text))
		})
	}
}

func TestTokenizerUnknownAndSpecials(t *testing.T) {
	tk, err := NewTokenizer("abc")
	require.NoError(t, err)
	require.Equal(t, 6, tk.VocabSize())
	require.Equal(t, []int32{3, TokUnknown, 5}, tk.Encode("azc"))
	require.Equal(t, "a<unk>c<mask><pad>", tk.Decode([]int32{3, TokUnknown, 5, TokMask, TokPad}))
	require.Equal(t, "<bad id 99>", tk.Token(99))
}

func TestTokenizerErrors(t *testing.T) {
	_, err := NewTokenizer("")
	require.ErrorContains(t, err, "empty")
	_, err = NewTokenizer("a\xffb")
	require.ErrorContains(t, err, "UTF-8")
	_, err = TokenizerFromString("ba")
	require.ErrorContains(t, err, "increasing")
}

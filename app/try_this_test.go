package app

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/compare"
	"pretune/core/feedback"
)

var numberRE = regexp.MustCompile(`\d+(\.\d+)?(e-?\d+)?`)

// numbersIn are the numbers a text writes out, in order.
func numbersIn(t *testing.T, text string) []float64 {
	var out []float64
	for _, m := range numberRE.FindAllString(text, -1) {
		v, err := strconv.ParseFloat(m, 64)
		require.NoError(t, err)
		out = append(out, v)
	}
	return out
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(math.Abs(a), math.Abs(b)) }

// TestTryThisWordsAreTrue applies every "try this" link to the default setup and checks, in both
// languages, that the numbers its words say are the ones it sets: the ratio to the default, the
// new value and the old one. A try-this key without a check here fails, so a new link is
// checked too.
func TestTryThisWordsAreTrue(t *testing.T) {
	checks := map[string]func(t *testing.T, l Lang){
		"try.lr": func(t *testing.T, l Lang) {
			s := defaultSetup()
			text := tryHighLRText(l, s)
			before := s.Cfg.LR
			s.tryHighLR()
			ratio := float64(s.Cfg.LR) / float64(before)
			requireNumbers(t, text, ratio, float64(s.Cfg.LR), float64(before))
		},
		"try.full_lr": func(t *testing.T, l Lang) {
			s := defaultCompareSetup(l)
			full := s.method(compare.Full)
			before := full.Filled().LR
			text := tryFullLRText(l)
			s.tryFullLR()
			require.True(t, full.On)
			ratio := float64(full.LR) / float64(before)
			requireNumbers(t, text, ratio, float64(full.LR), float64(before))
		},
		"try.lora_rank1": func(t *testing.T, l Lang) {
			s := defaultCompareSetup(l)
			s.tryLoRARank1()
			lora := s.method(compare.LoRA)
			require.True(t, lora.On)
			requireNumbers(t, l.T("try.lora_rank1"), float64(lora.Rank))
		},
		"try.lora_mlp": func(t *testing.T, l Lang) {
			s := defaultCompareSetup(l)
			s.tryLoRAMLP()
			lora := s.method(compare.LoRA)
			require.True(t, lora.On)
			for _, target := range lora.Targets {
				require.True(t, strings.HasPrefix(target, "fc_"), "%s is not an MLP layer", target)
			}
			require.Empty(t, numbersIn(t, l.T("try.lora_mlp")))
		},
		"fbt.try.noleash": func(t *testing.T, l Lang) {
			s := newTuningSetup(l)
			s.tryNoLeash()
			ppo := s.method(feedback.PPO)
			require.True(t, ppo.On)
			requireNumbers(t, l.T("fbt.try.noleash"), float64(ppo.KLCoef))
		},
		"try.bigger": func(t *testing.T, l Lang) {
			s := defaultSetup()
			require.NotEqual(t, "small", s.Size)
			require.NoError(t, s.SetSize("small"))
			require.Contains(t, l.T("try.bigger"), l.T("size.small"), "it names the size it picks")
		},
		"try.seed": func(t *testing.T, l Lang) {
			require.Empty(t, numbersIn(t, l.T("try.seed")), "another seed: any other one")
		},
	}
	for key := range en {
		if (strings.HasPrefix(key, "try.") || strings.Contains(key, ".try.")) && !strings.HasSuffix(key, "_watch") {
			require.Contains(t, checks, key, "a try-this without a check")
		}
	}
	for key, check := range checks {
		for _, l := range []Lang{EN, ZH} {
			t.Run(key+"/"+string(l), func(t *testing.T) { check(t, l) })
		}
	}
}

// requireNumbers checks that text writes out want, in order (float32 values to their precision).
func requireNumbers(t *testing.T, text string, want ...float64) {
	t.Helper()
	got := numbersIn(t, text)
	require.Len(t, got, len(want), "%q says %v, it does %v", text, got, want)
	for i := range want {
		require.True(t, near(got[i], want[i]), "%q says %v, it does %v", text, got, want)
	}
}

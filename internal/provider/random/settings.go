package random

import (
	"fmt"
	"math"
	"slices"
	"strconv"
)

// intSetting accepts the integer forms a decoded YAML or JSON value takes,
// and decimal strings (a ${NAME} reference resolves to a string).
func intSetting(v any) (int, error) {
	switch n := v.(type) {
	case int:
		return n, nil
	case int64:
		return clampInt(n), nil
	case uint64:
		if n > math.MaxInt32 {
			return math.MaxInt32, nil
		}
		return int(n), nil
	case float64:
		if n != math.Trunc(n) || math.IsInf(n, 0) {
			return 0, fmt.Errorf("expected a whole number, got %v", n)
		}
		return int(max(min(n, math.MaxInt32), math.MinInt32)), nil
	case string:
		i, err := strconv.ParseInt(n, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("expected a whole number, got %q", n)
		}
		return clampInt(i), nil
	default:
		return 0, fmt.Errorf("expected a whole number")
	}
}

// clampInt keeps out-of-range values out of range on every platform, so the
// range check reports them instead of an overflow wrapping them into range.
func clampInt(n int64) int {
	return int(max(min(n, math.MaxInt32), math.MinInt32))
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

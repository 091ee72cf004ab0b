package rollout

import (
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// The helpers below read values decoded from JSON (json.Number) or YAML
// (int, float64), and name the path and the type found when they fail.

func asString(path string, v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s: want a string, got %s", path, kind(v))
	}
	return s, nil
}

func asMap(path string, v any) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: want a mapping, got %s", path, kind(v))
	}
	return m, nil
}

func asList(path string, v any) ([]any, error) {
	l, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%s: want a list, got %s", path, kind(v))
	}
	return l, nil
}

func asNumber(path string, v any) (float64, error) {
	var f float64
	switch n := v.(type) {
	case json.Number:
		x, err := n.Float64()
		if err != nil {
			return 0, fmt.Errorf("%s: %q is not a number", path, string(n))
		}
		f = x
	case float64:
		f = n
	case int:
		f = float64(n)
	case int64:
		f = float64(n)
	case uint64:
		f = float64(n)
	default:
		return 0, fmt.Errorf("%s: want a number, got %s", path, kind(v))
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%s: %g is not a finite number", path, f)
	}
	return f, nil
}

func asDuration(path string, v any) (time.Duration, error) {
	s, ok := v.(string)
	if !ok {
		return 0, fmt.Errorf("%s: want a duration such as 30m, got %s", path, kind(v))
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a duration such as 30m or 1h", path, s)
	}
	if d <= 0 {
		return 0, fmt.Errorf("%s: %s is not positive", path, d)
	}
	return d, nil
}

// kind names a decoded value's type for an error message.
func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number, float64, int, int64, uint64:
		return "a number"
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	case map[any]any:
		return "a mapping with keys that are not strings"
	}
	return fmt.Sprintf("%T", v)
}

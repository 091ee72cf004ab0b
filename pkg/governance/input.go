package governance

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
)

// inputValue wraps a policy input for evaluation: an object lazily (see
// newEvalInput), nil as no input at all (conftest's empty file), anything
// else converted at once.
func inputValue(in any) (ast.Value, error) {
	switch v := in.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return ast.LazyObject(v), nil
	}
	t, err := term(in, "input")
	if err != nil {
		return nil, err
	}
	return t.Value, nil
}

// dataValue converts loaded data to the object the store serves.
func dataValue(data map[string]any) (ast.Object, error) {
	return objectValue(data, "data")
}

func objectValue(m map[string]any, at string) (ast.Object, error) {
	obj := ast.NewObjectWithCapacity(len(m))
	for k, v := range m {
		t, err := term(v, at+"."+k)
		if err != nil {
			return nil, err
		}
		obj.Insert(ast.InternedTerm(k), t)
	}
	return obj, nil
}

// term converts one JSON-like Go value; at names it in errors.
func term(x any, at string) (*ast.Term, error) {
	switch x := x.(type) {
	case nil:
		return ast.InternedNullTerm, nil
	case string:
		return ast.InternedTerm(x), nil
	case bool:
		return ast.InternedTerm(x), nil
	case map[string]any:
		obj, err := objectValue(x, at)
		if err != nil {
			return nil, err
		}
		return ast.NewTerm(obj), nil
	case []any:
		terms := make([]*ast.Term, len(x))
		for i, e := range x {
			t, err := term(e, at+"["+strconv.Itoa(i)+"]")
			if err != nil {
				return nil, err
			}
			terms[i] = t
		}
		return ast.NewTerm(ast.NewArray(terms...)), nil
	case float64:
		return floatTerm(x, at)
	case json.Number:
		if _, err := strconv.ParseFloat(string(x), 64); err != nil {
			return nil, fmt.Errorf("%s: invalid number %q", at, string(x))
		}
		return ast.NumberTerm(x), nil
	case int:
		return ast.InternedTerm(x), nil
	case int64:
		return ast.InternedTerm(x), nil
	case time.Time:
		return ast.StringTerm(timeString(x)), nil
	}
	return otherTerm(x, at)
}

// otherTerm converts the less common shapes: other integer widths,
// float32, typed string maps and slices.
func otherTerm(x any, at string) (*ast.Term, error) {
	switch x := x.(type) {
	case int32:
		return ast.InternedTerm(int(x)), nil
	case uint64:
		return ast.UIntNumberTerm(x), nil
	case uint:
		return ast.UIntNumberTerm(uint64(x)), nil
	case uint32:
		return ast.InternedTerm(int(x)), nil
	case float32:
		return floatTerm(float64(x), at)
	case []string:
		terms := make([]*ast.Term, len(x))
		for i, s := range x {
			terms[i] = ast.InternedTerm(s)
		}
		return ast.NewTerm(ast.NewArray(terms...)), nil
	case map[string]string:
		obj := ast.NewObjectWithCapacity(len(x))
		for k, v := range x {
			obj.Insert(ast.InternedTerm(k), ast.InternedTerm(v))
		}
		return ast.NewTerm(obj), nil
	case []map[string]any:
		terms := make([]*ast.Term, len(x))
		for i, m := range x {
			t, err := term(m, at+"["+strconv.Itoa(i)+"]")
			if err != nil {
				return nil, err
			}
			terms[i] = t
		}
		return ast.NewTerm(ast.NewArray(terms...)), nil
	}
	return nil, fmt.Errorf("%s: unsupported value of type %T", at, x)
}

func floatTerm(f float64, at string) (*ast.Term, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("%s: %v is not a JSON number", at, f)
	}
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return ast.InternedTerm(int(f)), nil
	}
	return ast.FloatNumberTerm(f), nil
}

// timeString renders a YAML timestamp the way it was most likely written: a
// date alone when it has no time of day.
func timeString(t time.Time) string {
	if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0 {
		return t.Format(time.DateOnly)
	}
	return t.Format(time.RFC3339Nano)
}

// describe names the JSON type of a decoded Go value for messages.
func describe(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return "a number"
}

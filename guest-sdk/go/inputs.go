package weft

import (
	"encoding/json"
	"fmt"
)

// Inputs are the values fed to one compute call: one per fed input, several for a
// Multiple input (in manifest order). An input nothing feeds is absent.
type Inputs struct{ fed []named }

// Value is the (first) value fed to name, and whether there is one.
func (in Inputs) Value(name string) (Value, bool) {
	for _, n := range in.fed {
		if n.name == name {
			return n.value, true
		}
	}
	return nil, false
}

// Has reports whether anything feeds name.
func (in Inputs) Has(name string) bool {
	_, ok := in.Value(name)
	return ok
}

// Many is every value fed to name, in order: the values of a Multiple input.
func (in Inputs) Many(name string) []Value {
	var out []Value
	for _, n := range in.fed {
		if n.name == name {
			out = append(out, n.value)
		}
	}
	return out
}

// Text is the text fed to name; false when absent or not text.
func (in Inputs) Text(name string) (string, bool) {
	v, ok := in.Value(name)
	t, ok2 := v.(Text)
	return string(t), ok && ok2
}

// Int is the integer fed to name; false when absent or not an integer.
func (in Inputs) Int(name string) (int64, bool) {
	v, ok := in.Value(name)
	i, ok2 := v.(Int)
	return int64(i), ok && ok2
}

// Float is the float fed to name, an integer widened; false when absent or neither.
func (in Inputs) Float(name string) (float64, bool) {
	v, _ := in.Value(name)
	switch v := v.(type) {
	case Float:
		return float64(v), true
	case Int:
		return float64(v), true
	}
	return 0, false
}

// Bool is the boolean fed to name; false, false when absent or not a boolean.
func (in Inputs) Bool(name string) (value, ok bool) {
	v, present := in.Value(name)
	b, ok2 := v.(Bool)
	return bool(b), present && ok2
}

// Bytes is the binary data fed to name; false when absent or not bytes.
func (in Inputs) Bytes(name string) ([]byte, bool) {
	v, ok := in.Value(name)
	b, ok2 := v.(Bytes)
	return []byte(b), ok && ok2
}

// JSON decodes the JSON document fed to name into v (a pointer), as encoding/json
// does. It reports false when the input is absent; an error (a *Failure) when the value
// is not JSON or does not fit v.
func (in Inputs) JSON(name string, v any) (bool, error) {
	value, ok := in.Value(name)
	if !ok {
		return false, nil
	}
	doc, isJSON := value.(JSON)
	if !isJSON {
		return true, &Failure{Message: fmt.Sprintf("input `%s` is %s, not json", name, value.Type())}
	}
	if err := json.Unmarshal([]byte(doc), v); err != nil {
		return true, &Failure{Message: fmt.Sprintf("input `%s` does not fit a %T: %v", name, v, err)}
	}
	return true, nil
}

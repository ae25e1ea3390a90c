package weft

import (
	"encoding/json"
	"fmt"
	"reflect"
)

// Value is a value that flows between solids: one of Null, Bool, Int, Float, Text,
// Bytes or JSON (the contract's `value` variant).
type Value interface {
	// Type is the value's own type (never TypeAny).
	Type() ValueType
}

type (
	// Null is the absence of a value.
	Null struct{}
	// Bool is a boolean.
	Bool bool
	// Int is a signed 64-bit integer.
	Int int64
	// Float is a 64-bit IEEE float.
	Float float64
	// Text is UTF-8 text.
	Text string
	// Bytes is opaque binary data.
	Bytes []byte
	// JSON is a JSON document, as text; the host checks that it parses. As metadata it
	// is a JSON entry.
	JSON string
)

func (Null) Type() ValueType  { return TypeNothing }
func (Bool) Type() ValueType  { return TypeBool }
func (Int) Type() ValueType   { return TypeInt }
func (Float) Type() ValueType { return TypeFloat }
func (Text) Type() ValueType  { return TypeText }
func (Bytes) Type() ValueType { return TypeBytes }
func (JSON) Type() ValueType  { return TypeJSON }

// ValueType is the declared type of an input or output (the contract's `value-type`).
type ValueType uint8

// The declared types, in the contract's order.
const (
	TypeAny     ValueType = iota // any value, null included
	TypeNothing                  // only null: an output used for ordering alone
	TypeBool
	TypeInt
	TypeFloat // an Int is accepted and widened
	TypeText
	TypeBytes
	TypeJSON
)

func (t ValueType) String() string {
	names := [...]string{"any", "nothing", "boolean", "integer", "float", "text", "bytes", "json"}
	if int(t) < len(names) {
		return names[t]
	}
	return fmt.Sprintf("ValueType(%d)", uint8(t))
}

// ToValue converts a Go value to a Value for an output or input declared as t:
//
//   - a Value is sent as it is;
//   - nil is Null;
//   - for TypeJSON, anything else is encoded with encoding/json;
//   - bool is Bool; any integer is Int (Float when t is TypeFloat); float32 and float64
//     are Float; string is Text; []byte is Bytes; json.RawMessage is JSON;
//   - for TypeAny, anything else (maps, slices, structs) is encoded as JSON.
func ToValue(v any, t ValueType) (Value, error) {
	switch v := v.(type) {
	case nil:
		return Null{}, nil
	case Value:
		return v, nil
	case json.RawMessage:
		return JSON(v), nil
	}
	if t == TypeJSON {
		return marshal(v)
	}
	r := reflect.ValueOf(v)
	switch r.Kind() {
	case reflect.Bool:
		return Bool(r.Bool()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if t == TypeFloat {
			return Float(float64(r.Int())), nil
		}
		return Int(r.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if t == TypeFloat {
			return Float(float64(r.Uint())), nil
		}
		return Int(int64(r.Uint())), nil
	case reflect.Float32, reflect.Float64:
		return Float(r.Float()), nil
	case reflect.String:
		return Text(r.String()), nil
	case reflect.Slice:
		if r.Type().Elem().Kind() == reflect.Uint8 {
			return Bytes(r.Bytes()), nil
		}
	}
	if t == TypeAny {
		return marshal(v)
	}
	return nil, fmt.Errorf("cannot send a %T as a %s value", v, t)
}

func marshal(v any) (Value, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("cannot encode a %T as JSON: %w", v, err)
	}
	return JSON(data), nil
}

// Package weft writes weft solids in Go.
//
// A solid is one small file of package main: it registers its definition and its
// compute function in an init function.
//
//	package main
//
//	import "weft.dev/weft"
//
//	func init() {
//		weft.Register(weft.Solid{
//			Name:        "salutation",
//			Description: "Extends a greeting.",
//			Inputs:      []weft.Input{{Name: "greeting", Type: weft.TypeText}},
//			Outputs:     []weft.Output{{Name: "result", Type: weft.TypeText}},
//		}, compute)
//	}
//
//	func compute(ctx *weft.Context, in weft.Inputs) (weft.Outputs, error) {
//		greeting, _ := in.Text("greeting")
//		ctx.Info("extending " + greeting)
//		return weft.Outputs{"result": greeting + " Dagster!"}, nil
//	}
//
//	func main() {}
//
// The file is built with GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared into a
// core module that weft makes a component of the contract's `solid` world.
//
// Returned outputs are sent in the order the solid declares them; an optional output
// whose value is nil (or missing) is left unproduced. Returning a *Failure fails the
// step with its message, retryability and metadata; any other error fails it with the
// error's text, and a panic fails it too (its stack goes to stderr).
//
// Values (see ToValue for the conversions of plain Go values):
//
//	weft type   Value   plain Go values          Inputs accessor
//	---------   -----   ----------------------   ---------------
//	nothing     Null    nil                      Has
//	boolean     Bool    bool                     Bool
//	integer     Int     int, int64, uint32, ...  Int
//	float       Float   float64, float32         Float (widens an Int)
//	text        Text    string                   Text
//	bytes       Bytes   []byte                   Bytes
//	json        JSON    any encodable value      JSON (decodes)
//	any         Value   any of the above         Value
//
// An optional input is one whose accessor reports false; a Multiple (fan-in) input is
// read with Many. Metadata values: string is text, URL, Markdown, Path and JSON are
// those kinds, integers, floats and bools are theirs, and anything else is JSON.
//
// Resources are declared in Solid.Resources and reached by name: weft.KeyValue("cache"),
// weft.SQL("database"), weft.Secrets("vault"). A *ResourceError returned from compute
// fails the step, retryably when the backend was unavailable.
//
// README.md says how a solid is built and made a component, and why the module
// exports cabi_realloc_adapter.
package weft

import (
	"fmt"
	"os"
	"runtime/debug"
	"slices"
)

// Solid is a solid's definition, what the host reads with `describe`.
type Solid struct {
	// Name is a lowercase identifier such as hello_world.
	Name        string
	Description string
	// Version is part of the key that memoizes results; "1" when empty.
	Version string
	Inputs  []Input
	Outputs []Output
	// ConfigSchema is a JSON Schema, as text, for the solid's config; empty for none.
	ConfigSchema string
	Resources    []Resource
	// Tags are free-form key-value pairs, kept in order.
	Tags []Tag
}

// Input is an input a solid declares.
type Input struct {
	Name        string
	Description string
	Type        ValueType
	// Optional lets the step run when nothing feeds the input.
	Optional bool
	// Multiple takes any number of values (fan-in), read with Inputs.Many.
	Multiple bool
}

// Output is an output a solid declares.
type Output struct {
	Name        string
	Description string
	Type        ValueType
	// Optional lets the solid leave the output unproduced.
	Optional bool
}

// Tag is a free-form key-value tag.
type Tag struct{ Key, Value string }

// Resource is a resource the solid uses, by the name a mode binds it under.
type Resource struct {
	Name string
	Kind ResourceKind
}

// ResourceKind is what a resource offers.
type ResourceKind uint8

const (
	KindKeyValue ResourceKind = iota // reached with KeyValue
	KindSQL                          // reached with SQL
	KindHTTP                         // outbound HTTP (wasi:http; no Go client here)
	KindSecrets                      // reached with Secrets
)

func (s Solid) version() string {
	if s.Version == "" {
		return "1"
	}
	return s.Version
}

// ComputeFunc runs the solid once per step attempt.
type ComputeFunc func(ctx *Context, in Inputs) (Outputs, error)

// Outputs are the outputs compute returns, by name; see ToValue for what a value may be.
type Outputs map[string]any

var (
	theSolid   *Solid
	theCompute ComputeFunc
)

// Register makes s, computed by compute, the solid of this module. Call it once, from
// an init function.
func Register(s Solid, compute ComputeFunc) {
	if theSolid != nil {
		panic("weft: Register called twice")
	}
	theSolid, theCompute = &s, compute
}

func registered() *Solid {
	if theSolid == nil {
		panic("weft: no solid registered: call weft.Register from an init function")
	}
	return theSolid
}

func (s *Solid) output(name string) (Output, bool) {
	i := slices.IndexFunc(s.Outputs, func(o Output) bool { return o.Name == name })
	if i < 0 {
		return Output{Name: name, Type: TypeAny}, false
	}
	return s.Outputs[i], true
}

// named is a value with its input or output name.
type named struct {
	name  string
	value Value
}

// run calls the compute function and converts what it returns.
func run(fed []named) (out []named, failure *Failure) {
	s := registered()
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(os.Stderr, "panic: %v\n\n%s", r, debug.Stack())
			out, failure = nil, &Failure{Message: fmt.Sprintf("panic: %v", r)}
		}
	}()
	returned, err := theCompute(&Context{solid: s}, Inputs{fed: fed})
	if err != nil {
		return nil, asFailure(err)
	}
	// Declared outputs first, in order; then any others, sorted, for the host to refuse.
	names := make([]string, 0, len(returned))
	for _, o := range s.Outputs {
		if _, ok := returned[o.Name]; ok {
			names = append(names, o.Name)
		}
	}
	var extra []string
	for name := range returned {
		if _, declared := s.output(name); !declared {
			extra = append(extra, name)
		}
	}
	slices.Sort(extra)
	for _, name := range append(names, extra...) {
		o, _ := s.output(name)
		v := returned[name]
		if v == nil && o.Optional {
			continue
		}
		value, err := ToValue(v, o.Type)
		if err != nil {
			return nil, &Failure{Message: fmt.Sprintf("output `%s`: %v", name, err)}
		}
		out = append(out, named{name, value})
	}
	return out, nil
}

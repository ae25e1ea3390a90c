package weft

// The bindings of the weft:solid@0.1.0 contract, written by hand after the component
// model's canonical ABI (what `wit-bindgen c` would generate for wit/solid.wit).
//
// The core module this package builds into is a wasip1 reactor; `wit-component` turns
// it into a component of the `solid` world. Its imports are the contract's functions,
// module `weft:solid/<interface>@0.1.0`, field the WIT name; its exports are
// `weft:solid/guest@0.1.0#describe`, `...#compute`, their `cabi_post_` functions,
// `cabi_realloc`, `cabi_realloc_adapter` (abi_memory.go) and, from Go itself, `memory`
// and `_initialize`. Strings passed to imports use Go's own `string` parameters, which
// //go:wasmimport flattens to (ptr, len) as the canonical ABI does.
//
// Flattening: a function whose parameters flatten to at most 16 core values takes them
// flat; every result here but `attempt` flattens to more than one value, so an import
// takes a trailing pointer to a return area the host fills in, and an export returns a
// pointer to its result in linear memory. Layouts (size/align, field offsets):
//
//	string, list<T>        8/4: ptr@0 len@4
//	value                  16/8: disc u8@0, payload@8 (bool u8, s64, f64, string, list)
//	named-value            24/8: name@0 value@8
//	metadata-value         16/8: disc u8@0, payload@8
//	metadata-entry         24/8: label@0 value@8
//	input-def              20/4: name@0 description@8 type u8@16 optional@17 multiple@18
//	output-def             20/4: name@0 description@8 type u8@16 optional@17
//	resource-need          12/4: name@0 kind u8@8
//	tuple<string,string>   16/4
//	solid-def              68/4: name@0 description@8 version@16 inputs@24 outputs@32
//	                             config-schema option<string>@40 (disc@40 string@44)
//	                             resources@52 tags@60
//	result<list<named-value>, failure> 24/4: disc@0, ok list@4 | failure@4
//	failure                20/4: message@0 retryable u8@8 metadata@12
//	resource-error         12/4: disc u8@0 string@4
//	sql-value              16/8: disc u8@0 payload@8
//	statement              16/4: sql@0 params@8
//
// Go's wasm port has 64-bit pointers but a 32-bit linear memory: every address handed
// to the host is a uint32. Go's collector does not move heap objects, so memory stays
// where it is while something references it: every buffer built for the host, and every
// block the host allocates with cabi_realloc, is kept in `pinned` until the call that
// needs it is over. Nothing handed to the host lives on a goroutine stack (stacks move
// when they grow, and the host may call cabi_realloc, Go code, in the middle of an
// import).

import "unsafe"

// ---- exports ----

var describeMark, computeMark int

// exportDescribe is the contract's `describe`: it returns a pointer to a solid-def.
//
//go:wasmexport weft:solid/guest@0.1.0#describe
func exportDescribe() unsafe.Pointer {
	describeMark = mark()
	s := registered()
	d := alloc(68)
	stString(d, 0, s.Name)
	stString(d, 8, s.Description)
	stString(d, 16, s.version())
	ins := stList(d, 24, len(s.Inputs), 20)
	for i, in := range s.Inputs {
		e := unsafe.Add(ins, uint32(i)*20)
		stString(e, 0, in.Name)
		stString(e, 8, in.Description)
		st8(e, 16, uint8(in.Type))
		st8(e, 17, b2u(in.Optional))
		st8(e, 18, b2u(in.Multiple))
	}
	outs := stList(d, 32, len(s.Outputs), 20)
	for i, out := range s.Outputs {
		e := unsafe.Add(outs, uint32(i)*20)
		stString(e, 0, out.Name)
		stString(e, 8, out.Description)
		st8(e, 16, uint8(out.Type))
		st8(e, 17, b2u(out.Optional))
	}
	if s.ConfigSchema != "" {
		st8(d, 40, 1)
		stString(d, 44, s.ConfigSchema)
	}
	res := stList(d, 52, len(s.Resources), 12)
	for i, r := range s.Resources {
		e := unsafe.Add(res, uint32(i)*12)
		stString(e, 0, r.Name)
		st8(e, 8, uint8(r.Kind))
	}
	tags := stList(d, 60, len(s.Tags), 16)
	for i, t := range s.Tags {
		e := unsafe.Add(tags, uint32(i)*16)
		stString(e, 0, t.Key)
		stString(e, 8, t.Value)
	}
	return d
}

//go:wasmexport cabi_post_weft:solid/guest@0.1.0#describe
func postDescribe(unsafe.Pointer) { release(describeMark) }

// exportCompute is the contract's `compute`: it takes the inputs as a list of
// named-value and returns a pointer to a result<list<named-value>, failure>.
//
//go:wasmexport weft:solid/guest@0.1.0#compute
func exportCompute(list unsafe.Pointer, n uint32) unsafe.Pointer {
	base := addr(list)
	fed := make([]named, n)
	for i := range n {
		e := base + i*24
		fed[i] = named{liftStringAt(e, 0), liftValue(e, 8)}
	}
	// The host's blocks are copied out; let them go.
	release(0)
	computeMark = mark()

	outputs, failure := run(fed)
	r := alloc(24)
	if failure != nil {
		st8(r, 0, 1)
		stString(r, 4, failure.Message)
		st8(r, 12, b2u(failure.Retryable))
		stMetadata(r, 16, failure.Metadata)
		return r
	}
	elems := stList(r, 4, len(outputs), 24)
	for i, o := range outputs {
		e := unsafe.Add(elems, uint32(i)*24)
		stString(e, 0, o.name)
		stValue(e, 8, o.value)
	}
	return r
}

//go:wasmexport cabi_post_weft:solid/guest@0.1.0#compute
func postCompute(unsafe.Pointer) { release(computeMark) }

// ---- imports: context ----

//go:wasmimport weft:solid/context@0.1.0 log
func importLog(level uint32, message string)

//go:wasmimport weft:solid/context@0.1.0 run-id
func importRunID(ret unsafe.Pointer)

//go:wasmimport weft:solid/context@0.1.0 step-key
func importStepKey(ret unsafe.Pointer)

//go:wasmimport weft:solid/context@0.1.0 attempt
func importAttempt() uint32

//go:wasmimport weft:solid/context@0.1.0 partition-key
func importPartitionKey(ret unsafe.Pointer)

//go:wasmimport weft:solid/context@0.1.0 config
func importConfig(ret unsafe.Pointer)

//go:wasmimport weft:solid/context@0.1.0 yield-output
func importYieldOutput(name string, disc uint32, a uint64, b uint32, ret unsafe.Pointer)

//go:wasmimport weft:solid/context@0.1.0 report-expectation
func importReportExpectation(success bool, label string, hasDescription bool, description string, metadata unsafe.Pointer, n uint32)

//go:wasmimport weft:solid/context@0.1.0 report-materialization
func importReportMaterialization(assetKey string, hasDescription bool, description string, metadata unsafe.Pointer, n uint32)

// stringCall runs an import that returns a string into the return area.
func stringCall(f func(unsafe.Pointer)) string {
	m := mark()
	defer release(m)
	f(retPtr())
	ret := addr(retPtr())
	return liftStringAt(ret, 0)
}

func callPartitionKey() (string, bool) {
	m := mark()
	defer release(m)
	importPartitionKey(retPtr())
	ret := addr(retPtr())
	if ld8(ret, 0) == 0 {
		return "", false
	}
	return liftStringAt(ret, 4), true
}

// callYieldOutput returns the host's refusal, if any.
func callYieldOutput(name string, v Value) (string, bool) {
	m := mark()
	defer release(m)
	disc, a, b := flatValue(v)
	importYieldOutput(name, disc, a, b, retPtr())
	ret := addr(retPtr())
	if ld8(ret, 0) == 0 {
		return "", true
	}
	return liftStringAt(ret, 4), false
}

func callReportExpectation(e Expectation) {
	m := mark()
	defer release(m)
	meta, n := metadataList(e.Metadata)
	importReportExpectation(e.Success, e.Label, e.Description != "", e.Description, meta, n)
}

func callReportMaterialization(mat Materialization) {
	m := mark()
	defer release(m)
	meta, n := metadataList(mat.Metadata)
	importReportMaterialization(mat.AssetKey, mat.Description != "", mat.Description, meta, n)
}

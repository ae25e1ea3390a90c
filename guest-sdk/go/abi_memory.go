package weft

// Linear memory for the bindings: the allocators the host and the WASI adapter call,
// loads and stores at canonical ABI offsets, and the lowering of values and metadata.
// See abi.go for the layouts.

import (
	"math"
	"unsafe"
)

// pinned keeps alive what the host may read or write; see release.
var pinned []unsafe.Pointer

// retArea is the return area of every import call: fixed, in the data segment, with
// room for the largest result (24 bytes) and 8-byte alignment.
var retArea [4]uint64

func retPtr() unsafe.Pointer { return unsafe.Pointer(&retArea) }

// alloc returns size zeroed bytes aligned to 8 (enough for any canonical ABI type),
// pinned until release.
func alloc(size uint32) unsafe.Pointer {
	words := make([]uint64, (size+7)/8+1)
	p := unsafe.Pointer(&words[0])
	pinned = append(pinned, p)
	return p
}

// mark and release bound the lifetime of pinned memory: everything pinned after mark
// is released (left to the collector).
func mark() int { return len(pinned) }

func release(m int) {
	clear(pinned[m:])
	pinned = pinned[:m]
}

// cabiRealloc is the canonical ABI allocator the host uses to place strings and lists
// in this module's memory (the inputs of compute, the results of imports).
//
//go:wasmexport cabi_realloc
func cabiRealloc(old unsafe.Pointer, oldSize, align, newSize uint32) unsafe.Pointer {
	p := alloc(newSize)
	if old != nil && oldSize > 0 {
		copy(unsafe.Slice((*byte)(p), newSize), unsafe.Slice((*byte)(old), min(oldSize, newSize)))
	}
	return p
}

// adapterArena is the memory of the WASI preview 1 adapter that `wit-component` links
// in: its stack and its state, a 64 KiB page each, asked for on its first call, which
// comes while the Go runtime is still starting (a clock read), before Go can allocate.
// The adapter must not take pages with memory.grow either: Go's runtime assumes it is
// the only one growing linear memory and hands out grown pages as its own heap, so the
// adapter's stack and state would end up under Go objects. A static array in Go's data
// segment is memory Go never reuses.
var adapterArena [4 << 16 / 8]uint64

var adapterUsed uintptr

// cabiReallocAdapter is the allocator `wit-component` imports into the adapter (the
// export `cabi_realloc_adapter` takes precedence over `cabi_realloc` for that). It is
// called before the Go runtime is initialized, so it must not allocate or grow its
// stack: a bump allocator over adapterArena.
//
//go:wasmexport cabi_realloc_adapter
//go:nosplit
func cabiReallocAdapter(old unsafe.Pointer, oldSize, align, newSize uint32) unsafe.Pointer {
	off := (adapterUsed + uintptr(align) - 1) &^ (uintptr(align) - 1)
	if old != nil || off+uintptr(newSize) > unsafe.Sizeof(adapterArena) {
		return nil // the adapter traps on a failed allocation
	}
	adapterUsed = off + uintptr(newSize)
	return unsafe.Add(unsafe.Pointer(&adapterArena), off)
}

func addr(p unsafe.Pointer) uint32 { return uint32(uintptr(p)) }

// at is the address base+off as a pointer. The uintptr round trip is sound here: the
// memory is linear memory the collector does not move.
func at(base uint32, off uint32) unsafe.Pointer { return unsafe.Pointer(uintptr(base + off)) }

func ld8(base, off uint32) uint8   { return *(*uint8)(at(base, off)) }
func ld32(base, off uint32) uint32 { return *(*uint32)(at(base, off)) }
func ld64(base, off uint32) uint64 { return *(*uint64)(at(base, off)) }

func st8(p unsafe.Pointer, off uint32, v uint8)   { *(*uint8)(unsafe.Add(p, off)) = v }
func st32(p unsafe.Pointer, off uint32, v uint32) { *(*uint32)(unsafe.Add(p, off)) = v }
func st64(p unsafe.Pointer, off uint32, v uint64) { *(*uint64)(unsafe.Add(p, off)) = v }

func b2u(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// liftString copies the string at ptr/len out of linear memory.
func liftString(ptr, n uint32) string {
	if n == 0 {
		return ""
	}
	return string(unsafe.Slice((*byte)(at(ptr, 0)), n))
}

func liftBytes(ptr, n uint32) []byte {
	out := make([]byte, n)
	if n > 0 {
		copy(out, unsafe.Slice((*byte)(at(ptr, 0)), n))
	}
	return out
}

// liftStringAt reads the string (ptr@off, len@off+4) stored at base+off.
func liftStringAt(base, off uint32) string {
	return liftString(ld32(base, off), ld32(base, off+4))
}

// stString writes s as (ptr, len) at p+off, pinning its bytes.
func stString(p unsafe.Pointer, off uint32, s string) {
	data := unsafe.Pointer(unsafe.StringData(s))
	if data != nil {
		pinned = append(pinned, data)
	}
	st32(p, off, addr(data))
	st32(p, off+4, uint32(len(s)))
}

func stBytes(p unsafe.Pointer, off uint32, b []byte) {
	data := unsafe.Pointer(unsafe.SliceData(b))
	if data != nil {
		pinned = append(pinned, data)
	}
	st32(p, off, addr(data))
	st32(p, off+4, uint32(len(b)))
}

// bytesPtr is the address of b's bytes (pinned), for a list<u8> parameter.
func bytesPtr(b []byte) (unsafe.Pointer, uint32) {
	data := unsafe.Pointer(unsafe.SliceData(b))
	if data != nil {
		pinned = append(pinned, data)
	}
	return data, uint32(len(b))
}

// stList allocates n elements of size bytes, stores (ptr, n) at p+off and returns the
// elements' memory.
func stList(p unsafe.Pointer, off uint32, n int, size uint32) unsafe.Pointer {
	if n == 0 {
		st32(p, off, 0)
		st32(p, off+4, 0)
		return nil
	}
	elems := alloc(uint32(n) * size)
	st32(p, off, addr(elems))
	st32(p, off+4, uint32(n))
	return elems
}

// ---- values ----

// Discriminants of `value`, `value-type`, `metadata-value` and `sql-value`.
const (
	valNull, valBool, valInt, valFloat, valText, valBytes, valJSON = 0, 1, 2, 3, 4, 5, 6
)

// liftValue reads a `value` (16 bytes) at base+off.
func liftValue(base, off uint32) Value {
	switch ld8(base, off) {
	case valBool:
		return Bool(ld8(base, off+8) != 0)
	case valInt:
		return Int(int64(ld64(base, off+8)))
	case valFloat:
		return Float(math.Float64frombits(ld64(base, off+8)))
	case valText:
		return Text(liftStringAt(base, off+8))
	case valBytes:
		return Bytes(liftBytes(ld32(base, off+8), ld32(base, off+12)))
	case valJSON:
		return JSON(liftStringAt(base, off+8))
	}
	return Null{}
}

// stValue writes v as a `value` at p+off.
func stValue(p unsafe.Pointer, off uint32, v Value) {
	switch v := v.(type) {
	case Bool:
		st8(p, off, valBool)
		st8(p, off+8, b2u(bool(v)))
	case Int:
		st8(p, off, valInt)
		st64(p, off+8, uint64(v))
	case Float:
		st8(p, off, valFloat)
		st64(p, off+8, math.Float64bits(float64(v)))
	case Text:
		st8(p, off, valText)
		stString(p, off+8, string(v))
	case Bytes:
		st8(p, off, valBytes)
		stBytes(p, off+8, v)
	case JSON:
		st8(p, off, valJSON)
		stString(p, off+8, string(v))
	default:
		st8(p, off, valNull)
	}
}

// flatValue flattens v to the core values (disc i32, i64, i32) of a `value` parameter.
func flatValue(v Value) (disc uint32, a uint64, b uint32) {
	switch v := v.(type) {
	case Bool:
		return valBool, uint64(b2u(bool(v))), 0
	case Int:
		return valInt, uint64(v), 0
	case Float:
		return valFloat, math.Float64bits(float64(v)), 0
	case Text:
		p := unsafe.Pointer(unsafe.StringData(string(v)))
		pinned = append(pinned, p)
		return valText, uint64(addr(p)), uint32(len(v))
	case Bytes:
		p, n := bytesPtr(v)
		return valBytes, uint64(addr(p)), n
	case JSON:
		p := unsafe.Pointer(unsafe.StringData(string(v)))
		pinned = append(pinned, p)
		return valJSON, uint64(addr(p)), uint32(len(v))
	}
	return valNull, 0, 0
}

// stMetadata writes the metadata list (entries of 24 bytes) at p+off.
func stMetadata(p unsafe.Pointer, off uint32, m Metadata) {
	elems := stList(p, off, len(m), 24)
	for i, e := range m {
		stEntry(unsafe.Add(elems, uint32(i)*24), e)
	}
}

// metadataList lowers m for a flat list<metadata-entry> parameter.
func metadataList(m Metadata) (unsafe.Pointer, uint32) {
	if len(m) == 0 {
		return nil, 0
	}
	elems := alloc(uint32(len(m)) * 24)
	for i, e := range m {
		stEntry(unsafe.Add(elems, uint32(i)*24), e)
	}
	return elems, uint32(len(m))
}

func stEntry(p unsafe.Pointer, e Entry) {
	stString(p, 0, e.Label)
	kind, text, bits := metadataValue(e.Value)
	st8(p, 8, kind)
	switch kind {
	case metaInteger, metaFloat:
		st64(p, 16, bits)
	case metaBoolean:
		st8(p, 16, uint8(bits))
	default:
		stString(p, 16, text)
	}
}

package weft

// The bindings of the contract's resource interfaces: key-value, sql and secrets. See
// abi.go for the conventions. Every function returns a result<T, resource-error>
// through the return area: disc u8@0, then the payload at T's alignment (4, or 8 for
// s64/u64), a resource-error being disc u8 + string.

import (
	"fmt"
	"math"
	"unsafe"
)

//go:wasmimport weft:solid/key-value@0.1.0 get
func importKVGet(store, key string, ret unsafe.Pointer)

//go:wasmimport weft:solid/key-value@0.1.0 set
func importKVSet(store, key string, value unsafe.Pointer, n uint32, ret unsafe.Pointer)

//go:wasmimport weft:solid/key-value@0.1.0 delete
func importKVDelete(store, key string, ret unsafe.Pointer)

//go:wasmimport weft:solid/key-value@0.1.0 keys
func importKVKeys(store, prefix string, ret unsafe.Pointer)

//go:wasmimport weft:solid/key-value@0.1.0 increment
func importKVIncrement(store, key string, delta int64, ret unsafe.Pointer)

//go:wasmimport weft:solid/sql@0.1.0 query
func importSQLQuery(database, sql string, params unsafe.Pointer, n uint32, ret unsafe.Pointer)

//go:wasmimport weft:solid/sql@0.1.0 execute
func importSQLExecute(database, sql string, params unsafe.Pointer, n uint32, ret unsafe.Pointer)

//go:wasmimport weft:solid/sql@0.1.0 transaction
func importSQLTransaction(database string, statements unsafe.Pointer, n uint32, ret unsafe.Pointer)

//go:wasmimport weft:solid/secrets@0.1.0 get
func importSecretsGet(secrets, name string, ret unsafe.Pointer)

// resultError is the resource-error of the result in the return area, or nil when the
// result is ok. off is the payload's offset: 4, or 8 for a 64-bit ok payload.
func resultError(off uint32) *ResourceError {
	ret := addr(retPtr())
	if ld8(ret, 0) == 0 {
		return nil
	}
	return &ResourceError{Kind: ResourceErrorKind(ld8(ret, off)), Message: liftStringAt(ret, off+4)}
}

func callKVGet(store, key string) ([]byte, bool, error) {
	m := mark()
	defer release(m)
	importKVGet(store, key, retPtr())
	if err := resultError(4); err != nil {
		return nil, false, err
	}
	ret := addr(retPtr())
	if ld8(ret, 4) == 0 {
		return nil, false, nil
	}
	return liftBytes(ld32(ret, 8), ld32(ret, 12)), true, nil
}

func callKVSet(store, key string, value []byte) error {
	m := mark()
	defer release(m)
	p, n := bytesPtr(value)
	importKVSet(store, key, p, n, retPtr())
	return errOrNil(resultError(4))
}

func callKVDelete(store, key string) (bool, error) {
	m := mark()
	defer release(m)
	importKVDelete(store, key, retPtr())
	if err := resultError(4); err != nil {
		return false, err
	}
	return ld8(addr(retPtr()), 4) != 0, nil
}

func callKVKeys(store, prefix string) ([]string, error) {
	m := mark()
	defer release(m)
	importKVKeys(store, prefix, retPtr())
	if err := resultError(4); err != nil {
		return nil, err
	}
	ret := addr(retPtr())
	list, n := ld32(ret, 4), ld32(ret, 8)
	keys := make([]string, n)
	for i := range n {
		keys[i] = liftStringAt(list, i*8)
	}
	return keys, nil
}

func callKVIncrement(store, key string, delta int64) (int64, error) {
	m := mark()
	defer release(m)
	importKVIncrement(store, key, delta, retPtr())
	if err := resultError(8); err != nil {
		return 0, err
	}
	return int64(ld64(addr(retPtr()), 8)), nil
}

// Discriminants of `sql-value`.
const (
	sqlNull, sqlInteger, sqlFloat, sqlText, sqlBytes, sqlBoolean = 0, 1, 2, 3, 4, 5
)

// sqlParams lowers params to a list<sql-value> (16 bytes each): nil, integers, floats,
// strings, []byte and bools (and the Value types of those).
func sqlParams(params []any) (unsafe.Pointer, uint32, error) {
	if len(params) == 0 {
		return nil, 0, nil
	}
	elems := alloc(uint32(len(params)) * 16)
	for i, param := range params {
		e := unsafe.Add(elems, uint32(i)*16)
		v, err := ToValue(param, TypeAny)
		if err != nil {
			return nil, 0, err
		}
		switch v := v.(type) {
		case Null:
			st8(e, 0, sqlNull)
		case Int:
			st8(e, 0, sqlInteger)
			st64(e, 8, uint64(v))
		case Float:
			st8(e, 0, sqlFloat)
			st64(e, 8, math.Float64bits(float64(v)))
		case Text:
			st8(e, 0, sqlText)
			stString(e, 8, string(v))
		case Bytes:
			st8(e, 0, sqlBytes)
			stBytes(e, 8, v)
		case Bool:
			st8(e, 0, sqlBoolean)
			st8(e, 8, b2u(bool(v)))
		default:
			return nil, 0, fmt.Errorf("parameter $%d: a %T is not a SQL value", i+1, param)
		}
	}
	return elems, uint32(len(params)), nil
}

// liftSQLValue reads the sql-value at base+off as nil, int64, float64, string, []byte
// or bool.
func liftSQLValue(base, off uint32) any {
	switch ld8(base, off) {
	case sqlInteger:
		return int64(ld64(base, off+8))
	case sqlFloat:
		return math.Float64frombits(ld64(base, off+8))
	case sqlText:
		return liftStringAt(base, off+8)
	case sqlBytes:
		return liftBytes(ld32(base, off+8), ld32(base, off+12))
	case sqlBoolean:
		return ld8(base, off+8) != 0
	}
	return nil
}

func callSQLQuery(database, sql string, params []any) (*Rows, error) {
	m := mark()
	defer release(m)
	p, n, err := sqlParams(params)
	if err != nil {
		return nil, &ResourceError{Kind: Invalid, Message: err.Error()}
	}
	importSQLQuery(database, sql, p, n, retPtr())
	if err := resultError(4); err != nil {
		return nil, err
	}
	ret := addr(retPtr())
	cols, ncols := ld32(ret, 4), ld32(ret, 8)
	rows, nrows := ld32(ret, 12), ld32(ret, 16)
	out := &Rows{Columns: make([]string, ncols), Rows: make([][]any, nrows)}
	for i := range ncols {
		out.Columns[i] = liftStringAt(cols, i*8)
	}
	for r := range nrows {
		values, nvalues := ld32(rows, r*8), ld32(rows, r*8+4)
		row := make([]any, nvalues)
		for c := range nvalues {
			row[c] = liftSQLValue(values, c*16)
		}
		out.Rows[r] = row
	}
	return out, nil
}

func callSQLExecute(database, sql string, params []any) (uint64, error) {
	m := mark()
	defer release(m)
	p, n, err := sqlParams(params)
	if err != nil {
		return 0, &ResourceError{Kind: Invalid, Message: err.Error()}
	}
	importSQLExecute(database, sql, p, n, retPtr())
	if err := resultError(8); err != nil {
		return 0, err
	}
	return ld64(addr(retPtr()), 8), nil
}

func callSQLTransaction(database string, statements []Statement) ([]uint64, error) {
	m := mark()
	defer release(m)
	var elems unsafe.Pointer
	if len(statements) > 0 {
		elems = alloc(uint32(len(statements)) * 16)
	}
	for i, s := range statements {
		e := unsafe.Add(elems, uint32(i)*16)
		stString(e, 0, s.SQL)
		p, n, err := sqlParams(s.Params)
		if err != nil {
			return nil, &ResourceError{Kind: Invalid, Message: fmt.Sprintf("statement %d: %v", i+1, err)}
		}
		st32(e, 8, addr(p))
		st32(e, 12, n)
	}
	importSQLTransaction(database, elems, uint32(len(statements)), retPtr())
	if err := resultError(4); err != nil {
		return nil, err
	}
	ret := addr(retPtr())
	list, n := ld32(ret, 4), ld32(ret, 8)
	counts := make([]uint64, n)
	for i := range n {
		counts[i] = ld64(list, i*8)
	}
	return counts, nil
}

func callSecretsGet(secrets, name string) (string, error) {
	m := mark()
	defer release(m)
	importSecretsGet(secrets, name, retPtr())
	if err := resultError(4); err != nil {
		return "", err
	}
	return liftStringAt(addr(retPtr()), 4), nil
}

// errOrNil keeps a nil *ResourceError from becoming a non-nil error.
func errOrNil(err *ResourceError) error {
	if err == nil {
		return nil
	}
	return err
}

package weft

// Resources: each is reached by the name the solid declares it under (Solid.Resources)
// and a mode binds to a backend. A step may use only what its solid declares.

// ResourceErrorKind says why a resource call failed.
type ResourceErrorKind uint8

const (
	// Denied: the solid does not declare this resource under this name and kind.
	Denied ResourceErrorKind = iota
	// Invalid: the call was wrong (bad SQL, a wrong parameter, an unknown secret).
	Invalid
	// Unavailable: the backend failed or could not be reached; a retry may succeed.
	Unavailable
)

func (k ResourceErrorKind) String() string {
	return [...]string{"denied", "invalid", "unavailable"}[k]
}

// ResourceError is a failed resource call. Returned from compute, it fails the step,
// retryably when the backend was Unavailable.
type ResourceError struct {
	Kind    ResourceErrorKind
	Message string
}

func (e *ResourceError) Error() string {
	if e.Kind == Invalid {
		return e.Message
	}
	return e.Kind.String() + ": " + e.Message
}

// KeyValue is a key-value store resource, by name: weft.KeyValue("cache").
type KeyValue string

// Get is the value of key, and whether there is one.
func (kv KeyValue) Get(key string) ([]byte, bool, error) { return callKVGet(string(kv), key) }

// Set sets key to value, replacing any value it had.
func (kv KeyValue) Set(key string, value []byte) error { return callKVSet(string(kv), key, value) }

// Delete removes key and reports whether it existed.
func (kv KeyValue) Delete(key string) (bool, error) { return callKVDelete(string(kv), key) }

// Keys are the keys that start with prefix, in byte order.
func (kv KeyValue) Keys(prefix string) ([]string, error) { return callKVKeys(string(kv), prefix) }

// Increment adds delta to the integer at key (0 when absent), atomically, and returns
// the new value.
func (kv KeyValue) Increment(key string, delta int64) (int64, error) {
	return callKVIncrement(string(kv), key, delta)
}

// SQL is a SQL database resource, by name: weft.SQL("database"). Statements take
// parameters as $1, $2, ...: nil, integers, floats, strings, []byte and bools.
type SQL string

// Rows is the result of a query. Each value is nil, int64, float64, string, []byte or
// bool.
type Rows struct {
	Columns []string
	Rows    [][]any
}

// Maps is the rows as maps from column name to value.
func (r *Rows) Maps() []map[string]any {
	out := make([]map[string]any, len(r.Rows))
	for i, row := range r.Rows {
		out[i] = make(map[string]any, len(r.Columns))
		for c, name := range r.Columns {
			out[i][name] = row[c]
		}
	}
	return out
}

// Statement is one statement of a transaction.
type Statement struct {
	SQL    string
	Params []any
}

// Query runs a statement that returns rows.
func (db SQL) Query(sql string, params ...any) (*Rows, error) {
	return callSQLQuery(string(db), sql, params)
}

// Execute runs a statement and returns how many rows it changed.
func (db SQL) Execute(sql string, params ...any) (uint64, error) {
	return callSQLExecute(string(db), sql, params)
}

// Transaction runs statements in one transaction, all or none, and returns how many
// rows each changed.
func (db SQL) Transaction(statements ...Statement) ([]uint64, error) {
	return callSQLTransaction(string(db), statements)
}

// Secrets is a secrets resource, by name: weft.Secrets("vault"). The host masks the
// values in logs, compute logs and failures.
type Secrets string

// Get is the secret name.
func (s Secrets) Get(name string) (string, error) { return callSecretsGet(string(s), name) }

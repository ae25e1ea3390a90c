package weft

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
)

// Context is what the host offers a solid while compute runs. Its calls (and the
// resources') share one return area: make them from one goroutine at a time.
type Context struct{ solid *Solid }

// Level is the severity of a log message.
type Level uint8

const (
	LevelTrace Level = iota
	LevelDebug
	LevelInfo
	LevelWarn
	LevelError
)

// Log records message in the run's event log at level.
func (c *Context) Log(level Level, message string) { importLog(uint32(level), message) }

func (c *Context) Trace(message string) { c.Log(LevelTrace, message) }
func (c *Context) Debug(message string) { c.Log(LevelDebug, message) }
func (c *Context) Info(message string)  { c.Log(LevelInfo, message) }
func (c *Context) Warn(message string)  { c.Log(LevelWarn, message) }
func (c *Context) Error(message string) { c.Log(LevelError, message) }

// RunID is the id of the run this step belongs to.
func (c *Context) RunID() string { return stringCall(importRunID) }

// StepKey is the step's key: the solid instance's alias in the pipeline.
func (c *Context) StepKey() string { return stringCall(importStepKey) }

// Attempt is 1 for the first attempt of the step, 2 for the first retry, ...
func (c *Context) Attempt() int { return int(importAttempt()) }

// PartitionKey is the partition this run computes, if the pipeline is partitioned.
func (c *Context) PartitionKey() (string, bool) { return callPartitionKey() }

// ConfigJSON is the step's config as a JSON document, validated against the solid's
// schema with defaults filled in; `{}` when the solid takes no config.
func (c *Context) ConfigJSON() string { return stringCall(importConfig) }

// Config decodes the step's config into v (a pointer), as encoding/json does; the error
// is a *Failure naming the mismatch.
func (c *Context) Config(v any) error {
	if err := json.Unmarshal([]byte(c.ConfigJSON()), v); err != nil {
		return &Failure{Message: fmt.Sprintf("config does not fit a %T: %v", v, err)}
	}
	return nil
}

// YieldOutput produces output name now, so that it is recorded at once. The value is
// converted as ToValue does, for the output's declared type. The error (a *Failure)
// is the host's refusal: an undeclared output, a wrong type, one already produced.
func (c *Context) YieldOutput(name string, value any) error {
	out, _ := c.solid.output(name)
	v, err := ToValue(value, out.Type)
	if err != nil {
		return &Failure{Message: fmt.Sprintf("output `%s`: %v", name, err)}
	}
	if refusal, ok := callYieldOutput(name, v); !ok {
		return &Failure{Message: fmt.Sprintf("yield of output `%s` refused: %s", name, refusal)}
	}
	return nil
}

// Expectation is the result of a data-quality check (Dagster's ExpectationResult). A
// failed expectation is recorded; it does not fail the step.
type Expectation struct {
	Label   string
	Success bool
	// Description says what was checked; empty for none.
	Description string
	Metadata    Metadata
}

// Materialization records that the solid produced or updated an asset outside the
// host, such as a table or a file (Dagster's AssetMaterialization).
type Materialization struct {
	// AssetKey has `/` between path segments: warehouse/orders.
	AssetKey string
	// Description says what was materialized; empty for none.
	Description string
	Metadata    Metadata
}

// Expectation records the result of a data-quality check.
func (c *Context) Expectation(e Expectation) { callReportExpectation(e) }

// Materialization records that the solid materialized an asset.
func (c *Context) Materialization(m Materialization) { callReportMaterialization(m) }

// Failure fails the step when compute returns it as its error.
type Failure struct {
	Message string
	// Retryable is true when trying the step again might succeed.
	Retryable bool
	Metadata  Metadata
}

func (f *Failure) Error() string { return f.Message }

// asFailure is err as a *Failure: itself, a ResourceError (retryable when the backend
// was unavailable), or any other error's text.
func asFailure(err error) *Failure {
	var f *Failure
	if errors.As(err, &f) {
		return f
	}
	var r *ResourceError
	if errors.As(err, &r) {
		return &Failure{Message: err.Error(), Retryable: r.Kind == Unavailable}
	}
	return &Failure{Message: err.Error()}
}

// Metadata is an ordered list of labelled values, for failures, expectations and
// materializations, shown in this order:
//
//	weft.Metadata{{Label: "rows", Value: 3}, {Label: "docs", Value: weft.URL("https://...")}}
type Metadata []Entry

// Entry is one labelled metadata value. Value is a string (text), a URL, Markdown,
// Path or JSON, an integer, a float, a bool, or anything else (encoded as JSON).
type Entry struct {
	Label string
	Value any
}

type (
	// URL is a metadata value shown as a link.
	URL string
	// Markdown is a metadata value rendered as Markdown.
	Markdown string
	// Path is a metadata value naming a file.
	Path string
)

// Discriminants of `metadata-value`.
const (
	metaText, metaMarkdown, metaURL, metaPath, metaJSON, metaInteger, metaFloat, metaBoolean = 0, 1, 2, 3, 4, 5, 6, 7
)

// metadataValue classifies v: its case, and its text or its 64 bits.
func metadataValue(v any) (kind uint8, text string, bits uint64) {
	switch v := v.(type) {
	case URL:
		return metaURL, string(v), 0
	case Markdown:
		return metaMarkdown, string(v), 0
	case Path:
		return metaPath, string(v), 0
	case JSON:
		return metaJSON, string(v), 0
	case json.RawMessage:
		return metaJSON, string(v), 0
	}
	r := reflect.ValueOf(v)
	switch r.Kind() {
	case reflect.String:
		return metaText, r.String(), 0
	case reflect.Bool:
		return metaBoolean, "", uint64(b2u(r.Bool()))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return metaInteger, "", uint64(r.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return metaInteger, "", r.Uint()
	case reflect.Float32, reflect.Float64:
		return metaFloat, "", math.Float64bits(r.Float())
	}
	data, err := json.Marshal(v)
	if err != nil {
		return metaText, fmt.Sprint(v), 0
	}
	return metaJSON, string(data), 0
}

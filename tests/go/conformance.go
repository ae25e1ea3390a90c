// The Go twin of tests/python/conformance.py: every part of the contract, both ways.
package main

import (
	"fmt"
	"os"
	"strings"

	"weft.dev/weft"
)

const schema = `{"type": "object", "properties": {"shout": {"type": "boolean", "default": false}, ` +
	`"fail": {"type": "boolean", "default": false, "description": "Fail with metadata instead"}}}`

func init() {
	weft.Register(weft.Solid{
		Name:         "conformance",
		Description:  "Describes a text in every value type there is.",
		Version:      "3",
		ConfigSchema: schema,
		Inputs: []weft.Input{
			{Name: "text", Type: weft.TypeText, Description: "The text to describe"},
			{Name: "scale", Type: weft.TypeFloat, Optional: true, Description: "Multiplies the length"},
			{Name: "extras", Type: weft.TypeAny, Optional: true, Multiple: true, Description: "Anything else"},
		},
		Outputs: []weft.Output{
			{Name: "length", Type: weft.TypeInt, Description: "The text's length in bytes"},
			{Name: "scaled", Type: weft.TypeFloat},
			{Name: "summary", Type: weft.TypeJSON},
			{Name: "raw", Type: weft.TypeBytes},
			{Name: "flag", Type: weft.TypeBool},
			{Name: "nothing", Type: weft.TypeText, Optional: true, Description: "Never produced"},
			{Name: "echo", Type: weft.TypeText, Description: "The text, shouted if the config says so"},
		},
		Tags: []weft.Tag{{Key: "team", Value: "weft"}, {Key: "kind", Value: "test"}},
	}, describeText)
}

type config struct {
	Shout bool `json:"shout"`
	Fail  bool `json:"fail"`
}

// summary keeps its keys in this order in the JSON document.
type summary struct {
	Words  int  `json:"words"`
	Extras int  `json:"extras"`
	Shout  bool `json:"shout"`
}

func describeText(ctx *weft.Context, in weft.Inputs) (weft.Outputs, error) {
	var cfg config
	if err := ctx.Config(&cfg); err != nil {
		return nil, err
	}
	text, _ := in.Text("text")
	extras := in.Many("extras")
	if cfg.Fail {
		return nil, &weft.Failure{
			Message:   "asked to fail",
			Retryable: true,
			Metadata: weft.Metadata{
				{Label: "language", Value: "go"},
				{Label: "extras", Value: len(extras)},
			},
		}
	}
	shown := text
	if cfg.Shout {
		shown = strings.ToUpper(text)
	}
	if err := ctx.YieldOutput("echo", shown); err != nil {
		return nil, err
	}
	ctx.Info(fmt.Sprintf("run %s step %s", ctx.RunID(), ctx.StepKey()))
	partition, ok := ctx.PartitionKey()
	if !ok {
		partition = "None"
	}
	ctx.Warn("partition " + partition)
	fmt.Printf("to stdout: %s\n", shown)
	fmt.Fprintf(os.Stderr, "to stderr: %d extras\n", len(extras))
	ctx.Expectation(weft.Expectation{
		Label:       "not_empty",
		Success:     len(text) > 0,
		Description: "the text has at least one byte",
		Metadata:    weft.Metadata{{Label: "length", Value: len(text)}},
	})
	ctx.Materialization(weft.Materialization{
		AssetKey:    "tests/conformance",
		Description: "a pretend table",
		Metadata: weft.Metadata{
			{Label: "rows", Value: 3},
			{Label: "url", Value: weft.URL("https://example.com/t")},
		},
	})
	scale, ok := in.Float("scale")
	if !ok {
		scale = 1
	}
	return weft.Outputs{
		"length":  len(text),
		"scaled":  float64(len(text)) * scale,
		"summary": summary{len(strings.Fields(text)), len(extras), cfg.Shout},
		"raw":     []byte(text),
		"flag":    true,
		"nothing": nil,
	}, nil
}

func main() {}

// Publishes a report with the checksums other solids computed of it.
package main

import "weft.dev/weft"

func init() {
	weft.Register(weft.Solid{
		Name:        "publish",
		Description: "Publishes the report with its checksums.",
		Inputs: []weft.Input{
			{Name: "report", Type: weft.TypeText, Description: "The report"},
			{Name: "crc32", Type: weft.TypeInt, Description: "The report's CRC-32"},
			{Name: "fnv1a", Type: weft.TypeText, Description: "The report's FNV-1a hash, in hex"},
		},
		Outputs: []weft.Output{
			{Name: "published", Type: weft.TypeJSON, Description: "The report and its checksums"},
		},
	}, publish)
}

// published keeps its keys in this order in the JSON document.
type published struct {
	Report string `json:"report"`
	CRC32  int64  `json:"crc32"`
	FNV1a  string `json:"fnv1a"`
}

func publish(ctx *weft.Context, in weft.Inputs) (weft.Outputs, error) {
	report, _ := in.Text("report")
	crc, _ := in.Int("crc32")
	fnv, _ := in.Text("fnv1a")
	ctx.Info("publishing " + fnv)
	return weft.Outputs{"published": published{report, crc, fnv}}, nil
}

func main() {}

// {{name}}: greets whoever the config names.
package main

import "weft.dev/weft"

func init() {
	weft.Register(weft.Solid{
		Name:        "{{name}}",
		Description: "Greets whoever the config names.",
		ConfigSchema: `{"type": "object", "properties": ` +
			`{"name": {"type": "string", "default": "world", "description": "Who to greet"}}}`,
		Outputs: []weft.Output{{Name: "greeting", Type: weft.TypeText, Description: "The greeting"}},
	}, compute)
}

func compute(ctx *weft.Context, in weft.Inputs) (weft.Outputs, error) {
	var config struct {
		Name string `json:"name"`
	}
	if err := ctx.Config(&config); err != nil {
		return nil, err
	}
	ctx.Info("greeting " + config.Name)
	return weft.Outputs{"greeting": "Hello, " + config.Name + "!"}, nil
}

func main() {}

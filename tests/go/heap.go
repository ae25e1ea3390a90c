// A Go solid that grows its heap well past the initial linear memory while calling the
// WASI adapter (stdout, clocks) and the host between allocations. Built with the
// adapter allocating through memory.grow it traps ("assertion failed at adapter line
// ...") or Go dies ("grew heap, but no adequate free space found"): the regression test
// for the SDK's cabi_realloc_adapter.
package main

import (
	"fmt"
	"time"

	"weft.dev/weft"
)

func init() {
	weft.Register(weft.Solid{
		Name:         "heap",
		Description:  "Allocates mebibytes and reports a checksum of them.",
		ConfigSchema: `{"type": "object", "properties": {"mebibytes": {"type": "integer", "default": 64}}}`,
		Outputs:      []weft.Output{{Name: "checksum", Type: weft.TypeInt, Description: "The sum of every block's last byte"}},
	}, compute)
}

// kept holds every fourth block, so that the heap really grows.
var kept [][]byte

func compute(ctx *weft.Context, in weft.Inputs) (weft.Outputs, error) {
	var cfg struct {
		Mebibytes int `json:"mebibytes"`
	}
	if err := ctx.Config(&cfg); err != nil {
		return nil, err
	}
	start := time.Now()
	checksum := 0
	for i := range cfg.Mebibytes {
		block := make([]byte, 1<<20)
		for j := range block {
			block[j] = byte(i + j)
		}
		if i%4 == 0 {
			kept = append(kept, block)
		}
		checksum += int(block[len(block)-1])
		fmt.Printf("block %d\n", i)
	}
	ctx.Info(fmt.Sprintf("%d MiB in %s, run %s", cfg.Mebibytes, time.Since(start).Round(time.Millisecond), ctx.RunID()))
	return weft.Outputs{"checksum": checksum}, nil
}

func main() {}

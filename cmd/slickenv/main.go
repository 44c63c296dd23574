// Command slickenv is a CLI-first secrets manager: encrypted, versioned
// environments and safe secret rotation. See README.md.
package main

import (
	"context"
	"os"

	"github.com/slickenv/slickenv/internal/cli"
)

func main() {
	os.Exit(cli.Main(context.Background(), cli.NewApp(), os.Args[1:]))
}

// Command atrium is the Atrium developer portal: see `atrium --help`.
package main

import (
	"os"

	"github.com/atrium-dev/atrium/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}

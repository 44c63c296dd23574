// Command demoapp runs the example webhook receiver on its own:
//
//	WEBHOOK_SECRET=whsec_… demoapp --listen 127.0.0.1:8080
//	demoapp --env-file app.env --pid-file app.pid   # kill -HUP reloads app.env
//	DATABASE_URL=postgres://… demoapp --listen 127.0.0.1:8080   # the orders API
//
// slickenv runs the same code as `slickenv __demoapp`.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/slickenv/slickenv/examples/demoapp"
)

func main() {
	o := demoapp.Options{Stdout: os.Stdout, Stderr: os.Stderr}
	flag.StringVar(&o.Listen, "listen", "127.0.0.1:8080", "address to serve on (ignored when socket-activated)")
	flag.StringVar(&o.EnvFile, "env-file", "", "file holding WEBHOOK_SECRET[_PREVIOUS], re-read on SIGHUP (default: the environment)")
	flag.StringVar(&o.PidFile, "pid-file", "", "write the process id to this file")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "demoapp: unexpected argument %q\n", flag.Arg(0))
		os.Exit(2)
	}
	if err := demoapp.Run(context.Background(), o); err != nil {
		fmt.Fprintf(os.Stderr, "demoapp: error: %v\n", err)
		os.Exit(1)
	}
}

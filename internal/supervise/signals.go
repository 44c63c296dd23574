package supervise

import (
	"fmt"
	"os"
	"strings"
	"syscall"
)

// forwardedSignals are the signals a Supervisor passes to its child.
var forwardedSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2}

func isTerminating(sig os.Signal) bool {
	return sig == syscall.SIGINT || sig == syscall.SIGTERM || sig == syscall.SIGQUIT
}

func signalName(sig syscall.Signal) string {
	for name, s := range signalsByName {
		if s == sig {
			return "SIG" + name
		}
	}
	return sig.String()
}

var signalsByName = map[string]syscall.Signal{
	"HUP": syscall.SIGHUP, "USR1": syscall.SIGUSR1, "USR2": syscall.SIGUSR2,
	"INT": syscall.SIGINT, "TERM": syscall.SIGTERM, "QUIT": syscall.SIGQUIT,
}

// ParseSignal parses a signal name ("HUP", "SIGHUP", "hup") for
// ReloadSignal. It knows HUP, USR1, USR2, INT, TERM and QUIT.
func ParseSignal(name string) (syscall.Signal, error) {
	n := name
	if len(n) > 3 && (n[:3] == "SIG" || n[:3] == "sig") {
		n = n[3:]
	}
	for k, sig := range signalsByName {
		if strings.EqualFold(k, n) {
			return sig, nil
		}
	}
	return 0, fmt.Errorf("unknown signal %q (use HUP, USR1, USR2, INT, TERM or QUIT)", name)
}

//go:build linux

package supervise

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/slickenv/slickenv/internal/secret"
)

func TestEnviron(t *testing.T) {
	base := []string{"PATH=/bin", "A=old", "LISTEN_PID=1", "LISTEN_FDS=1"}
	pairs := []Pair{{"A", secret.New("new")}, {"B", secret.New("b")}}
	tests := []struct {
		name     string
		preserve bool
		want     []string
	}{
		{"override", false, []string{"A=new", "B=b", "PATH=/bin"}},
		{"preserve", true, []string{"B=b", "PATH=/bin", "A=old"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Environ(base, pairs, tt.preserve); !slices.Equal(got, tt.want) {
				t.Errorf("Environ = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestWriteEnvFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.env")
	if err := os.WriteFile(path, []byte("STALE=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteEnvFile(path, []Pair{{"A", secret.New("x y")}, {"B", secret.New("plain")}}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if want := "A='x y'\nB=plain\n"; string(data) != want {
		t.Errorf("file = %q, want %q", data, want)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	err := WriteEnvFile(path, []Pair{{"BAD KEY", secret.New("secret-value")}})
	if err == nil || strings.Contains(err.Error(), "secret-value") {
		t.Errorf("bad key: err = %v (want an error without the value)", err)
	}
}

func TestParseSignal(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want syscall.Signal
	}{{"HUP", syscall.SIGHUP}, {"SIGHUP", syscall.SIGHUP}, {"usr1", syscall.SIGUSR1}, {"sigusr2", syscall.SIGUSR2}} {
		if got, err := ParseSignal(tt.in); err != nil || got != tt.want {
			t.Errorf("ParseSignal(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	if _, err := ParseSignal("KILL"); err == nil {
		t.Error("ParseSignal(KILL) succeeded")
	}
}

func TestParseProcAddr(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"0100007F:1F90", "127.0.0.1:8080"},
		{"00000000000000000000000001000000:0050", "[::1]:80"},
		{"0000000000000000FFFF00000100007F:01BB", "[::ffff:127.0.0.1]:443"},
	} {
		got, err := parseProcAddr(tt.in)
		if err != nil || got != netip.MustParseAddrPort(tt.want) {
			t.Errorf("parseProcAddr(%q) = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "0100007F", "XY00007F:0050", "0100007F:FFFFF"} {
		if _, err := parseProcAddr(bad); err == nil {
			t.Errorf("parseProcAddr(%q) succeeded", bad)
		}
	}
}

func TestNewRejects(t *testing.T) {
	cmd := Options{Path: "/bin/true", Args: []string{"true"}}
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for name, o := range map[string]Options{
		"no command":             {},
		"listener without shim":  {Path: cmd.Path, Args: cmd.Args, Listener: ln},
		"signal without file":    {Path: cmd.Path, Args: cmd.Args, ReloadSignal: syscall.SIGHUP},
		"listener and reloading": {Path: cmd.Path, Args: cmd.Args, Listener: ln, Shim: []string{"x"}, ReloadSignal: syscall.SIGHUP, EnvFile: "f"},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}

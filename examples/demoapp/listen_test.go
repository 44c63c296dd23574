package demoapp

import (
	"net"
	"net/http"
	"strconv"
	"syscall"
	"testing"
)

func TestActivatedListener(t *testing.T) {
	env := func(vars map[string]string) func(string) string {
		return func(k string) string { return vars[k] }
	}
	const pid = 4242
	t.Run("not for us", func(t *testing.T) {
		for _, vars := range []map[string]string{
			{},
			{"LISTEN_FDS": "1"},
			{"LISTEN_FDS": "1", "LISTEN_PID": "1"},
			{"LISTEN_FDS": "0", "LISTEN_PID": strconv.Itoa(pid)},
		} {
			ln, err := activatedListener(env(vars), pid, 1<<20)
			if ln != nil || err != nil {
				t.Errorf("%v: got %v, %v; want nil, nil", vars, ln, err)
			}
		}
	})
	t.Run("several sockets", func(t *testing.T) {
		_, err := activatedListener(env(map[string]string{"LISTEN_FDS": "2", "LISTEN_PID": strconv.Itoa(pid)}), pid, 1<<20)
		if err == nil {
			t.Error("LISTEN_FDS=2 accepted")
		}
	})
	t.Run("one socket", func(t *testing.T) {
		// Stand in for systemd: a listening socket at some descriptor.
		orig, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer orig.Close()
		f, err := orig.(*net.TCPListener).File()
		if err != nil {
			t.Fatal(err)
		}
		// activatedListener closes the descriptor it is given: give it its own.
		fd, err := syscall.Dup(int(f.Fd()))
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		ln, err := activatedListener(env(map[string]string{"LISTEN_FDS": "1", "LISTEN_PID": strconv.Itoa(pid)}), pid, uintptr(fd))
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		t.Setenv("WEBHOOK_SECRET", newSecret)
		r, err := NewReceiver("")
		if err != nil {
			t.Fatal(err)
		}
		go http.Serve(ln, r.Handler())
		resp, err := http.Get("http://" + orig.Addr().String() + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("healthz through the activated socket = %d", resp.StatusCode)
		}
	})
}

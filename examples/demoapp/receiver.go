package demoapp

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// maxBodyBytes bounds a webhook body; larger requests get 413.
const maxBodyBytes = 1 << 20

// Receiver verifies signed webhooks. It is safe for concurrent use; Reload
// may run while requests are being served.
type Receiver struct {
	envFile string
	keys    atomic.Pointer[keySet]
	reload  sync.Mutex // serialises reloads so generations never go backwards
}

// NewReceiver returns a Receiver with the keys loaded from envFile (or from
// the process environment when envFile is ""). It fails when no
// WEBHOOK_SECRET can be read.
func NewReceiver(envFile string) (*Receiver, error) {
	r := &Receiver{envFile: envFile}
	if _, err := r.Reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// Reload reads the keys again and swaps them in atomically, returning how
// many are now accepted (1, or 2 during a rotation). On error the keys
// already loaded stay in use.
func (r *Receiver) Reload() (int, error) {
	r.reload.Lock()
	defer r.reload.Unlock()
	keys, err := readKeys(r.envFile)
	if err != nil {
		return 0, err
	}
	var generation int64 = 1
	if old := r.keys.Load(); old != nil {
		generation = old.generation + 1
	}
	r.keys.Store(&keySet{keys: keys, loadedAt: time.Now(), generation: generation})
	return len(keys), nil
}

// Health is the body of GET /healthz. It never holds key material.
type Health struct {
	Keys       int       `json:"keys"`       // accepted keys: 2 while a rotation is in progress
	LoadedAt   time.Time `json:"loaded_at"`  // when they were loaded
	Generation int64     `json:"generation"` // successful loads so far, from 1
}

// Health reports the key set in use.
func (r *Receiver) Health() Health {
	k := r.keys.Load()
	return Health{Keys: len(k.keys), LoadedAt: k.loadedAt, Generation: k.generation}
}

// Handler serves POST /webhook (200 when the X-Signature header is valid for
// the body under an accepted key, 401 otherwise) and GET /healthz.
func (r *Receiver) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /webhook", r.serveWebhook)
	mux.HandleFunc("GET /healthz", r.serveHealth)
	return mux
}

func (r *Receiver) serveWebhook(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, maxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	// Load the key set once: the whole request sees one generation.
	if !r.keys.Load().verify(body, req.Header.Get(SignatureHeader)) {
		http.Error(w, "invalid signature", http.StatusUnauthorized)
		return
	}
	// A real receiver would now act on the event, idempotently (senders
	// retry), and also reject stale timestamps to stop replays.
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "ok\n")
}

func (r *Receiver) serveHealth(w http.ResponseWriter, req *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(r.Health())
}

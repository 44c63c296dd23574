package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/slickenv/slickenv/examples/demoapp"
	"github.com/slickenv/slickenv/internal/dotenv"
)

// healthPoll is how often the follower asks the receiver which keys it holds.
const healthPoll = 100 * time.Millisecond

// follower plays the sender's operator. A real webhook sender switches to a
// new signing key only once every receiver accepts it; here that means: the
// receiver reports a new generation holding 2 keys, and the key in its env
// file is not the one the sender uses. Then the sender switches to that key.
// When the receiver is left holding a single key that is not the sender's
// (a rollback, or a window too short for the switch), the sender follows too,
// after whatever failures that caused.
type follower struct {
	baseURL string
	envFile string
	initial []byte // the key before the rotation
	sender  *sender
	note    func(format string, args ...any)
}

func (f *follower) run(ctx context.Context, generation int64) {
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(healthPoll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		h, err := health(ctx, client, f.baseURL)
		if err != nil || h.Generation == generation {
			continue
		}
		secret, err := readSecret(f.envFile)
		if err != nil {
			continue // try again at the next poll
		}
		generation = h.Generation
		if bytes.Equal(secret, f.sender.secretInUse()) {
			continue
		}
		label := newKey
		if bytes.Equal(secret, f.initial) {
			label = oldKey
		}
		switch {
		case h.Keys >= 2:
			f.sender.use(secret, label)
			f.note("sender: the app accepts both keys (generation %d); now signing with the %s key", h.Generation, label)
		case h.Keys == 1:
			f.sender.use(secret, label)
			f.note("sender: the app holds only the %s key (generation %d); following it", label, h.Generation)
		}
	}
}

// health fetches the receiver's /healthz.
func health(ctx context.Context, client *http.Client, baseURL string) (demoapp.Health, error) {
	var h demoapp.Health
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+"/healthz", nil)
	if err != nil {
		return h, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return h, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return h, fmt.Errorf("GET /healthz: %s", resp.Status)
	}
	err = json.NewDecoder(resp.Body).Decode(&h)
	return h, err
}

// readSecret reads WEBHOOK_SECRET from the env file the targets write.
func readSecret(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	entries, err := dotenv.Parse(data, dotenv.ParseOptions{Filename: path})
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.Key == demoapp.SecretVar && e.Value != "" {
			return []byte(e.Value), nil
		}
	}
	return nil, fmt.Errorf("%s: no %s", path, demoapp.SecretVar)
}

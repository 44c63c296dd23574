package demo

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/slickenv/slickenv/examples/demoapp"
)

// keyLabel names the key a request was signed with, for the counters.
type keyLabel string

const (
	oldKey keyLabel = "old"
	newKey keyLabel = "new"
)

// failure is one signed request the receiver did not accept.
type failure struct {
	At     time.Time
	Key    keyLabel
	Status int    // HTTP status; 0 when the request got no response
	Err    string // transport error, when Status is 0
}

func (f failure) String() string {
	what := fmt.Sprintf("HTTP %d %s", f.Status, http.StatusText(f.Status))
	if f.Status == 0 {
		what = f.Err
	}
	return fmt.Sprintf("%s  signed with the %s key: %s", f.At.Format("15:04:05.000"), f.Key, what)
}

// counts is a snapshot of the sender's counters.
type counts struct {
	Sent, OK, Failed int
	ByKey            map[keyLabel]int // sent, per signing key
	Key              keyLabel         // the key in use now
}

// sender posts signed webhooks at a steady rate, one at a time, and counts
// the answers.
type sender struct {
	url    string // .../webhook
	client *http.Client
	every  time.Duration

	mu       sync.Mutex
	secret   []byte
	key      keyLabel
	sent, ok int
	byKey    map[keyLabel]int
	failures []failure
}

func newSender(baseURL string, rate int, secret []byte) *sender {
	return &sender{
		url:    baseURL + "/webhook",
		client: &http.Client{Timeout: 5 * time.Second},
		every:  time.Second / time.Duration(rate),
		secret: secret,
		key:    oldKey,
		byKey:  map[keyLabel]int{},
	}
}

// use makes the sender sign from now on with secret, labelled key.
func (s *sender) use(secret []byte, key keyLabel) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secret, s.key = secret, key
}

func (s *sender) secretInUse() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.secret
}

// run sends until ctx is done.
func (s *sender) run(ctx context.Context) {
	tick := time.NewTicker(s.every)
	defer tick.Stop()
	for n := 1; ; n++ {
		s.send(ctx, n)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (s *sender) send(ctx context.Context, n int) {
	s.mu.Lock()
	secret, key := s.secret, s.key
	s.mu.Unlock()

	body := fmt.Appendf(nil, `{"id":"evt_%06d","type":"demo.ping","created":%q}`, n, time.Now().UTC().Format(time.RFC3339Nano))
	status, err := post(ctx, s.client, s.url, body, demoapp.Sign(secret, body))
	if err != nil && ctx.Err() != nil {
		return // stopped mid-request: not a request the receiver refused
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent++
	s.byKey[key]++
	if err == nil && status == http.StatusOK {
		s.ok++
		return
	}
	f := failure{At: time.Now(), Key: key, Status: status}
	if err != nil {
		f.Err = err.Error()
	}
	s.failures = append(s.failures, f)
}

func (s *sender) counts() counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := counts{Sent: s.sent, OK: s.ok, Failed: len(s.failures), Key: s.key, ByKey: map[keyLabel]int{}}
	for k, v := range s.byKey {
		c.ByKey[k] = v
	}
	return c
}

func (s *sender) failed() []failure {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]failure(nil), s.failures...)
}

// post sends one signed webhook and returns the status code.
func post(ctx context.Context, client *http.Client, url string, body []byte, signature string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(demoapp.SignatureHeader, signature)
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

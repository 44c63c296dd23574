package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Bounds of the per-request timeout of an HTTP check.
const (
	minRequestTimeout = time.Second
	maxRequestTimeout = 5 * time.Second
)

// bodyLimit is how much of a response body an HTTP check reads.
const bodyLimit = 1 << 20

type httpCheck struct {
	url        string
	display    string // url without a password
	every      time.Duration
	minSuccess float64
	timeout    time.Duration
	client     *http.Client
}

// NewHTTP returns a check that sends GET url every `every` over the whole
// window, the first request at once, and holds when at least minSuccess (a
// fraction from 0 to 1; 1 means every request) of the requests succeed. A
// window of 0 means exactly one request; otherwise there are
// ceil(window/every) of them, fewer if slow responses make the check skip a
// beat (requests never overlap and never burst to catch up).
//
// A request succeeds when it gets a 2xx response, and its body, within its
// timeout: every, but at least 1s and at most 5s. Redirects are not followed
// and count as failures. Every request opens a new connection, as a
// restarted client would, and ignores proxy settings in the environment.
//
// Run returns as soon as enough requests have failed that minSuccess can no
// longer be met (with minSuccess 1, at the first failure), with an error like
// "http check URL: 3 of 60 requests failed (95.0% < 100%): last failure:
// status 503 Service Unavailable". Progress counts requests. every <= 0 is
// taken as 1s; minSuccess is clamped to [0, 1].
func NewHTTP(url string, every time.Duration, minSuccess float64) Check {
	if every <= 0 {
		every = time.Second
	}
	minSuccess = math.Max(0, math.Min(1, minSuccess))
	if math.IsNaN(minSuccess) {
		minSuccess = 1
	}
	timeout := min(max(every, minRequestTimeout), maxRequestTimeout)
	dialer := &net.Dialer{Timeout: timeout}
	return &httpCheck{
		url:        url,
		display:    redactURL(url),
		every:      every,
		minSuccess: minSuccess,
		timeout:    timeout,
		client: &http.Client{
			Transport: &http.Transport{
				Proxy:               nil,
				DialContext:         dialer.DialContext,
				DisableKeepAlives:   true,
				TLSHandshakeTimeout: timeout,
			},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// redactURL hides a password in raw, even when raw does not parse.
func redactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return raw
	}
	authority := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority = rest[:i]
	}
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		return scheme + "://xxxxx" + rest[i:]
	}
	return raw
}

func (c *httpCheck) Describe() string { return "http " + c.display }

func (c *httpCheck) kind() string { return KindHTTP }

func (c *httpCheck) Run(ctx context.Context, window time.Duration, progress func(Progress)) error {
	if progress == nil {
		progress = func(Progress) {}
	}
	planned := 1
	if window > 0 {
		planned = int((window + c.every - 1) / c.every)
	}
	// The most failures that still let the planned requests meet minSuccess.
	allowed := int(math.Floor(float64(planned)*(1-c.minSuccess) + 1e-9))
	var succeeded, total int
	var lastFailure string
	start := time.Now()
	for tick := 0; ; {
		if err := sleepUntil(ctx, start.Add(time.Duration(tick)*c.every)); err != nil {
			return fmt.Errorf("http check %s: %w", c.display, context.Cause(ctx))
		}
		failure := c.request(ctx)
		if ctx.Err() != nil {
			return fmt.Errorf("http check %s: %w", c.display, context.Cause(ctx))
		}
		total++
		if failure == "" {
			succeeded++
		} else {
			lastFailure = failure
		}
		progress(Progress{Check: c.Describe(), Kind: KindHTTP, Succeeded: succeeded, Total: total})
		if total-succeeded > allowed {
			return c.failed(succeeded, total, lastFailure)
		}
		elapsed := time.Since(start)
		if elapsed >= window {
			break
		}
		// The next beat that has not passed yet.
		tick = max(tick+1, int((elapsed+c.every-1)/c.every))
		if time.Duration(tick)*c.every >= window {
			break
		}
	}
	if float64(succeeded) < c.minSuccess*float64(total)-1e-9 {
		return c.failed(succeeded, total, lastFailure)
	}
	// The last request covers the last beat; the window is not over before
	// its end.
	if err := sleepUntil(ctx, start.Add(window)); err != nil {
		return fmt.Errorf("http check %s: %w", c.display, context.Cause(ctx))
	}
	return nil
}

func (c *httpCheck) failed(succeeded, total int, lastFailure string) error {
	ratio := 100 * float64(succeeded) / float64(total)
	threshold := strconv.FormatFloat(math.Round(c.minSuccess*1e4)/1e2, 'f', -1, 64)
	return fmt.Errorf("http check %s: %d of %d requests failed (%.1f%% < %s%%): last failure: %s",
		c.display, total-succeeded, total, ratio, threshold, lastFailure)
}

// request sends one GET and returns "" on success, else why it failed.
func (c *httpCheck) request(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
	if err != nil {
		return "invalid URL: " + c.describeError(err)
	}
	req.Header.Set("User-Agent", "slickenv-verify")
	resp, err := c.client.Do(req)
	if err != nil {
		return c.describeError(err)
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, bodyLimit))
	switch {
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return "status " + resp.Status
	case err != nil:
		return "reading the response: " + c.describeError(err)
	}
	return ""
}

func (c *httpCheck) describeError(err error) string {
	if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
		return "no response within " + c.timeout.String()
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err // without the repeated method and URL
	}
	return err.Error()
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

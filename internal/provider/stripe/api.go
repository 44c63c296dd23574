package stripe

import (
	"context"
	"errors"
	"fmt"
	"strings"

	stripeapi "github.com/stripe/stripe-go/v84"

	"github.com/slickenv/slickenv/internal/secret"
)

// account returns the id of the account key belongs to (GET /v1/account).
func (p *Provider) account(ctx context.Context, key secret.Value) (string, error) {
	a, err := p.client(key).V1Accounts.Retrieve(ctx, &stripeapi.AccountRetrieveParams{})
	if err != nil {
		return "", apiError("GET /v1/account", err, key)
	}
	if a.ID == "" {
		return "", errors.New("GET /v1/account: no account id in the response")
	}
	return a.ID, nil
}

// balance reads the balance with key (GET /v1/balance): the cheapest call
// every secret key may make.
func (p *Provider) balance(ctx context.Context, key secret.Value) error {
	if _, err := p.client(key).V1Balance.Retrieve(ctx, &stripeapi.BalanceRetrieveParams{}); err != nil {
		return apiError("GET /v1/balance", err, key)
	}
	return nil
}

func (p *Provider) client(key secret.Value) *stripeapi.Client {
	return stripeapi.NewClient(key.Reveal(), stripeapi.WithBackends(p.backends))
}

// statusError is a Stripe API error reduced to what is safe to show: the
// message of an API error may quote the Authorization header (stripe-mock's
// does), so it is dropped.
type statusError struct {
	call   string
	status int
	typ    string
	code   string
}

func (e *statusError) Error() string {
	s := fmt.Sprintf("%s: HTTP %d", e.call, e.status)
	if e.typ != "" {
		s += " " + e.typ
	}
	if e.code != "" {
		s += " (" + e.code + ")"
	}
	switch e.status {
	case 401:
		s += ": the key was rejected"
	case 403:
		s += ": the key may not make this call"
	}
	return s
}

func apiError(call string, err error, key secret.Value) error {
	var se *stripeapi.Error
	if errors.As(err, &se) && se.HTTPStatusCode != 0 {
		return &statusError{call: call, status: se.HTTPStatusCode, typ: string(se.Type), code: string(se.Code)}
	}
	for _, ce := range []error{context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, ce) {
			return fmt.Errorf("%s: %w", call, ce)
		}
	}
	// Network errors name the URL, not the key; redact anyway.
	msg := err.Error()
	if k := key.Reveal(); len(k) >= 8 {
		msg = strings.ReplaceAll(msg, k, secret.Redacted)
	}
	return fmt.Errorf("%s: %s", call, msg)
}

func isStatus(err error, status int) bool {
	var se *statusError
	return errors.As(err, &se) && se.status == status
}

package exec

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/slickenv/slickenv/internal/provider"
	"github.com/slickenv/slickenv/internal/secret"
)

// Kind is the provider kind in .slickenv.yaml.
const Kind = "exec"

// Actions, as exported in SLICKENV_ACTION.
const (
	ActionCreate = "create"
	ActionTest   = "test"
	ActionRevoke = "revoke"
)

// Provider runs the user's scripts; its create command makes the new value
// and prints it. It is safe for concurrent use.
type Provider struct {
	s settings
}

// GeneratingProvider runs the user's scripts with a value slickenv
// generates (the generate setting): it implements provider.Generator, and
// its create command receives the journaled value instead of printing one.
type GeneratingProvider struct {
	Provider
}

var (
	_ provider.Provider  = (*Provider)(nil)
	_ provider.Provider  = (*GeneratingProvider)(nil)
	_ provider.Generator = (*GeneratingProvider)(nil)
)

// New builds an exec provider from its settings (see the package
// documentation): a *GeneratingProvider when generate is set, a *Provider
// otherwise. Unknown keys and invalid or missing values are errors wrapping
// provider.ErrSettings that name the key. New is a provider.Factory; it runs
// nothing.
func New(s provider.Settings) (provider.Provider, error) {
	parsed, err := parseSettings(s)
	if err != nil {
		return nil, err
	}
	if parsed.generate != nil {
		return &GeneratingProvider{Provider{parsed}}, nil
	}
	return &Provider{parsed}, nil
}

// Kind returns "exec".
func (p *Provider) Kind() string { return Kind }

// Create runs the create command, which makes a new credential and prints
// it, and returns it. The current credential must stay valid. Idempotence per
// rotation id is the script's contract (see the package documentation).
// Errors never contain a value.
func (p *Provider) Create(ctx context.Context, req provider.CreateRequest) (provider.Credential, error) {
	inv := p.createInvocation(ctx, req)
	out, err := p.run(ctx, inv)
	if err != nil {
		return provider.Credential{}, err
	}
	value, meta, err := parseCreateOutput(out, false)
	clear(out)
	if err != nil {
		return provider.Credential{}, fmt.Errorf("exec: create: %w", err)
	}
	if value.Equal(req.Current.Value) {
		return provider.Credential{}, fmt.Errorf("exec: create: the command printed the current value; it must make a new credential")
	}
	return provider.Credential{Value: value, Meta: meta}, nil
}

// Generate returns a new value of the generate setting's shape, from
// crypto/rand.
func (p *GeneratingProvider) Generate() (secret.Value, error) {
	return p.s.generate.Generate()
}

// ErrNoPending is returned by GeneratingProvider.Create when the request
// carries no generated value.
var ErrNoPending = errors.New("no pending value: the engine must generate and journal the value before create")

// Create runs the create command with the generated value req.Pending (on
// stdin and in SLICKENV_NEW_VALUE) and returns it with the metadata the
// command printed. Idempotence per rotation id is the script's contract.
// Errors never contain a value.
func (p *GeneratingProvider) Create(ctx context.Context, req provider.CreateRequest) (provider.Credential, error) {
	if req.Pending.IsEmpty() {
		return provider.Credential{}, fmt.Errorf("exec: create: %w", ErrNoPending)
	}
	inv := p.createInvocation(ctx, req)
	inv.newValue = &req.Pending
	inv.stdin = req.Pending
	out, err := p.run(ctx, inv)
	if err != nil {
		return provider.Credential{}, err
	}
	_, meta, err := parseCreateOutput(out, true)
	clear(out)
	if err != nil {
		return provider.Credential{}, fmt.Errorf("exec: create: %w", err)
	}
	return provider.Credential{Value: req.Pending, Meta: meta}, nil
}

func (p *Provider) createInvocation(ctx context.Context, req provider.CreateRequest) invocation {
	call, _ := provider.CallFrom(ctx)
	call.RotationID, call.Env, call.Name = req.RotationID, req.Env, req.Name
	return invocation{
		action:   ActionCreate,
		argv:     p.s.create,
		call:     call,
		oldValue: &req.Current.Value,
		meta:     req.Current.Meta,
	}
}

// Test runs the test command with c's value on stdin and in
// SLICKENV_NEW_VALUE; no test command is success. Errors never contain a
// value.
func (p *Provider) Test(ctx context.Context, c provider.Credential) error {
	if p.s.test == nil {
		return nil
	}
	call, _ := provider.CallFrom(ctx)
	out, err := p.run(ctx, invocation{
		action: ActionTest, argv: p.s.test, call: call,
		newValue: &c.Value, stdin: c.Value, meta: c.Meta,
	})
	clear(out)
	return err
}

// Revoke runs the revoke command with c's value on stdin and in
// SLICKENV_OLD_VALUE, and c's metadata; no revoke command is success. The
// script must treat an already revoked credential as success. Errors never
// contain a value.
func (p *Provider) Revoke(ctx context.Context, c provider.Credential) error {
	if p.s.revoke == nil {
		return nil
	}
	call, _ := provider.CallFrom(ctx)
	out, err := p.run(ctx, invocation{
		action: ActionRevoke, argv: p.s.revoke, call: call,
		oldValue: &c.Value, stdin: c.Value, meta: c.Meta,
	})
	clear(out)
	return err
}

// createOutput is the JSON form of create's stdout.
type createOutput struct {
	Value *string           `json:"value"`
	Meta  map[string]string `json:"meta"`
}

// parseCreateOutput reads create's stdout as the package documentation
// describes. Its errors never quote the output.
func parseCreateOutput(out []byte, generated bool) (secret.Value, map[string]string, error) {
	trimmed := bytes.TrimLeft(out, " \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '{' {
		parsed, err := decodeCreateJSON(out)
		if err != nil {
			return secret.Value{}, nil, err
		}
		if err := checkMeta(parsed.Meta); err != nil {
			return secret.Value{}, nil, err
		}
		if generated {
			if parsed.Value != nil {
				return secret.Value{}, nil, errors.New(`"value" in stdout: with generate, slickenv makes the value; print nothing or {"meta": {...}}`)
			}
			return secret.Value{}, parsed.Meta, nil
		}
		if parsed.Value == nil || *parsed.Value == "" {
			return secret.Value{}, nil, errors.New(`stdout is a JSON object without a "value"`)
		}
		if strings.ContainsRune(*parsed.Value, 0) {
			return secret.Value{}, nil, errors.New("the value contains a NUL byte")
		}
		return secret.New(*parsed.Value), parsed.Meta, nil
	}
	if generated {
		if len(trimmed) > 0 {
			return secret.Value{}, nil, errors.New("with generate, stdout must be empty or a JSON object {\"meta\": {...}} (write progress to stderr)")
		}
		return secret.Value{}, nil, nil
	}
	line := out
	if bytes.HasSuffix(line, []byte("\n")) {
		line = line[:len(line)-1]
		line = bytes.TrimSuffix(line, []byte("\r"))
	}
	if n := bytes.Count(line, []byte("\n")); n > 0 {
		return secret.Value{}, nil, fmt.Errorf("stdout has %d lines: print the value alone on one line, or {\"value\": ...} for a multi-line value (write progress to stderr)", n+1)
	}
	if len(line) == 0 {
		return secret.Value{}, nil, errors.New("stdout is empty: create must print the new value")
	}
	if bytes.IndexByte(line, 0) >= 0 {
		return secret.Value{}, nil, errors.New("the value contains a NUL byte")
	}
	return secret.FromBytes(line), nil, nil
}

func decodeCreateJSON(out []byte) (createOutput, error) {
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.DisallowUnknownFields()
	var parsed createOutput
	if err := dec.Decode(&parsed); err != nil {
		return createOutput{}, describeJSONError(err)
	}
	if len(bytes.TrimSpace(out[dec.InputOffset():])) > 0 {
		return createOutput{}, errors.New("stdout has data after the JSON object")
	}
	return parsed, nil
}

// describeJSONError explains a decoding error without quoting the input
// (encoding/json's messages may include a character of it).
func describeJSONError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Errorf("stdout is not valid JSON (at byte %d); a value that is JSON must be wrapped as {\"value\": ...}", syntax.Offset)
	case errors.As(err, &typ):
		return fmt.Errorf("stdout JSON: %s has the wrong type (\"value\" is a string, \"meta\" an object of strings)", typ.Field)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("stdout is truncated JSON")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// The field name comes from the script and is not a value.
		return fmt.Errorf("stdout JSON has %s (expected only \"value\" and \"meta\"; a value that is JSON must be wrapped as {\"value\": ...})",
			strings.TrimPrefix(err.Error(), "json: "))
	default:
		return errors.New("stdout is not a valid JSON object")
	}
}

// checkMeta rejects metadata that cannot travel in an environment variable.
func checkMeta(meta map[string]string) error {
	for k, v := range meta {
		if k == "" {
			return errors.New("stdout JSON: meta has an empty key")
		}
		if strings.ContainsRune(k, 0) || strings.ContainsRune(v, 0) {
			return errors.New("stdout JSON: meta contains a NUL character")
		}
	}
	return nil
}

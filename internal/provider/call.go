package provider

import "context"

// Call describes the rotation a provider method is called for. Create gets
// the same facts in its CreateRequest; Test and Revoke receive only a
// Credential, so the engine attaches a Call to the context of every provider
// call with WithCall, and providers that pass these facts on (exec exports
// them to the user's scripts) read it with CallFrom.
type Call struct {
	RotationID string
	Env        string
	Name       string
	// ProjectDir is the directory of .slickenv.yaml. Relative paths in
	// settings resolve against it; "" means the working directory.
	ProjectDir string
}

type callKey struct{}

// WithCall returns a copy of ctx carrying c.
func WithCall(ctx context.Context, c Call) context.Context {
	return context.WithValue(ctx, callKey{}, c)
}

// CallFrom returns the Call attached to ctx by WithCall, if any.
func CallFrom(ctx context.Context) (Call, bool) {
	c, ok := ctx.Value(callKey{}).(Call)
	return c, ok
}

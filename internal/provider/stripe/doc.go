// Package stripe rotates Stripe secret and restricted API keys.
//
// # How Stripe keys are rolled
//
// Stripe offers no API to create or revoke secret keys. Its supported way
// to replace one is the Dashboard's "roll key", which issues a new key and
// lets the old one keep working until an expiry the user picks: that is
// the dual-active window. The provider is therefore assisted: the user
// rolls the key in the Dashboard (Create's error says where and how) and
// hands the new key to slickenv through an environment variable
// (SLICKENV_STRIPE_NEW_KEY by default), never through argv. slickenv then
// proves the key, distributes it, verifies, and confirms the old key is
// rejected once it has expired.
//
// # Settings
//
//	api_base            Stripe API base URL (default https://api.stripe.com; tests use stripe-mock)
//	new_key_env         variable holding the new key (default SLICKENV_STRIPE_NEW_KEY)
//	old_key_expires_at  RFC 3339 time the old key expires (default: $SLICKENV_STRIPE_OLD_KEY_EXPIRES_AT)
//
// # Errors
//
// No error, log line or request argv contains a key: Stripe's error
// messages can quote the Authorization header, so only the HTTP status and
// error type are reported. ErrNoNewKey, ErrMismatch and ErrStillValid mark
// the cases a user acts on.
package stripe

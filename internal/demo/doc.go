// Package demo runs `slickenv demo`: a real rotation of a webhook signing key
// while a real service receives real signed traffic, in a throwaway project.
//
// # What runs
//
// Everything is a real process talking real HTTP, and every slickenv step is
// the slickenv binary itself (Options.Self) run as a user would run it:
//
//  1. A temporary directory with its own HOME and XDG directories, so the
//     demo creates its own identity and store and never reads or writes the
//     user's.
//  2. `slickenv init`, `slickenv set WEBHOOK_SECRET -` (a random key on
//     stdin) and a .slickenv.yaml that rotates it with the random provider,
//     a dotenv target, a SIGHUP to the service and an HTTP health check.
//  3. `slickenv export -o app.env`, then the webhook receiver of
//     examples/demoapp, started as `slickenv __demoapp`.
//  4. A sender posting signed webhooks at a steady rate. Like a real
//     webhook sender, it keeps signing with the old key until the receiver
//     has loaded both keys, and only then switches to the new one.
//  5. `slickenv rotate WEBHOOK_SECRET --json`, whose event stream is shown
//     as the step display, with the sender's counters live on a terminal.
//  6. A probe that the old key is now rejected, then `slickenv status`,
//     `history` and `audit`, the request totals with every failure listed,
//     and the cleanup.
//
// Run fails when any signed request failed, when the rotation did not
// finish, or when the old key still works after the rotation.
package demo

// Package supervise runs one application process with an environment's
// values and, when asked to watch, switches it to each new environment
// version without dropping requests.
//
// # Switching
//
// A Supervisor polls a Source for the newest version. When it changes it
// switches in one of three ways:
//
//   - Handoff (Options.Listener set): the supervisor owns the listening TCP
//     socket and passes it to every child by the systemd socket-activation
//     protocol (file descriptor 3, LISTEN_FDS=1, LISTEN_PID=<child pid>).
//     It starts the new child next to the old one, waits until the new child
//     accepts a connection on the shared socket (and, with ReadyURL, answers
//     it with a 2xx), then sends SIGTERM to the old child and waits up to
//     DrainTimeout before SIGKILL. Connections that arrive meanwhile wait in
//     the socket's backlog, so none is refused. When the new child exits or
//     is not ready within ReadyTimeout it is stopped and the old one keeps
//     serving; that version is not tried again.
//   - Reload (Options.ReloadSignal and EnvFile set): the env file is
//     rewritten atomically and the child receives the signal.
//   - Restart (otherwise): SIGTERM to the child, wait up to DrainTimeout,
//     start the new one. Requests arriving in between fail.
//
// # Process contract
//
// Signals given to Forward are passed to the serving child. When that child
// exits on its own, Run returns its status (128+N when it died of signal
// N) after stopping any other child. Values reach children only through
// their environment (or the env file), never their arguments, and messages
// never contain values. Run waits for its own children itself: as PID 1 it
// also reaps orphans, which means it waits for any child of the process, so
// a process runs at most one Supervisor and starts no other children while
// it runs.
package supervise

package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/slickenv/slickenv/internal/config"
	"github.com/slickenv/slickenv/internal/server"
)

// ServerOptions are the flags of `slickenv server` and its subcommands.
type ServerOptions struct {
	Listen   string
	Data     string
	Database string
	TLSCert  string
	TLSKey   string
	Timeout  time.Duration
}

// AddBackendFlags adds the flags that choose the server's database.
func (o *ServerOptions) AddBackendFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.Data, "data", "", "directory of the embedded SQLite database (default: $XDG_DATA_HOME/slickenv/server)")
	cmd.Flags().StringVar(&o.Database, "database", "", "PostgreSQL URL shared by every replica (default: $SLICKENV_DATABASE_URL; keeps the password out of ps)")
}

// AddFlags adds the flags of `slickenv server`.
func (o *ServerOptions) AddFlags(cmd *cobra.Command) {
	o.AddBackendFlags(cmd)
	cmd.Flags().StringVar(&o.Listen, "listen", "127.0.0.1:8420", "address to listen on")
	cmd.Flags().StringVar(&o.TLSCert, "tls-cert", "", "TLS certificate file (PEM); with --tls-key, serve HTTPS")
	cmd.Flags().StringVar(&o.TLSKey, "tls-key", "", "TLS private key file (PEM)")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 30*time.Second, "longest a request may take")
}

func newServerCommand(a *App) *cobra.Command {
	var o ServerOptions
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Serve the team's environments over HTTP (zero-knowledge: values stay sealed)",
		Long: `slickenv server serves environments to a team's clients, which set
store: https://HOST:PORT in .slickenv.yaml and run ` + "`slickenv login`" + `.

The server stores ciphertexts and metadata only; clients seal and open values.
By default it keeps an embedded SQLite database; with --database it uses
PostgreSQL, and any number of replicas can share that database.
Run ` + "`slickenv server init --project NAME`" + ` first to get an owner token.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runServer(cmd.Context(), a, o) },
	}
	o.AddFlags(cmd)
	cmd.AddCommand(newServerInitCommand(a), newServerTokenCommand(a))
	return cmd
}

// serverBackend resolves --data / --database (and their defaults).
func (a *App) serverBackend(o ServerOptions) (server.BackendOptions, error) {
	db := o.Database
	if db == "" && o.Data == "" {
		db = a.Getenv("SLICKENV_DATABASE_URL")
	}
	if db != "" && o.Data != "" {
		return server.BackendOptions{}, usageErrorf("use one of --data and --database")
	}
	if db != "" {
		return server.BackendOptions{DatabaseURL: db}, nil
	}
	dir := o.Data
	if dir == "" {
		d, err := a.dataDir()
		if err != nil {
			return server.BackendOptions{}, err
		}
		dir = filepath.Join(d, "server")
	}
	return server.BackendOptions{DataDir: dir}, nil
}

func runServer(ctx context.Context, a *App, o ServerOptions) error {
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return usageErrorf("--tls-cert and --tls-key go together")
	}
	bo, err := a.serverBackend(o)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	b, err := server.OpenBackend(ctx, bo)
	if err != nil {
		return err
	}
	defer b.Close()
	log := slog.New(slog.NewTextHandler(a.Stderr, nil))
	hs := &http.Server{
		Handler:           server.New(b, server.Options{Timeout: o.Timeout, Log: log}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       o.Timeout + 10*time.Second,
		WriteTimeout:      o.Timeout + 10*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	scheme := "http"
	if o.TLSCert != "" {
		scheme = "https"
	} else if host, _, _ := net.SplitHostPort(ln.Addr().String()); !net.ParseIP(host).IsLoopback() {
		fmt.Fprintln(a.Stderr, "slickenv: warning: serving plain HTTP on a non-loopback address: tokens travel in the clear unless a TLS proxy sits in front")
	}
	where := "SQLite in " + bo.DataDir
	if bo.DatabaseURL != "" {
		where = "PostgreSQL"
	}
	fmt.Fprintf(a.Stderr, "slickenv: serving %s://%s (%s)\n", scheme, ln.Addr(), where)
	errc := make(chan error, 1)
	go func() {
		if o.TLSCert != "" {
			errc <- hs.ServeTLS(ln, o.TLSCert, o.TLSKey)
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("server: %w", err)
	case <-ctx.Done():
	}
	fmt.Fprintln(a.Stderr, "slickenv: shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), o.Timeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("server shutdown: %w", err)
	}
	return nil
}

func newServerInitCommand(a *App) *cobra.Command {
	var o ServerOptions
	var project, name string
	cmd := &cobra.Command{
		Use:   "init --project NAME",
		Short: "Create the server's database and print a first owner token (shown once)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !config.ValidProjectName(project) {
				return usageErrorf("invalid or missing --project %q", project)
			}
			return issueToken(cmd.Context(), a, o, server.TokenRequest{Name: name, Project: project, Role: server.RoleOwner}, true)
		},
	}
	o.AddBackendFlags(cmd)
	cmd.Flags().StringVar(&project, "project", "", "project the token owns")
	cmd.Flags().StringVar(&name, "name", "owner", "a label for the token (shown in logs and audit entries)")
	return cmd
}

func newServerTokenCommand(a *App) *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Issue and revoke tokens (run on the server's host)"}
	var o ServerOptions
	var req server.TokenRequest
	var ttl string
	create := &cobra.Command{
		Use:   "create --project NAME --role ROLE",
		Short: "Issue a token and print it (shown once)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !config.ValidProjectName(req.Project) {
				return usageErrorf("invalid or missing --project %q", req.Project)
			}
			if !server.ValidRole(req.Role) {
				return usageErrorf("invalid --role %q: use owner, admin, member or reader", req.Role)
			}
			if req.Env != "" && !config.ValidEnvName(req.Env) {
				return usageErrorf("invalid --env %q", req.Env)
			}
			if ttl != "" {
				d, err := config.ParseDuration(ttl)
				if err != nil || d <= 0 {
					return usageErrorf("invalid --ttl %q: use a duration like 90d or 12h", ttl)
				}
				req.TTL = d.Std()
			}
			return issueToken(cmd.Context(), a, o, req, false)
		},
	}
	o.AddBackendFlags(create)
	create.Flags().StringVar(&req.Project, "project", "", "project of the token")
	create.Flags().StringVar(&req.Role, "role", server.RoleMember, "owner, admin, member or reader")
	create.Flags().StringVar(&req.Env, "env", "", "limit the token to one environment (service tokens)")
	create.Flags().BoolVar(&req.ReadOnly, "read-only", false, "refuse every write with this token")
	create.Flags().StringVar(&ttl, "ttl", "", "expire the token after this long (default: never)")
	create.Flags().StringVar(&req.Name, "name", "", "a label for the token")

	var ro ServerOptions
	revoke := &cobra.Command{
		Use:   "revoke TOKEN_ID",
		Short: "Revoke a token (by its tok_… id); requests with it then get 401",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			bo, err := a.serverBackend(ro)
			if err != nil {
				return err
			}
			b, err := server.OpenBackend(cmd.Context(), bo)
			if err != nil {
				return err
			}
			defer b.Close()
			if err := b.Tokens.Revoke(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(a.Stderr, "slickenv: revoked %s\n", args[0])
			return nil
		},
	}
	ro.AddBackendFlags(revoke)
	cmd.AddCommand(create, revoke)
	return cmd
}

// issueToken issues a token and prints its secret alone on stdout (for
// scripts), the details on stderr. With first, it refuses a project that
// already has a live token (init prints the first one only).
func issueToken(ctx context.Context, a *App, o ServerOptions, req server.TokenRequest, first bool) error {
	bo, err := a.serverBackend(o)
	if err != nil {
		return err
	}
	b, err := server.OpenBackend(ctx, bo)
	if err != nil {
		return err
	}
	defer b.Close()
	if first {
		n, err := b.Tokens.Active(ctx, req.Project)
		if err != nil {
			return err
		}
		if n > 0 {
			return withHint(fmt.Errorf("project %s already has %s on this server", req.Project, plural(n, "a token", fmt.Sprintf("%d tokens", n))),
				"use `slickenv server token create --project "+req.Project+" --role owner` for another one")
		}
	}
	secret, tok, err := b.Tokens.Issue(ctx, req)
	if err != nil {
		return err
	}
	scope := "every environment"
	if tok.Env != "" {
		scope = "environment " + tok.Env
	}
	if tok.ReadOnly {
		scope += ", read-only"
	}
	if !tok.ExpiresAt.IsZero() {
		scope += ", expires " + tok.ExpiresAt.Format(time.RFC3339)
	}
	fmt.Fprintf(a.Stderr, "slickenv: token %s: %s of project %s (%s); it is shown once, store it now\n", tok.ID, tok.Role, tok.Project, scope)
	fmt.Fprintln(a.Stdout, secret)
	return nil
}

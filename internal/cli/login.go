package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/slickenv/slickenv/internal/client"
	"github.com/slickenv/slickenv/internal/server"
	"github.com/slickenv/slickenv/internal/store"
)

func newLoginCommand(a *App) *cobra.Command {
	var noVerify bool
	cmd := &cobra.Command{
		Use:   "login URL",
		Short: "Save a token for a slickenv server",
		Long: `slickenv login saves the token for the server at URL (read from stdin, or
asked for on a terminal) in the config directory, mode 0600, after checking it
with the server. SLICKENV_TOKEN, when set, overrides any saved token.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runLogin(cmd.Context(), a, args[0], !noVerify) },
	}
	cmd.Flags().BoolVar(&noVerify, "no-verify", false, "save the token without asking the server")
	return cmd
}

func runLogin(ctx context.Context, a *App, rawURL string, verify bool) error {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return usageErrorf("invalid server URL %q: use https://HOST[:PORT]", rawURL)
	}
	token, err := readToken(a)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(token, server.TokenPrefix) {
		return withHint(fmt.Errorf("that is not a slickenv token (they start with %s)", server.TokenPrefix), "ask an owner for one, or run `slickenv server init` on the server")
	}
	base := client.NormalizeURL(rawURL)
	if verify {
		ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		who, err := client.New(base, token, nil).Whoami(ctx)
		if err != nil {
			return err
		}
		scope := "every environment"
		if who.Env != "" {
			scope = "environment " + who.Env
		}
		if who.ReadOnly {
			scope += ", read-only"
		}
		fmt.Fprintf(a.Stderr, "slickenv: token %s: %s of project %s (%s)\n", who.TokenID, who.Role, who.Project, scope)
	}
	if u.Scheme == "http" && !isLoopbackHost(u.Hostname()) {
		fmt.Fprintln(a.Stderr, "slickenv: warning: this server is plain HTTP: the token travels in the clear")
	}
	dir, err := a.ConfigDir()
	if err != nil {
		return err
	}
	if err := client.SaveToken(dir, base, token); err != nil {
		return fmt.Errorf("save token: %w", err)
	}
	fmt.Fprintf(a.Stderr, "slickenv: saved the token for %s\n", base)
	return nil
}

// readToken reads the token from a terminal without echo, or one line of
// stdin.
func readToken(a *App) (string, error) {
	if f, ok := a.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(a.Stderr, "Token (input hidden): ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(a.Stderr)
		if err != nil {
			return "", fmt.Errorf("read token: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	line, err := bufio.NewReader(io.LimitReader(a.Stdin, 4096)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("read token from stdin: %w", err)
	}
	token := strings.TrimSpace(line)
	if token == "" {
		return "", usageErrorf("no token on stdin: pipe it in (`slickenv login URL < token-file`) or run on a terminal")
	}
	return token, nil
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// openServerStore returns the client of the server at loc (an http(s)
// URL), authenticated by SLICKENV_TOKEN or the token `slickenv login`
// saved for it. App.Store calls it for URL store locations.
func (a *App) openServerStore(loc string) (store.Store, error) {
	dir, err := a.ConfigDir()
	if err != nil {
		return nil, err
	}
	base := client.NormalizeURL(loc)
	token, err := client.LoadToken(dir, base, a.Getenv)
	if err != nil {
		return nil, fmt.Errorf("store %s: read saved token: %w", base, err)
	}
	if token == "" {
		return nil, withHint(fmt.Errorf("store %s: not logged in", base),
			fmt.Sprintf("run `slickenv login %s`, or set %s", base, client.TokenEnv))
	}
	return client.New(base, token, nil), nil
}

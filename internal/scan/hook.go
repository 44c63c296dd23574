package scan

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// hookMarker identifies a pre-commit hook this package wrote.
const hookMarker = "installed by `slickenv scan --install-hook`"

// HookScript is the pre-commit hook InstallHook writes.
const HookScript = "#!/bin/sh\n# slickenv pre-commit hook, " + hookMarker + ".\n" +
	"# Blocks a commit whose staged changes contain a secret.\n" +
	"exec slickenv scan --staged\n"

// ErrForeignHook is returned by InstallHook when a pre-commit hook that
// slickenv did not write exists and force is false.
var ErrForeignHook = errors.New("a pre-commit hook that slickenv did not write already exists")

// InstallHook writes the pre-commit hook of the repository containing dir
// (honouring core.hooksPath) and returns its path. It is idempotent; it
// replaces a hook it did not write only with force.
func InstallHook(ctx context.Context, dir string, force bool) (string, error) {
	if _, err := RepoRoot(ctx, dir); err != nil {
		return "", err
	}
	out, err := git(ctx, dir, "rev-parse", "--path-format=absolute", "--git-path", "hooks")
	if err != nil {
		return "", err
	}
	hooks := strings.TrimSpace(string(out))
	path := filepath.Join(hooks, "pre-commit")
	if old, err := os.ReadFile(path); err == nil && !strings.Contains(string(old), hookMarker) && !force {
		return path, fmt.Errorf("%s: %w", path, ErrForeignHook)
	}
	if err := os.MkdirAll(hooks, 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(path, []byte(HookScript), 0o755); err != nil {
		return "", err
	}
	return path, os.Chmod(path, 0o755)
}

package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFind(t *testing.T) {
	root := t.TempDir()
	project := filepath.Join(root, "repo")
	deep := filepath.Join(project, "a", "b", "c")
	nested := filepath.Join(project, "nested")
	for _, dir := range []string{deep, filepath.Join(nested, FileName), filepath.Join(root, "elsewhere")} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	want := filepath.Join(project, FileName)
	if err := os.WriteFile(want, []byte("project: shop\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	plainFile := filepath.Join(project, "a", "notes.txt")
	if err := os.WriteFile(plainFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		dir  string
	}{
		{"in the directory", project},
		{"three levels up", deep},
		{"a directory named like the file is skipped", nested},
		{"start at a file", plainFile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Find(tt.dir)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("Find(%s) = %s, want %s", tt.dir, got, want)
			}
		})
	}

	t.Run("relative directory", func(t *testing.T) {
		t.Chdir(deep)
		got, err := Find(".")
		if err != nil || got != want {
			t.Errorf("Find(.) = %q, %v; want %s", got, err, want)
		}
	})

	t.Run("not found", func(t *testing.T) {
		// Assumes no .slickenv.yaml above the test's temporary directory.
		if _, err := os.Stat(filepath.Join(filepath.Dir(root), FileName)); err == nil {
			t.Skip("a project file exists above the temporary directory")
		}
		dir := filepath.Join(root, "elsewhere")
		_, err := Find(dir)
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("Find = %v, want ErrNotFound", err)
		}
		if !strings.Contains(err.Error(), dir) {
			t.Errorf("error %q does not name %s", err, dir)
		}
	})
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	if err := os.WriteFile(path, []byte("project: shop\npolicy: { max_age: 30d }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Run("ok", func(t *testing.T) {
		t.Chdir(dir)
		cfg, err := Load(FileName)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Path != path || cfg.Project != "shop" || cfg.Policy.MaxAge != Duration(30*Day) {
			t.Errorf("Load = %+v", cfg)
		}
	})
	t.Run("missing", func(t *testing.T) {
		missing := filepath.Join(dir, "nope.yaml")
		_, err := Load(missing)
		if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), missing) {
			t.Errorf("Load(missing) = %v", err)
		}
	})
	t.Run("invalid", func(t *testing.T) {
		bad := filepath.Join(dir, "bad.yaml")
		if err := os.WriteFile(bad, []byte("project: shop\nsecrets: []\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(bad)
		if err == nil || !strings.HasPrefix(err.Error(), bad+":2: secrets: ") {
			t.Errorf("Load(bad) = %v, want an error at %s:2", err, bad)
		}
	})
}

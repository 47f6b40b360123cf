package dashboards

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

// The dashboards are written by the generator in generate/; this regenerates the committed JSON.
//go:generate go run ./generate

// TestGeneratedDashboards fails when a committed dashboard is not what the generator makes: the
// JSON was edited by hand, or the Go was changed and the JSON not regenerated.
func TestGeneratedDashboards(t *testing.T) {
	out := t.TempDir()
	if output, err := exec.Command("go", "run", "./generate", "-out", out).CombinedOutput(); err != nil {
		t.Fatalf("go run ./generate: %v\n%s", err, output)
	}
	generated := jsonFiles(t, out)
	committed := jsonFiles(t, ".")
	if !slices.Equal(generated, committed) {
		t.Errorf("dashboards/ has %v, the generator writes %v: run go generate ./dashboards, and delete the file of a dashboard it no longer makes", committed, generated)
	}
	for _, name := range generated {
		want, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(name)
		if err != nil {
			continue // reported above
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is not what the generator makes: run go generate ./dashboards\n%s", name, firstDifference(got, want))
		}
	}
}

func jsonFiles(t *testing.T, dir string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(paths))
	for _, p := range paths {
		names = append(names, filepath.Base(p))
	}
	return names
}

// firstDifference describes the first line where two different files differ.
func firstDifference(committed, generated []byte) string {
	c, g := bytes.Split(committed, []byte("\n")), bytes.Split(generated, []byte("\n"))
	i := 0
	for i < len(c) && i < len(g) && bytes.Equal(c[i], g[i]) {
		i++
	}
	return fmt.Sprintf("first difference, line %d:\n  committed: %s\n  generated: %s", i+1, lineOrEnd(c, i), lineOrEnd(g, i))
}

func lineOrEnd(lines [][]byte, i int) string {
	if i < len(lines) {
		return string(lines[i])
	}
	return "(end of file)"
}

package e2e

import (
	"bufio"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// No Docker engine runs where these tests run, so the container is checked in parts: every base
// image is pinned by digest with its tag beside it, and the build context that .dockerignore
// leaves holds no history, tools or tests, and still builds the exporter.
func TestDockerfilePinsBaseImagesByDigest(t *testing.T) {
	data, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	pinned := regexp.MustCompile(`^FROM (\S+?):(\S+)@sha256:[0-9a-f]{64}( AS \w+)?$`)
	lines := strings.Split(string(data), "\n")
	froms := 0
	for i, line := range lines {
		if !strings.HasPrefix(line, "FROM ") {
			continue
		}
		froms++
		m := pinned.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("Dockerfile:%d %q: want FROM image:tag@sha256:digest", i+1, line)
			continue
		}
		if tag := "# " + m[1] + ":" + m[2]; i == 0 || lines[i-1] != tag {
			t.Errorf("Dockerfile:%d: want the comment %q on the line above", i+1, tag)
		}
	}
	if froms != 2 {
		t.Errorf("the Dockerfile has %d FROM lines, want 2 (build and runtime)", froms)
	}
}

func TestBuildContextHoldsOnlyWhatTheBuildNeeds(t *testing.T) {
	patterns := dockerignore(t)
	out, err := exec.Command("git", "ls-files", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	context := t.TempDir()
	for _, file := range strings.Fields(string(out)) {
		if ignored(patterns, file) {
			continue
		}
		for _, never := range []string{".git/", ".tools/", "testdata/", "_test.go"} {
			if strings.Contains(file, never) {
				t.Errorf("%s is in the build context", file)
			}
		}
		data, err := os.ReadFile(file)
		if os.IsNotExist(err) {
			continue // deleted in the work tree
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(context, filepath.Dir(file)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(context, file), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	build := exec.Command("go", "build", "-o", filepath.Join(t.TempDir(), "mfa_exporter"), ".")
	build.Dir = context
	if out, err := build.CombinedOutput(); err != nil {
		t.Errorf("the build context that .dockerignore leaves does not build: %v\n%s", err, out)
	}
}

// dockerignore reads .dockerignore's patterns.
func dockerignore(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(".dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	var patterns []string
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		if line := strings.TrimSpace(scanner.Text()); line != "" && !strings.HasPrefix(line, "#") {
			patterns = append(patterns, line)
		}
	}
	return patterns
}

// ignored applies the patterns as Docker does for the forms .dockerignore uses: a path or a
// glob from the context's root (a directory takes what is under it), or **/ for any depth.
func ignored(patterns []string, file string) bool {
	for _, p := range patterns {
		anyDepth := strings.HasPrefix(p, "**/")
		p = strings.TrimPrefix(p, "**/")
		parts := strings.Split(file, "/")
		for start := range parts {
			if start > 0 && !anyDepth {
				break
			}
			for end := start + 1; end <= len(parts); end++ {
				if ok, _ := path.Match(p, strings.Join(parts[start:end], "/")); ok {
					return true
				}
			}
		}
	}
	return false
}

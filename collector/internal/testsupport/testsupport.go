// Package testsupport is what the tests of several packages share: a fake Graph started for a
// test, a log buffer safe to read while a logger writes, and the Entra ID token service that
// only credential tests need. Only tests import it, so none of it is in the exporter's binary.
package testsupport

import (
	"bytes"
	"os"
	"os/exec"
	"sync"
	"testing"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/fakegraph"
)

// StartFake runs a fake Graph for tenant until the test ends.
func StartFake(t testing.TB, tenant *fakegraph.Tenant) *fakegraph.Server {
	t.Helper()
	fake := fakegraph.Start(tenant)
	t.Cleanup(fake.Close)
	return fake
}

// LogBuffer collects what a logger or a subprocess writes, for a test to read meanwhile.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// MakeReadOnly makes dir refuse new files until the test ends. Permissions do not stop root, so
// where they do not, the directory is made immutable (chattr +i); where neither works the test
// is skipped, saying why.
func MakeReadOnly(t testing.TB, dir string) {
	t.Helper()
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
	if !writable(dir) {
		return
	}
	if out, err := exec.Command("chattr", "+i", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot make %s read-only: permissions do not stop this user and chattr +i failed: %v %s", dir, err, out)
	}
	t.Cleanup(func() { _ = exec.Command("chattr", "-i", dir).Run() })
	if writable(dir) {
		t.Skipf("cannot make %s read-only", dir)
	}
}

func writable(dir string) bool {
	f, err := os.CreateTemp(dir, "probe-")
	if err != nil {
		return false
	}
	_ = f.Close()
	_ = os.Remove(f.Name())
	return true
}

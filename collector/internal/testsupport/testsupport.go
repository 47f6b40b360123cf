// Package testsupport is what the tests of several packages share: a fake Graph started for a
// test, a log buffer safe to read while a logger writes, and the Entra ID token service that
// only credential tests need. Only tests import it, so none of it is in the exporter's binary.
package testsupport

import (
	"bytes"
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

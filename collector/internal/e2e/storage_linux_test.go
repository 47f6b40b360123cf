//go:build linux

package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/fakegraph"
)

// killOnWrite kills the exporter with SIGKILL the moment it creates the temporary file of a
// write in dir (inotify tells the test), and says whether the kill left that write unfinished: the
// temporary file there and the record not yet renamed over.
func killOnWrite(t *testing.T, e *exporter, dir string) bool {
	t.Helper()
	fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC | syscall.IN_NONBLOCK)
	if err != nil {
		t.Fatalf("inotify: %v", err)
	}
	events := os.NewFile(uintptr(fd), "inotify")
	defer func() { _ = events.Close() }()
	if _, err := syscall.InotifyAddWatch(fd, dir, syscall.IN_CREATE); err != nil {
		t.Fatalf("inotify on %s: %v", dir, err)
	}
	if err := events.SetReadDeadline(time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64*1024)
	for {
		n, err := events.Read(buf)
		if err != nil {
			t.Fatalf("no write within a minute: %v", err)
		}
		for off := 0; off+syscall.SizeofInotifyEvent <= n; {
			ev := (*syscall.InotifyEvent)(unsafe.Pointer(&buf[off]))
			name := string(bytes.TrimRight(buf[off+syscall.SizeofInotifyEvent:off+syscall.SizeofInotifyEvent+int(ev.Len)], "\x00"))
			off += syscall.SizeofInotifyEvent + int(ev.Len)
			if strings.HasPrefix(name, ".writing-") {
				e.kill()
				_, err := os.Stat(filepath.Join(dir, name))
				return err == nil
			}
		}
	}
}

// An exporter killed in the middle of writing its state (after creating the temporary file,
// before renaming it over the record) starts again from the record written before, whole, and
// serves the ground truth.
func TestKilledInTheMiddleOfAWrite(t *testing.T) {
	tenant := storedTenant()
	m := serveTenants(t, []*fakegraph.Tenant{tenant})
	dir := filepath.Join(t.TempDir(), "state")
	args := []string{"--config.file=" + m.configFile(t, tenantEntry(tenant.ID)), "--graph.endpoint=" + m.fake.URL,
		"--storage.path=" + dir, "--no-collector.policies", "--collector.signins.refresh-interval=2s",
		"--collector.users.refresh-interval=1h", "--collector.credentials.refresh-interval=1h"}
	e := startExporter(t, m.env, args...)
	waitForTenants(t, e, map[string][]string{tenant.ID: {"users", "credentials", "signins"}})

	unfinished, attempts := false, 0
	for ; attempts < 10 && !unfinished; attempts++ {
		if attempts > 0 {
			e = startExporter(t, m.env, args...)
		}
		unfinished = killOnWrite(t, e, filepath.Join(dir, tenant.ID))
	}
	if !unfinished {
		t.Fatal("in 10 attempts no kill landed between the temporary file's creation and its rename")
	}
	t.Logf("killed in the middle of a write at attempt %d", attempts)
	e = startExporter(t, m.env, args...)
	checkServedTruth(t, scrapeFamilies(t, e), tenant, "after a kill in the middle of a write")
	if strings.Contains(e.logs.String(), "stored state ignored") {
		t.Errorf("a record was unusable after a kill in the middle of a write:\n%s", e.logs)
	}
	if n := unfinishedWrites(dir); n != 0 {
		t.Errorf("%d unfinished writes are left after the start", n)
	}
}

package storage

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/testsupport"
)

const tenant = "11111111-2222-4333-8444-555555555555"

func record(state string) Record {
	return Record{TenantID: tenant, Source: "users", LastSuccess: time.Date(2026, 11, 25, 10, 0, 0, 123, time.UTC),
		Duration: 1500 * time.Millisecond, State: json.RawMessage(state)}
}

func TestSaveAndLoad(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "new", "dir"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(tenant, "users"); !errors.Is(err, ErrNotStored) {
		t.Fatalf("an empty store: %v, want ErrNotStored", err)
	}
	for _, state := range []string{`{"n":1}`, `{"n":2}`} {
		if err := s.Save(record(state)); err != nil {
			t.Fatal(err)
		}
		got, err := s.Load(tenant, "users")
		if err != nil {
			t.Fatal(err)
		}
		want := record(state)
		if got.Format != FormatVersion || !got.LastSuccess.Equal(want.LastSuccess) || got.Duration != want.Duration || string(got.State) != state {
			t.Errorf("loaded %+v, want %+v", got, want)
		}
	}
	entries, _ := os.ReadDir(filepath.Join(s.Dir(), tenant))
	if len(entries) != 1 || entries[0].Name() != "users.json" {
		t.Errorf("the tenant's directory holds %v, want users.json alone", entries)
	}
}

// A file that is not this build's record of this tenant and source is refused, with the reason.
func TestLoadRefusesWhatItCannotUse(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save(record(`{"n":1}`)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(s.Dir(), tenant, "users.json")
	good, _ := os.ReadFile(path)
	for name, tc := range map[string]struct{ content, want string }{
		"truncated":      {string(good[:len(good)/2]), "corrupt or truncated"},
		"garbage":        {"\x00\xff garbage", "corrupt or truncated"},
		"empty":          {"", "corrupt or truncated"},
		"other version":  {strings.Replace(string(good), `"format":1`, `"format":99`, 1), "format version 99; this build reads version 1"},
		"another source": {strings.Replace(string(good), `"source":"users"`, `"source":"signins"`, 1), `holds tenant "` + tenant + `"'s source "signins"`},
		"no state":       {strings.Replace(string(good), `"state":{"n":1}`, `"state":null`, 1), "holds no state"},
	} {
		if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Load(tenant, "users"); err == nil || errors.Is(err, ErrNotStored) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error saying %q", name, err, tc.want)
		}
	}
}

// A write that cannot finish leaves the record stored before, whole.
func TestFailedSaveKeepsTheOldRecord(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save(record(`{"n":1}`)); err != nil {
		t.Fatal(err)
	}
	testsupport.MakeReadOnly(t, filepath.Join(dir, tenant))
	if err := s.Save(record(`{"n":2}`)); err == nil {
		t.Fatal("a save into a read-only directory succeeded")
	}
	if got, err := s.Load(tenant, "users"); err != nil || string(got.State) != `{"n":1}` {
		t.Errorf("after a failed save: %s, %v; want the old record", got.State, err)
	}
}

// What a process killed mid-write leaves, a temporary file, is never read and is cleared.
func TestTenantsClearsUnfinishedWrites(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save(record(`{"n":1}`)); err != nil {
		t.Fatal(err)
	}
	leftover := filepath.Join(s.Dir(), tenant, tempPrefix+"123")
	if err := os.WriteFile(leftover, []byte(`{"format":1,"tena`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.Dir(), "not-a-tenant-file"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tenants, err := s.Tenants()
	if err != nil || len(tenants) != 1 || tenants[0] != tenant {
		t.Errorf("Tenants() = %v, %v; want [%s]", tenants, err, tenant)
	}
	if _, err := os.Stat(leftover); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the unfinished write is still there: %v", err)
	}
	if got, err := s.Load(tenant, "users"); err != nil || string(got.State) != `{"n":1}` {
		t.Errorf("%s, %v", got.State, err)
	}
}

func TestUnsafeNamesAreRefused(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []Record{{TenantID: "../x", Source: "users"}, {TenantID: tenant, Source: "a/b"}, {TenantID: "", Source: "users"}} {
		r.State = json.RawMessage(`{}`)
		if err := s.Save(r); err == nil {
			t.Errorf("saved %q/%q", r.TenantID, r.Source)
		}
	}
}

// Package storage keeps each tenant's and source's last state on disk (--storage.path), so that
// a restarted exporter serves it at once and resumes where it was instead of reading Graph again.
//
// A record is one JSON file, <dir>/<tenant_id>/<source>.json, written atomically: a temporary
// file in the same directory, fsync, rename over the old one, fsync of the directory. A process
// killed at any point leaves the old record or the new one, never half of one; a temporary file
// it leaves behind is removed at the next start. Every record names its format version, tenant
// and source, so that one from another version, or copied to the wrong place, is not read.
package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// FormatVersion is the version of the records this build writes and reads. A change to what a
// source stores that an older build could misread bumps it.
const FormatVersion = 1

// Record is what is stored for one tenant and source.
type Record struct {
	Format   int    `json:"format"`
	TenantID string `json:"tenant_id"`
	Source   string `json:"source"`
	// LastSuccess is when the source last refreshed successfully; zero when it never did (a
	// source can store the progress of an unfinished first read).
	LastSuccess time.Time `json:"last_success"`
	// Duration is how long that refresh took.
	Duration time.Duration `json:"duration_ns"`
	// State is the source's own, in its own JSON.
	State json.RawMessage `json:"state"`
}

// Store is a storage directory.
type Store struct {
	dir string
}

// Open uses dir, creating it if it is missing. A directory that exists but cannot be written is
// no error here: the writes fail, and the exporter goes on from memory.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("--storage.path: %w", err)
	}
	return &Store{dir: dir}, nil
}

// Dir is the storage directory.
func (s *Store) Dir() string { return s.dir }

// ErrNotStored is Load's error when nothing is stored for the tenant and source.
var ErrNotStored = errors.New("nothing stored")

// safeName is what a tenant id or source name must be to name a file: a configuration's tenant
// ids are checked to be GUIDs or domains, which are.
var safeName = regexp.MustCompile(`^[0-9a-z][0-9a-z.-]*$`)

func (s *Store) path(tenantID, source string) (string, error) {
	if !safeName.MatchString(tenantID) || !safeName.MatchString(source) {
		return "", fmt.Errorf("tenant %q, source %q: not a name for a file", tenantID, source)
	}
	return filepath.Join(s.dir, tenantID, source+".json"), nil
}

// Save writes the record atomically, replacing the one stored before.
func (s *Store) Save(r Record) error {
	r.Format = FormatVersion
	path, err := s.path(r.TenantID, r.Source)
	if err != nil {
		return err
	}
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, tempPrefix+"*")
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // gone already once renamed
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("writing %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("syncing %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

// tempPrefix starts the name of a record being written.
const tempPrefix = ".writing-"

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer func() { _ = d.Close() }()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing the directory %s: %w", dir, err)
	}
	return nil
}

// Load reads the record of a tenant and source: ErrNotStored when there is none, another error
// when the file cannot be used (unreadable, not a record, another format version, or another
// tenant's or source's).
func (s *Store) Load(tenantID, source string) (Record, error) {
	path, err := s.path(tenantID, source)
	if err != nil {
		return Record{}, err
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Record{}, ErrNotStored
	}
	if err != nil {
		return Record{}, err
	}
	var r Record
	switch err := json.Unmarshal(data, &r); {
	case err != nil:
		return Record{}, fmt.Errorf("%s is not a stored record (corrupt or truncated): %w", path, err)
	case r.Format != FormatVersion:
		return Record{}, fmt.Errorf("%s has format version %d; this build reads version %d", path, r.Format, FormatVersion)
	case r.TenantID != tenantID || r.Source != source:
		return Record{}, fmt.Errorf("%s holds tenant %q's source %q, not this file's", path, r.TenantID, r.Source)
	case len(r.State) == 0 || string(r.State) == "null":
		return Record{}, fmt.Errorf("%s holds no state", path)
	}
	return r, nil
}

// Tenants lists the tenants with a directory in the store, and removes the temporary files of
// writes a killed process left behind.
func (s *Store) Tenants() ([]string, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	var tenants []string
	for _, e := range entries {
		if !e.IsDir() || !safeName.MatchString(e.Name()) {
			continue
		}
		tenants = append(tenants, e.Name())
		files, err := os.ReadDir(filepath.Join(s.dir, e.Name()))
		if err != nil {
			continue // Load reports an unreadable record
		}
		for _, f := range files {
			if strings.HasPrefix(f.Name(), tempPrefix) {
				_ = os.Remove(filepath.Join(s.dir, e.Name(), f.Name())) // best effort: it is never read
			}
		}
	}
	return tenants, nil
}

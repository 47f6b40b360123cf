// Package config reads mfa_exporter's configuration file (--config.file): the tenants to read,
// each with its cloud, its credential and its per-source overrides of the command line. The file
// is strict: an unknown key, a wrong type, a value that cannot work or a file it names that
// cannot be read stops the load with an error naming the file, the line and the key.
//
// Secrets are never inline: credentials come from files (*_file keys, relative paths resolved
// against the configuration file's directory, as Prometheus does), workload identity, managed
// identity, or azidentity's default chain.
package config

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	commonconfig "github.com/prometheus/common/config"
)

// Config is a loaded configuration file.
type Config struct {
	// File is the path it was loaded from.
	File    string
	Tenants []Tenant
}

// Tenant is one tenant to read.
type Tenant struct {
	// ID is the tenant's GUID or verified domain, lower case: the tenant_id label value and
	// what the shard hash reads.
	ID string
	// Name is an optional name for people, the name label of mfa_exporter_tenant_info.
	Name string
	// Cloud is a graph.CloudNames() value; "" means --graph.cloud.
	Cloud      string
	Credential Credential
	// Collectors override the --collector.* flags for this tenant, by source name.
	Collectors map[string]CollectorOverride
	// Fingerprint changes when anything that reading the tenant depends on changes, the content of
	// its secret and certificate files included: a reload keeps a tenant whose fingerprint is equal.
	Fingerprint string
}

// CredentialKind is how a tenant's token is obtained.
type CredentialKind string

// The credential kinds, one per tenant.
const (
	ClientSecret      CredentialKind = "client_secret"
	ClientCertificate CredentialKind = "client_certificate"
	WorkloadIdentity  CredentialKind = "workload_identity"
	ManagedIdentity   CredentialKind = "managed_identity"
	DefaultChain      CredentialKind = "default"
)

// Credential is a tenant's credential, its files already read and checked.
type Credential struct {
	Kind CredentialKind
	// ClientID is the app's (or user-assigned managed identity's) client id; "" means the
	// environment's (AZURE_CLIENT_ID) or, for a managed identity, the system-assigned one.
	ClientID string
	// Secret is the client secret read from client_secret_file.
	Secret commonconfig.Secret
	// Certificates and Key are read from client_certificate_file.
	Certificates []*x509.Certificate
	Key          crypto.PrivateKey
	// TokenFile is workload identity's federated token file; azidentity re-reads it as it rotates.
	TokenFile string
}

// String names the credential without its secret or key, so that printing a Tenant is safe.
func (c Credential) String() string {
	if c.ClientID == "" {
		return string(c.Kind)
	}
	return fmt.Sprintf("%s (client id %s)", c.Kind, c.ClientID)
}

// CollectorOverride is a tenant's override of one source's flags; a zero field keeps the flag.
type CollectorOverride struct {
	Enabled         *bool
	RefreshInterval time.Duration
	RefreshTimeout  time.Duration
}

// Error is a configuration error at a place in a file.
type Error struct {
	File string
	Line int
	Key  string // the key's path, e.g. tenants[2].client_secret_file
	Err  error
}

func (e *Error) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s:%d: %s: %v", e.File, e.Line, e.Key, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Load reads and checks the configuration file. sources are the source names a collectors key
// may name; clouds the cloud names a cloud key may take.
func Load(file string, sources, clouds []string) (*Config, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading the configuration file: %w", err)
	}
	p := &parser{file: file, dir: filepath.Dir(file), sources: sources, clouds: clouds}
	return p.parse(data)
}

// validTenantID is what azidentity accepts as a tenant: a GUID or a domain name.
var validTenantID = regexp.MustCompile(`^[0-9a-z][0-9a-z.-]*$`)

// validName says whether a name for people is safe as a label value and in a log line: 1 to 63
// letters, digits, spaces or ._()&'- starting with a letter or digit. (A regular expression of
// this, its Unicode classes repeated 62 times, compiles to 1.5 MB held for the process's life.)
func validName(name string) bool {
	n := 0
	for _, r := range name {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
		case n > 0 && strings.ContainsRune(" ._()&'-", r):
		default:
			return false
		}
		n++
	}
	return n >= 1 && n <= 63 && utf8.ValidString(name)
}

// tenant checks one tenant's values and reads its files.
func (p *parser) tenant(raw rawTenant) (Tenant, error) {
	t := Tenant{ID: strings.ToLower(raw.id.value), Name: raw.name.value, Cloud: raw.cloud.value, Collectors: map[string]CollectorOverride{}}
	if raw.id.value == "" {
		return t, p.errAt(raw.node, raw.path+".tenant_id", errors.New("missing: every tenant needs its tenant_id (a GUID or a verified domain)"))
	}
	if !validTenantID.MatchString(t.ID) {
		return t, p.errAt(raw.id.node, raw.path+".tenant_id", fmt.Errorf("%q: want a GUID or a domain such as contoso.onmicrosoft.com", raw.id.value))
	}
	if raw.name.node != nil && !validName(t.Name) {
		return t, p.errAt(raw.name.node, raw.path+".name", fmt.Errorf("%q: want 1 to 63 letters, digits, spaces or ._()&'- starting with a letter or digit", t.Name))
	}
	if raw.cloud.node != nil && !contains(p.clouds, t.Cloud) {
		return t, p.errAt(raw.cloud.node, raw.path+".cloud", fmt.Errorf("%q: want one of %s", t.Cloud, strings.Join(p.clouds, ", ")))
	}
	var err error
	if t.Credential, err = p.credential(raw); err != nil {
		return t, err
	}
	for _, c := range raw.collectors {
		t.Collectors[c.name] = c.override
	}
	t.Fingerprint = fingerprint(t, raw)
	return t, nil
}

// credential picks the one credential a tenant's keys describe and reads its files.
func (p *parser) credential(raw rawTenant) (Credential, error) {
	c := Credential{Kind: DefaultChain, ClientID: raw.clientID.value}
	var set []scalar
	for _, k := range []struct {
		key  scalar
		kind CredentialKind
	}{
		{raw.secretFile, ClientSecret}, {raw.certFile, ClientCertificate},
		{raw.tokenFile, WorkloadIdentity}, {raw.managedIdentity, ManagedIdentity},
	} {
		if k.key.node != nil {
			set = append(set, k.key)
			c.Kind = k.kind
		}
	}
	if len(set) > 1 {
		return c, p.errAt(set[1].node, raw.path+"."+set[1].key, fmt.Errorf("a tenant has one credential, and %s is set too", set[0].key))
	}
	if raw.certPasswordFile.node != nil && c.Kind != ClientCertificate {
		return c, p.errAt(raw.certPasswordFile.node, raw.path+".client_certificate_password_file", errors.New("only goes with client_certificate_file"))
	}
	switch c.Kind {
	case ClientSecret, ClientCertificate:
		if c.ClientID == "" {
			return c, p.errAt(set[0].node, raw.path+".client_id", fmt.Errorf("missing: %s needs the app's client_id", set[0].key))
		}
	case DefaultChain:
		if raw.clientID.node != nil {
			return c, p.errAt(raw.clientID.node, raw.path+".client_id", errors.New("no credential uses it: add client_secret_file, client_certificate_file, federated_token_file or managed_identity (the default chain reads AZURE_CLIENT_ID)"))
		}
	}
	return c, p.readCredentialFiles(raw, &c)
}

// readCredentialFiles reads the secret or certificate, so that a file that cannot work stops the
// load rather than every refresh, and checks that a token file is there.
func (p *parser) readCredentialFiles(raw rawTenant, c *Credential) error {
	switch c.Kind {
	case ClientSecret:
		secret, err := commonconfig.NewFileSecret(p.path(raw.secretFile.value)).Fetch(context.Background())
		if err == nil && secret == "" {
			err = errors.New("the file is empty")
		}
		if err != nil {
			return p.errAt(raw.secretFile.node, raw.path+".client_secret_file", err)
		}
		c.Secret = commonconfig.Secret(secret)
	case ClientCertificate:
		data, err := os.ReadFile(p.path(raw.certFile.value))
		if err != nil {
			return p.errAt(raw.certFile.node, raw.path+".client_certificate_file", err)
		}
		var password []byte
		if raw.certPasswordFile.node != nil {
			pw, err := commonconfig.NewFileSecret(p.path(raw.certPasswordFile.value)).Fetch(context.Background())
			if err != nil {
				return p.errAt(raw.certPasswordFile.node, raw.path+".client_certificate_password_file", err)
			}
			password = []byte(pw)
		}
		if c.Certificates, c.Key, err = azidentity.ParseCertificates(data, password); err != nil {
			return p.errAt(raw.certFile.node, raw.path+".client_certificate_file", fmt.Errorf("want a PEM or PKCS#12 file holding the certificate and its private key: %w", err))
		}
	case WorkloadIdentity:
		c.TokenFile = p.path(raw.tokenFile.value)
		if _, err := os.Stat(c.TokenFile); err != nil {
			return p.errAt(raw.tokenFile.node, raw.path+".federated_token_file", err)
		}
	}
	return nil
}

// path resolves a file named in the configuration against the configuration file's directory.
func (p *parser) path(name string) string { return commonconfig.JoinDir(p.dir, name) }

// fingerprint hashes what the tenant is read with, file contents included, never printing them.
func fingerprint(t Tenant, raw rawTenant) string {
	h := sha256.New()
	h.Write(fmt.Appendf(nil, "%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00", t.ID, t.Name, t.Cloud, t.Credential.Kind, t.Credential.ClientID, t.Credential.TokenFile))
	h.Write([]byte(t.Credential.Secret))
	for _, c := range t.Credential.Certificates {
		h.Write(c.Raw)
	}
	for _, c := range raw.collectors {
		h.Write(fmt.Appendf(nil, "\x00%s %v %v %v", c.name, c.override.Enabled != nil && *c.override.Enabled, c.override.Enabled == nil, [2]time.Duration{c.override.RefreshInterval, c.override.RefreshTimeout}))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

package config

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var (
	testSources = []string{"credentials", "signins", "users"}
	testClouds  = []string{"china", "public", "usgov", "usgovdod"}
)

// writeFiles writes name -> content under a new directory and returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// certificatePEM is a self-signed RSA certificate and its key, as one PEM file.
func certificatePEM(t *testing.T) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mfa_exporter config test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})) +
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
}

const fullConfig = `# Every credential kind, an app's keys shared by two tenants through an anchor, and overrides.
tenants:
  - tenant_id: 11111111-1111-4111-8111-111111111111
    name: Contoso
    <<: &msp
      client_id: 0000aaaa-0000-4000-8000-000000000001
      client_secret_file: secrets/msp.secret
  - tenant_id: 22222222-2222-4222-8222-222222222222
    <<: *msp
    collectors:
      signins: {enabled: false}
      users: {refresh_interval: 2h, refresh_timeout: 90m}
  - tenant_id: Fabrikam.OnMicrosoft.com
    cloud: usgov
    client_id: 0000aaaa-0000-4000-8000-000000000002
    client_certificate_file: fabrikam.pem
  - tenant_id: 44444444-4444-4444-8444-444444444444
    client_id: 0000aaaa-0000-4000-8000-000000000003
    federated_token_file: /var/run/token
  - tenant_id: 55555555-5555-4555-8555-555555555555
    managed_identity: true
  - tenant_id: 66666666-6666-4666-8666-666666666666
`

func TestLoadReadsEveryCredentialKind(t *testing.T) {
	dir := writeFiles(t, map[string]string{"fabrikam.pem": certificatePEM(t), "token": "a-jwt"})
	if err := os.Mkdir(filepath.Join(dir, "secrets"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "secrets", "msp.secret"), []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "mfa.yml")
	if err := os.WriteFile(file, []byte(strings.Replace(fullConfig, "/var/run/token", filepath.Join(dir, "token"), 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(file, testSources, testClouds)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		id, name, cloud string
		kind            CredentialKind
		clientID        string
	}{
		{"11111111-1111-4111-8111-111111111111", "Contoso", "", ClientSecret, "0000aaaa-0000-4000-8000-000000000001"},
		{"22222222-2222-4222-8222-222222222222", "", "", ClientSecret, "0000aaaa-0000-4000-8000-000000000001"},
		{"fabrikam.onmicrosoft.com", "", "usgov", ClientCertificate, "0000aaaa-0000-4000-8000-000000000002"},
		{"44444444-4444-4444-8444-444444444444", "", "", WorkloadIdentity, "0000aaaa-0000-4000-8000-000000000003"},
		{"55555555-5555-4555-8555-555555555555", "", "", ManagedIdentity, ""},
		{"66666666-6666-4666-8666-666666666666", "", "", DefaultChain, ""},
	}
	if len(cfg.Tenants) != len(want) {
		t.Fatalf("loaded %d tenants, want %d", len(cfg.Tenants), len(want))
	}
	for i, w := range want {
		got := cfg.Tenants[i]
		if got.ID != w.id || got.Name != w.name || got.Cloud != w.cloud || got.Credential.Kind != w.kind || got.Credential.ClientID != w.clientID {
			t.Errorf("tenant %d: got %s %q %q %s, want %+v", i, got.ID, got.Name, got.Cloud, got.Credential, w)
		}
	}
	if s := cfg.Tenants[0].Credential.Secret; s != "s3cret" {
		t.Errorf("the secret read from the file, relative to the configuration's directory and trimmed: %q", s)
	}
	if c := cfg.Tenants[2].Credential; len(c.Certificates) != 1 || c.Key == nil {
		t.Errorf("the certificate file gave %d certificates and key %v", len(c.Certificates), c.Key != nil)
	}
	if f := cfg.Tenants[3].Credential.TokenFile; f != filepath.Join(dir, "token") {
		t.Errorf("token file %q", f)
	}
	users := cfg.Tenants[1].Collectors["users"]
	if signins := cfg.Tenants[1].Collectors["signins"]; signins.Enabled == nil || *signins.Enabled ||
		users.Enabled != nil || users.RefreshInterval != 2*time.Hour || users.RefreshTimeout != 90*time.Minute {
		t.Errorf("collector overrides: signins %+v, users %+v", signins, users)
	}
	if len(cfg.Tenants[0].Collectors) != 0 {
		t.Errorf("tenant 0 has no overrides, got %+v", cfg.Tenants[0].Collectors)
	}
	printed := fmt.Sprintf("%v %+v", cfg, cfg.Tenants)
	if strings.Contains(printed, "s3cret") || strings.Contains(printed, "PRIVATE") {
		t.Errorf("printing the configuration shows a secret: %s", printed)
	}
}

func TestLoadRejectsWithFileLineAndKey(t *testing.T) {
	const id = "tenant_id: 11111111-1111-4111-8111-111111111111"
	for _, tc := range []struct {
		name, config string
		want         string // file:line: key: message, after the file's name
	}{
		{"unknown key", "tenants:\n  - " + id + "\n    clientsecret_file: x\n", `:3: tenants[0].clientsecret_file: unknown key`},
		{"unknown top-level key", "tenant:\n  - " + id + "\n", `:1: tenant: unknown key (known at the top level: tenants)`},
		{"no tenants", "tenants: []\n", `:1: tenants: want a list of at least one tenant`},
		{"empty file", "", `the file is empty`},
		{"syntax", "tenants:\n  - " + id + "\n   name: x\n", `: line 1: did not find expected '-' indicator`},
		{"missing tenant id", "tenants:\n  - name: x\n", `:2: tenants[0].tenant_id: missing`},
		{"bad tenant id", "tenants:\n  - tenant_id: 'contoso onmicrosoft'\n", `:2: tenants[0].tenant_id: "contoso onmicrosoft": want a GUID`},
		{"duplicate tenant", "tenants:\n  - " + id + "\n  - tenant_id: 11111111-1111-4111-8111-111111111111\n", `:3: tenants[1].tenant_id: 11111111-1111-4111-8111-111111111111 is listed twice (first at line 2)`},
		{"duplicate name", "tenants:\n  - " + id + "\n    name: A\n  - tenant_id: b.example\n    name: A\n", `:5: tenants[1].name: "A" names two tenants (first at line 3)`},
		{"bad name", "tenants:\n  - " + id + "\n    name: '{x}'\n", `:3: tenants[0].name: "{x}"`},
		{"bad cloud", "tenants:\n  - " + id + "\n    cloud: azure\n", `:3: tenants[0].cloud: "azure": want one of china, public, usgov, usgovdod`},
		{"two credentials", "tenants:\n  - " + id + "\n    client_id: a\n    client_secret_file: s\n    managed_identity: true\n", `:5: tenants[0].managed_identity: a tenant has one credential, and client_secret_file is set too`},
		{"secret without client id", "tenants:\n  - " + id + "\n    client_secret_file: s\n", `:3: tenants[0].client_id: missing: client_secret_file needs the app's client_id`},
		{"client id alone", "tenants:\n  - " + id + "\n    client_id: a\n", `:3: tenants[0].client_id: no credential uses it`},
		{"missing secret file", "tenants:\n  - " + id + "\n    client_id: a\n    client_secret_file: nothere\n", `:4: tenants[0].client_secret_file: unable to read file`},
		{"empty secret file", "tenants:\n  - " + id + "\n    client_id: a\n    client_secret_file: empty\n", `:4: tenants[0].client_secret_file: the file is empty`},
		{"not a certificate", "tenants:\n  - " + id + "\n    client_id: a\n    client_certificate_file: empty\n", `:4: tenants[0].client_certificate_file: want a PEM or PKCS#12 file`},
		{"password without certificate", "tenants:\n  - " + id + "\n    client_certificate_password_file: p\n", `:3: tenants[0].client_certificate_password_file: only goes with client_certificate_file`},
		{"missing token file", "tenants:\n  - " + id + "\n    federated_token_file: nothere\n", `:3: tenants[0].federated_token_file: stat `},
		{"managed identity not bool", "tenants:\n  - " + id + "\n    managed_identity: yes please\n", `:3: tenants[0].managed_identity: "yes please": want true or false`},
		{"empty value", "tenants:\n  - " + id + "\n    name:\n", `:3: tenants[0].name: want a non-empty value`},
		{"unknown source", "tenants:\n  - " + id + "\n    collectors:\n      groups: {enabled: false}\n", `:4: tenants[0].collectors.groups: unknown key (known at tenants[0].collectors: credentials, signins, users)`},
		{"bad duration", "tenants:\n  - " + id + "\n    collectors:\n      users:\n        refresh_interval: 1x\n", `:5: tenants[0].collectors.users.refresh_interval: "1x": want a positive duration`},
		{"zero duration", "tenants:\n  - " + id + "\n    collectors:\n      users: {refresh_timeout: 0s}\n", `:4: tenants[0].collectors.users.refresh_timeout: "0s": want a positive duration`},
		{"tenant not a mapping", "tenants:\n  - just-an-id\n", `:2: tenants[0]: want a mapping of keys`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{"mfa.yml": tc.config, "empty": "\n"})
			file := filepath.Join(dir, "mfa.yml")
			_, err := Load(file, testSources, testClouds)
			if err == nil {
				t.Fatalf("loaded; want an error containing %q", tc.want)
			}
			if !strings.HasPrefix(err.Error(), file) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got  %v\nwant %s%s...", err, file, tc.want)
			}
		})
	}
}

func TestFingerprintFollowsFileContent(t *testing.T) {
	dir := writeFiles(t, map[string]string{"s": "one",
		"mfa.yml": "tenants:\n  - tenant_id: a.example\n    client_id: c\n    client_secret_file: s\n  - tenant_id: b.example\n"})
	file := filepath.Join(dir, "mfa.yml")
	load := func() []Tenant {
		cfg, err := Load(file, testSources, testClouds)
		if err != nil {
			t.Fatal(err)
		}
		return cfg.Tenants
	}
	first, again := load(), load()
	if first[0].Fingerprint != again[0].Fingerprint || first[1].Fingerprint != again[1].Fingerprint {
		t.Fatal("loading the same file twice gave different fingerprints")
	}
	if err := os.WriteFile(filepath.Join(dir, "s"), []byte("two"), 0o600); err != nil {
		t.Fatal(err)
	}
	changed := load()
	if changed[0].Fingerprint == first[0].Fingerprint {
		t.Error("a new secret in the same file left the tenant's fingerprint unchanged")
	}
	if changed[1].Fingerprint != first[1].Fingerprint {
		t.Error("another tenant's secret changed this tenant's fingerprint")
	}
}

func TestParseShard(t *testing.T) {
	for in, want := range map[string]Shard{"": {0, 1}, "0/1": {0, 1}, "2/3": {2, 3}} {
		if got, err := ParseShard(in); err != nil || got != want {
			t.Errorf("ParseShard(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"3/3", "1", "0/0", "-1/2", "a/b", "1/2/3", " 0/2"} {
		if _, err := ParseShard(bad); err == nil || !strings.Contains(err.Error(), "--tenants.shard="+bad) {
			t.Errorf("ParseShard(%q): %v, want an error naming the flag and value", bad, err)
		}
	}
}

// Every tenant is read by exactly one of N shards, and the shards share the tenants evenly.
func TestShardsPartitionTheTenants(t *testing.T) {
	const n, tenants = 4, 4000
	counts := make([]int, n)
	for i := range tenants {
		id := fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i)
		owners := 0
		for s := range uint64(n) {
			if (Shard{Index: s, Count: n}).Owns(id) {
				owners++
				counts[s]++
			}
		}
		if owners != 1 {
			t.Fatalf("tenant %s is read by %d shards", id, owners)
		}
	}
	for s, c := range counts {
		if c < tenants/n*8/10 || c > tenants/n*12/10 {
			t.Errorf("shard %d/%d reads %d of %d tenants; want about %d", s, n, c, tenants, tenants/n)
		}
	}
}

func TestValidName(t *testing.T) {
	for name, want := range map[string]bool{"Contoso": true, "Contoso Ltd. (EU)": true, "Søren & Co's": true, "北京": true, "a1-b_c": true,
		"": false, " Contoso": false, "-x": false, "a{b}": false, "a\nb": false, "a\"b": false, strings.Repeat("x", 63): true, strings.Repeat("x", 64): false, "\xff": false} {
		if got := validName(name); got != want {
			t.Errorf("validName(%q) = %t, want %t", name, got, want)
		}
	}
}

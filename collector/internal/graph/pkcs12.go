package graph

import (
	"crypto/x509"
	"fmt"
	"os"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"software.sslmate.com/src/go-pkcs12"
)

// pkcs12Credential is the client certificate credential that azidentity's environment credential
// builds from AZURE_CLIENT_CERTIFICATE_PATH, for a PKCS#12 file that azidentity cannot read. Its
// loader is golang.org/x/crypto/pkcs12, which is frozen and reads only the legacy format
// (3DES, SHA-1): `openssl pkcs12 -export` of OpenSSL 3 writes AES-256 and a SHA-256 MAC, which
// it refuses with "pkcs12: unknown digest algorithm". x/crypto/pkcs12's own documentation points
// to software.sslmate.com/src/go-pkcs12, which reads both formats.
//
// It returns nil, nil where azidentity's environment credential is not used for a certificate
// (AZURE_TOKEN_CREDENTIALS picks other credentials, a secret is set, no certificate path) or can
// read the file itself; DefaultAzureCredential then goes its usual way. A file that is missing
// or that neither reads is refused here, naming the variable, where DefaultAzureCredential would
// pass on to the next credential of its chain.
func pkcs12Credential(tenantID string, opts azcore.ClientOptions, disableInstanceDiscovery bool) (azcore.TokenCredential, error) {
	path := os.Getenv("AZURE_CLIENT_CERTIFICATE_PATH")
	if !environmentCredentialSelected() || os.Getenv("AZURE_CLIENT_ID") == "" || os.Getenv("AZURE_CLIENT_SECRET") != "" || path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("AZURE_CLIENT_CERTIFICATE_PATH: %w", err)
	}
	password := os.Getenv("AZURE_CLIENT_CERTIFICATE_PASSWORD")
	_, _, azErr := azidentity.ParseCertificates(data, []byte(password))
	if azErr == nil {
		return nil, nil
	}
	key, cert, chain, err := pkcs12.DecodeChain(data, password)
	if err != nil {
		return nil, fmt.Errorf("AZURE_CLIENT_CERTIFICATE_PATH %s: not a PEM file with a key and a certificate (%v), nor a PKCS#12 file that opens with AZURE_CLIENT_CERTIFICATE_PASSWORD (%v)", path, azErr, err)
	}
	o := &azidentity.ClientCertificateCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: disableInstanceDiscovery}
	// The same variables azidentity's environment credential reads.
	if v := os.Getenv("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN"); v == "1" || strings.EqualFold(v, "true") {
		o.SendCertificateChain = true
	}
	if v := os.Getenv("AZURE_ADDITIONALLY_ALLOWED_TENANTS"); v != "" {
		o.AdditionallyAllowedTenants = strings.Split(v, ";")
	}
	cred, err := azidentity.NewClientCertificateCredential(tenantID, os.Getenv("AZURE_CLIENT_ID"), append([]*x509.Certificate{cert}, chain...), key, o)
	if err != nil {
		return nil, fmt.Errorf("AZURE_CLIENT_CERTIFICATE_PATH %s: %w", path, err)
	}
	return cred, nil
}

// environmentCredentialSelected says whether AZURE_TOKEN_CREDENTIALS lets DefaultAzureCredential
// use the environment credential (azidentity's default_azure_credential.go).
func environmentCredentialSelected() bool {
	v, set := os.LookupEnv("AZURE_TOKEN_CREDENTIALS")
	return !set || v == "prod" || strings.EqualFold(v, "EnvironmentCredential")
}

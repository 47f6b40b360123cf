package testsupport

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"sync"

	"github.com/golang-jwt/jwt/v5"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/fakegraph"
)

// TokenService is the part of the Entra ID token service that MSAL uses for the client
// credentials flow with instance discovery disabled (the OpenID configuration and the token
// endpoint), served beside a fake Graph, which then accepts the tokens it issues. Only tests use
// it, so that the JWT code stays out of the exporter's binary.
type TokenService struct {
	fake *fakegraph.Server

	mu      sync.Mutex
	tokens  map[string]issued // by access token
	clients map[string]clientAuth
}

// issued is whom a token was issued to, and for which tenant.
type issued struct{ clientID, tenantID string }

// NewTokenService serves a token service for fake's tenants beside it.
func NewTokenService(fake *fakegraph.Server) *TokenService {
	ts := &TokenService{fake: fake, tokens: map[string]issued{}, clients: map[string]clientAuth{}}
	fake.SetTokenService(ts)
	return ts
}

// TenantOf says which tenant the service issued token for, if it did.
func (s *TokenService) TenantOf(token string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[token]
	return t.tenantID, ok
}

// clientAuth is how an app registered with the fake token service proves itself.
type clientAuth struct {
	secret string
	cert   *x509.Certificate
}

// RegisterSecretClient lets clientID get tokens with a client secret.
func (s *TokenService) RegisterSecretClient(clientID, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients[clientID] = clientAuth{secret: secret}
}

// RegisterCertificateClient lets clientID get tokens with an assertion signed by cert's key.
func (s *TokenService) RegisterCertificateClient(clientID string, cert *x509.Certificate) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients[clientID] = clientAuth{cert: cert}
}

// IssuedTokens returns the access tokens issued, by client id. A client can hold several:
// concurrent first requests may each fetch one before the credential caches any.
func (s *TokenService) IssuedTokens() map[string][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string][]string{}
	for tok, t := range s.tokens {
		out[t.clientID] = append(out[t.clientID], tok)
	}
	return out
}

// ServeHTTP serves the OpenID configuration and the token endpoint of each of the fake's tenants.
// The configuration has the fields of the Microsoft identity platform's OpenID Connect metadata
// document (learn.microsoft.com/entra/identity-platform/v2-protocols-oidc, "Find your app's
// OpenID configuration document URI"); the token and error answers are those of the client
// credentials flow (learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow,
// "Successful response" and "Error response": token_type, expires_in, ext_expires_in,
// access_token; error, error_description with an AADSTS code).
func (s *TokenService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case len(parts) == 4 && parts[1] == "v2.0" && parts[2] == ".well-known" && parts[3] == "openid-configuration":
		base := s.fake.URL + "/" + parts[0]
		writeJSON(w, http.StatusOK, map[string]any{
			"token_endpoint":                        base + "/oauth2/v2.0/token",
			"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
			"device_authorization_endpoint":         base + "/oauth2/v2.0/devicecode",
			"issuer":                                base + "/v2.0",
			"jwks_uri":                              base + "/discovery/v2.0/keys",
			"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		})
	case len(parts) == 4 && parts[1] == "oauth2" && parts[2] == "v2.0" && parts[3] == "token" && r.Method == http.MethodPost:
		s.serveToken(w, r, parts[0])
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "not_found", "error_description": "AADSTS90002: unknown endpoint " + r.URL.Path})
	}
}

func (s *TokenService) serveToken(w http.ResponseWriter, r *http.Request, tenant string) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": err.Error()})
		return
	}
	if !s.fake.Serves(tenant) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "AADSTS90002: Tenant '" + tenant + "' not found."})
		return
	}
	if r.PostForm.Get("grant_type") != "client_credentials" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type", "error_description": "AADSTS70003: only client_credentials is served by this fake."})
		return
	}
	clientID := r.PostForm.Get("client_id")
	s.mu.Lock()
	c, known := s.clients[clientID]
	s.mu.Unlock()
	if !known || !c.verify(r, clientID) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret or assertion provided."})
		return
	}
	b := make([]byte, 16)
	rand.Read(b)
	token := "fakegraph-" + hex.EncodeToString(b)
	s.mu.Lock()
	s.tokens[token] = issued{clientID: clientID, tenantID: tenant}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token})
}

func (c clientAuth) verify(r *http.Request, clientID string) bool {
	if c.cert == nil {
		return c.secret != "" && r.PostForm.Get("client_secret") == c.secret
	}
	if r.PostForm.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		return false
	}
	claims := jwt.RegisteredClaims{}
	_, err := jwt.ParseWithClaims(r.PostForm.Get("client_assertion"), &claims, func(*jwt.Token) (any, error) {
		return c.cert.PublicKey, nil
	}, jwt.WithValidMethods([]string{"RS256", "PS256"}))
	return err == nil && claims.Issuer == clientID && claims.Subject == clientID
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	// Encoding fails only when the client has gone, and then there is no one left to tell.
	_ = json.NewEncoder(w).Encode(v)
}

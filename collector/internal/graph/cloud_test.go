package graph

import (
	"strings"
	"testing"
)

func TestLookupCloud(t *testing.T) {
	for name, graphURL := range map[string]string{
		"public":   "https://graph.microsoft.com",
		"usgov":    "https://graph.microsoft.us",
		"usgovdod": "https://dod-graph.microsoft.us",
		"china":    "https://microsoftgraph.chinacloudapi.cn",
	} {
		c, err := LookupCloud(name)
		if err != nil || c.GraphURL != graphURL {
			t.Errorf("LookupCloud(%q) = %+v, %v; want Graph at %s", name, c, err, graphURL)
		}
		if !IsKnownAuthority(c.AuthorityHost) {
			t.Errorf("cloud %s: its own authority %s is not known", name, c.AuthorityHost)
		}
		if got := Scope(c); got != graphURL+"/.default" {
			t.Errorf("Scope(%s) = %q", name, got)
		}
	}
	_, err := LookupCloud("azure")
	if err == nil || !strings.Contains(err.Error(), `"azure"`) || !strings.Contains(err.Error(), "china, public, usgov, usgovdod") {
		t.Errorf("LookupCloud(azure) error = %v, want one naming the value and listing the clouds", err)
	}
}

func TestIsKnownAuthority(t *testing.T) {
	for authority, want := range map[string]bool{
		"https://login.microsoftonline.com/":         true,
		"https://LOGIN.microsoftonline.us":           true,
		"https://login.chinacloudapi.cn/":            true,
		"https://127.0.0.1:41234/":                   false,
		"https://login.microsoftonline.com.example/": false,
		"https://sts.contoso.example/adfs/":          false,
		"%%not a url":                                false,
	} {
		if got := IsKnownAuthority(authority); got != want {
			t.Errorf("IsKnownAuthority(%q) = %t, want %t", authority, got, want)
		}
	}
}

func TestParseBaseURL(t *testing.T) {
	for raw, want := range map[string]string{
		"https://graph.microsoft.com":            "https://graph.microsoft.com",
		"https://graph.microsoft.com/":           "https://graph.microsoft.com",
		"https://graph.microsoft.us/v1.0":        "https://graph.microsoft.us",
		"https://graph.example/beta/":            "https://graph.example",
		"https://proxy.example:8443/graph/v1.0/": "https://proxy.example:8443/graph",
		"https://127.0.0.1:41234":                "https://127.0.0.1:41234",
		"https://[::1]:41234/":                   "https://[::1]:41234",
		"https://graph-proxy:8443":               "https://graph-proxy:8443",
		"https://xn--grph-8cd.example":           "https://xn--grph-8cd.example",
	} {
		if got, err := ParseBaseURL(raw); err != nil || got != want {
			t.Errorf("ParseBaseURL(%q) = %q, %v; want %q", raw, got, err, want)
		}
	}
	for _, raw := range []string{"", "graph.microsoft.com", "http://graph.microsoft.com", "https://", "https://graph.microsoft.com/?tenant=x",
		"https://graph.microsoft.com/#v1", "://graph", "ftp://graph.microsoft.com",
		"https://user:secret@graph.example", "https://graph.example:99999", "https://graph.example:0", "https://graph.example:",
		"https://gr\u0430ph.example", "https://graph..example", "https://-graph.example", "https://graph_example"} {
		if got, err := ParseBaseURL(raw); err == nil {
			t.Errorf("ParseBaseURL(%q) = %q, want an error", raw, got)
		} else if !strings.Contains(err.Error(), "graph endpoint") {
			t.Errorf("ParseBaseURL(%q) error %q does not say it is about the graph endpoint", raw, err)
		}
	}
}

func TestValidTenantID(t *testing.T) {
	for id, want := range map[string]bool{
		"11111111-2222-4333-8444-555555555555": true,
		"0B1C2D3E-4F50-4A6B-8C7D-9E0F1A2B3C4D": true,
		"contoso.onmicrosoft.com":              true,
		"fabrikam.test":                        true,
		"sub-domain.contoso.co.uk":             true,
		"..":                                   false,
		".":                                    false,
		"contoso":                              false, // not a domain: Entra names tenants by a verified domain
		"contoso..com":                         false,
		"-contoso.com":                         false,
		"contoso.com.":                         false,
		"contoso/../other":                     false,
		"11111111-2222-4333-8444-55555555555":  false,
		"":                                     false,
		strings.Repeat("a", 64) + ".com":       false,
	} {
		if got := validTenantID(id); got != want {
			t.Errorf("validTenantID(%q) = %t, want %t", id, got, want)
		}
	}
}

package graph

import (
	"fmt"
	"net/url"
	"strings"
)

// Cloud is a Microsoft cloud: where Graph lives, where tokens come from, and the token scope.
// Sources: azcore/cloud (authority hosts) and learn.microsoft.com/graph/deployments (Graph hosts).
type Cloud struct {
	Name          string
	GraphURL      string // base URL without a version, e.g. https://graph.microsoft.com
	AuthorityHost string // e.g. https://login.microsoftonline.com/
}

// clouds are the clouds --graph.cloud accepts, sorted by name as help and error texts list them.
func clouds() []Cloud {
	return []Cloud{
		{Name: "china", GraphURL: "https://microsoftgraph.chinacloudapi.cn", AuthorityHost: "https://login.chinacloudapi.cn/"},
		{Name: "public", GraphURL: "https://graph.microsoft.com", AuthorityHost: "https://login.microsoftonline.com/"},
		{Name: "usgov", GraphURL: "https://graph.microsoft.us", AuthorityHost: "https://login.microsoftonline.us/"},
		{Name: "usgovdod", GraphURL: "https://dod-graph.microsoft.us", AuthorityHost: "https://login.microsoftonline.us/"},
	}
}

// CloudNames lists the accepted --graph.cloud values, for help and error texts.
func CloudNames() []string {
	var names []string
	for _, c := range clouds() {
		names = append(names, c.Name)
	}
	return names
}

// LookupCloud returns the named cloud or an error that lists the valid names.
func LookupCloud(name string) (Cloud, error) {
	for _, c := range clouds() {
		if c.Name == name {
			return c, nil
		}
	}
	return Cloud{}, fmt.Errorf("unknown cloud %q: want one of %s", name, strings.Join(CloudNames(), ", "))
}

// IsKnownAuthority reports whether host is the authority of a well-known Microsoft cloud.
// azidentity's instance discovery only works there; elsewhere it must be disabled.
func IsKnownAuthority(authorityURL string) bool {
	u, err := url.Parse(authorityURL)
	if err != nil {
		return false
	}
	for _, c := range clouds() {
		if cu, _ := url.Parse(c.AuthorityHost); cu != nil && strings.EqualFold(cu.Hostname(), u.Hostname()) {
			return true
		}
	}
	return false
}

// ParseBaseURL checks a Graph base URL such as https://graph.microsoft.com or
// https://graph.example/v1.0 and returns it without a trailing version segment or slash.
func ParseBaseURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("graph endpoint %q: %w", raw, err)
	}
	if u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("graph endpoint %q: want an absolute https URL such as https://graph.microsoft.com", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("graph endpoint %q: must not carry a query or fragment", raw)
	}
	p := strings.TrimRight(u.Path, "/")
	p = strings.TrimSuffix(strings.TrimSuffix(p, "/v1.0"), "/beta")
	u.Path = p
	return strings.TrimRight(u.String(), "/"), nil
}

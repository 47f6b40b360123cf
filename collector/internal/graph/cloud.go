package graph

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
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
// https://graph.example/v1.0 and returns it without a trailing version segment or slash. The
// tokens go to its host, so it must name one host plainly: no user info, no port out of range,
// no host that is not an ASCII host name (an internationalised name goes in its xn-- form).
func ParseBaseURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("graph endpoint %q: %w", raw, err)
	}
	if u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("graph endpoint %q: want an absolute https URL such as https://graph.microsoft.com", raw)
	}
	if u.User != nil {
		return "", fmt.Errorf("graph endpoint %q: must not carry user info (credentials never go in flags)", u.Redacted())
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("graph endpoint %q: must not carry a query or fragment", raw)
	}
	if port := u.Port(); port != "" || strings.HasSuffix(u.Host, ":") {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("graph endpoint %q: port %q is not from 1 to 65535", raw, port)
		}
	}
	if host := u.Hostname(); net.ParseIP(host) == nil && !hostName.MatchString(host) {
		return "", fmt.Errorf("graph endpoint %q: host %q is not an ASCII host name (give an internationalised name in its xn-- form)", raw, host)
	}
	p := strings.TrimRight(u.Path, "/")
	p = strings.TrimSuffix(strings.TrimSuffix(p, "/v1.0"), "/beta")
	u.Path = p
	return strings.TrimRight(u.String(), "/"), nil
}

// dnsLabel is one label of a DNS name: letters, digits and inner hyphens, at most 63 characters.
const dnsLabel = `[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?`

var (
	// hostName is a DNS host name such as graph.microsoft.com or an internal proxy's name.
	hostName = regexp.MustCompile(`^` + dnsLabel + `(?:\.` + dnsLabel + `)*\.?$`)
	// domainName is a domain with at least two labels and a top-level domain of letters, such as
	// contoso.onmicrosoft.com: what a tenant is named by besides its GUID.
	domainName = regexp.MustCompile(`^(?:` + dnsLabel + `\.)+[A-Za-z]{2,63}$`)
)

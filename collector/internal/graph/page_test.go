package graph

import (
	"io"
	"net/http"
	"testing"

	jsonserialization "github.com/microsoft/kiota-serialization-json-go"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/fakegraph"
)

// fullReportPage is a page of 999 registration records as the fake Graph serves it.
func fullReportPage(b *testing.B) []byte {
	b.Helper()
	fake := fakegraph.Start(&fakegraph.Tenant{ID: "11111111-2222-4333-8444-555555555555", Seed: 3, Users: 999, Domain: "contoso.test"})
	defer fake.Close()
	req, _ := http.NewRequest(http.MethodGet, fake.URL+"/v1.0/reports/authenticationMethods/userRegistrationDetails?$top=999", nil)
	req.Header.Set("Authorization", "Bearer "+fakegraph.StaticToken)
	resp, err := fake.Client().Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.Fatal(err)
	}
	return body
}

// checkPage must cost little beside the SDK's parse of the same page:
// go test -run '^$' -bench 'Page$' ./collector/internal/graph/
func BenchmarkCheckPage(b *testing.B) {
	body := fullReportPage(b)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if err := checkPage(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParsePage(b *testing.B) {
	body := fullReportPage(b)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := jsonserialization.NewJsonParseNode(body); err != nil {
			b.Fatal(err)
		}
	}
}

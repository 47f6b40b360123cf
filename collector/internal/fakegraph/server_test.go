package fakegraph

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

const registrationPath = "/v1.0/reports/authenticationMethods/userRegistrationDetails"

// get reads the registration report with the bearer token and returns the status and the ids listed.
func get(t *testing.T, s *Server, token string) (int, []string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL+registrationPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var page struct {
		Value []struct {
			ID string `json:"id"`
		} `json:"value"`
	}
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
			t.Fatal(err)
		}
	}
	var ids []string
	for _, v := range page.Value {
		ids = append(ids, v.ID)
	}
	return resp.StatusCode, ids
}

func twoTenants() (a, b *Tenant) {
	return &Tenant{ID: "aaaaaaaa-0000-4000-8000-000000000001", Seed: 1, Users: 3, Domain: "a.example"},
		&Tenant{ID: "bbbbbbbb-0000-4000-8000-000000000002", Seed: 2, Users: 5, Domain: "b.example"}
}

// As Graph does, the fake serves each request the tenant its token was issued for.
func TestServesEachTokenItsTenant(t *testing.T) {
	a, b := twoTenants()
	s := Start(a, b)
	defer s.Close()
	for _, tc := range []struct {
		token  string
		tenant *Tenant
	}{{StaticToken, a}, {StaticTokenFor(a.ID), a}, {StaticTokenFor(b.ID), b}} {
		status, ids := get(t, s, tc.token)
		if status != http.StatusOK || len(ids) != tc.tenant.Users || ids[0] != tc.tenant.User(0).ID {
			t.Errorf("token %s: status %d, %d users starting %v; want tenant %s's %d users", tc.token, status, len(ids), ids, tc.tenant.ID, tc.tenant.Users)
		}
	}
	if status, _ := get(t, s, StaticTokenFor("cccccccc-0000-4000-8000-000000000003")); status != http.StatusUnauthorized {
		t.Errorf("a token for a tenant the fake does not serve: status %d, want 401", status)
	}
	if reqs := s.Requests(); len(reqs) != 4 || reqs[2].Tenant != b.ID || reqs[3].Tenant != "" {
		t.Errorf("requests record their tenant: %+v", reqs)
	}
}

// Graph's reports budget is per app and tenant, with a second budget per app across tenants.
func TestReportsBudgetsPerTenantAndAcrossTenants(t *testing.T) {
	a, b := twoTenants()
	s := Start(a, b)
	defer s.Close()
	s.EnforceReportsLimit(2, time.Hour)
	statuses := func(token string, n int) []int {
		var out []int
		for range n {
			status, _ := get(t, s, token)
			out = append(out, status)
		}
		return out
	}
	if got := statuses(StaticTokenFor(a.ID), 3); got[0] != 200 || got[1] != 200 || got[2] != 429 {
		t.Errorf("tenant a under 2 per hour: %v", got)
	}
	if got := statuses(StaticTokenFor(b.ID), 2); got[0] != 200 || got[1] != 200 {
		t.Errorf("tenant b's budget is its own: %v", got)
	}
	s.EnforceReportsLimit(0, 0)
	s.EnforceAppReportsLimit(3, time.Hour)
	got := append(statuses(StaticTokenFor(a.ID), 2), statuses(StaticTokenFor(b.ID), 2)...)
	if got[0] != 200 || got[1] != 200 || got[2] != 200 || got[3] != 429 {
		t.Errorf("3 per hour across tenants: %v", got)
	}
	if n := s.Throttled(); n != 2 {
		t.Errorf("Throttled() = %d, want 2", n)
	}
}

func TestFaultForOneTenant(t *testing.T) {
	a, b := twoTenants()
	s := Start(a, b)
	defer s.Close()
	s.Inject(Fault{Tenant: b.ID, Status: http.StatusForbidden, Code: "Authorization_RequestDenied", Message: "Insufficient privileges to complete the operation."})
	if status, _ := get(t, s, StaticTokenFor(a.ID)); status != http.StatusOK {
		t.Errorf("tenant a: %d", status)
	}
	if status, _ := get(t, s, StaticTokenFor(b.ID)); status != http.StatusForbidden {
		t.Errorf("tenant b: %d, want the fault's 403", status)
	}
}

func TestDemoTenantsDiffer(t *testing.T) {
	tenants := NewDemoTenants(6, 1000)
	if tenants[0].ID != DemoTenantID || tenants[0].Users != 1000 {
		t.Errorf("the first demo tenant is --demo's: %s with %d users", tenants[0].ID, tenants[0].Users)
	}
	ids, sizes := map[string]bool{}, map[int]bool{}
	for _, tenant := range tenants {
		if tenant.Users < 500 || tenant.Users > 1500 {
			t.Errorf("tenant %s has %d users, want 500 to 1500", tenant.ID, tenant.Users)
		}
		ids[tenant.ID], sizes[tenant.Users] = true, true
	}
	if len(ids) != 6 || len(sizes) < 4 {
		t.Errorf("6 demo tenants have %d ids and %d sizes", len(ids), len(sizes))
	}
	if again := NewDemoTenants(6, 1000); again[5].ID != tenants[5].ID || again[5].User(7).ID != tenants[5].User(7).ID {
		t.Error("the demo tenants are not the same from one start to the next")
	}
}

package collector

import (
	"context"
	"fmt"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/reports"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mfa-exporter/mfa_exporter/collector/graph"
)

// The users source reads the authentication methods registration report,
// GET /v1.0/reports/authenticationMethods/userRegistrationDetails (AuditLog.Read.All, Entra ID
// P1/P2). The report lags up to 36 hours and leaves out disabled users.
func init() {
	registerSource("users", "AuditLog.Read.All", time.Hour, func(c Config) (Source, error) {
		return &usersSource{cfg: c}, nil
	})
}

// reportPageSize is the $top asked for. Graph does not document the report's maximum; 999 is
// the directory APIs' maximum, and the exporter follows @odata.nextLink whatever size comes back.
const reportPageSize = 999

var userRegistrationFields = []string{"userType", "isAdmin", "isMfaRegistered", "isMfaCapable",
	"isPasswordlessCapable", "isSsprRegistered", "methodsRegistered", "userPreferredMethodForSecondaryAuthentication"}

// The user types always exported, so that a type with no users reads 0 rather than nothing.
var knownUserTypes = []string{"member", "guest"}

var (
	userLabels           = []string{"tenant_id", "user_type", "admin"}
	methodLabels         = []string{"tenant_id", "user_type", "method"}
	mfaRegisteredDesc    = entraDesc("mfa_registered_users", "Users registered for MFA (a strong method registered; the report's isMfaRegistered).", userLabels)
	mfaUnregisteredDesc  = entraDesc("mfa_unregistered_users", "Users not registered for MFA (the report's isMfaRegistered is false).", userLabels)
	mfaCapableDesc       = entraDesc("mfa_capable_users", "Users MFA capable: a strong method registered and allowed by policy (isMfaCapable).", userLabels)
	passwordlessDesc     = entraDesc("passwordless_capable_users", "Users capable of passwordless sign-in (isPasswordlessCapable).", userLabels)
	ssprRegisteredDesc   = entraDesc("sspr_registered_users", "Users registered for self-service password reset (isSsprRegistered).", userLabels)
	methodRegisteredDesc = entraDesc("auth_method_registered_users", "Users with each authentication method registered (methodsRegistered); a user counts once per method.", methodLabels)
	defaultMethodDesc    = entraDesc("default_mfa_method_users", "Users by their preferred secondary authentication method (userPreferredMethodForSecondaryAuthentication; none when unset).", methodLabels)
)

// entraDesc describes a tenant metric; every HELP says where the number comes from and that
// it is a cached background read.
func entraDesc(name, help string, labels []string) *prometheus.Desc {
	return prometheus.NewDesc("entra_"+name, help+" From Microsoft Graph, read in the background and served from cache; see mfa_exporter_source_last_success_timestamp_seconds.", labels, nil)
}

type usersSource struct{ cfg Config }

type userGroup struct {
	userType string
	admin    bool
}

type userCounts struct{ registered, unregistered, capable, passwordless, ssprRegistered float64 }

type userMethod struct{ userType, method string }

type usersSnapshot struct {
	tenantID string
	groups   map[userGroup]*userCounts
	methods  map[userMethod]float64
	defaults map[userMethod]float64
}

func (s *usersSource) Refresh(ctx context.Context) (Snapshot, error) {
	top := int32(reportPageSize)
	first, err := s.cfg.Graph.SDK.Reports().AuthenticationMethods().UserRegistrationDetails().Get(ctx,
		&reports.AuthenticationMethodsUserRegistrationDetailsRequestBuilderGetRequestConfiguration{
			Headers:         graph.JSONHeaders(),
			QueryParameters: &reports.AuthenticationMethodsUserRegistrationDetailsRequestBuilderGetQueryParameters{Top: &top, Select: userRegistrationFields},
		})
	if err != nil {
		return nil, fmt.Errorf("listing userRegistrationDetails: %w", err)
	}
	snap := &usersSnapshot{tenantID: s.cfg.TenantID, groups: map[userGroup]*userCounts{},
		methods: map[userMethod]float64{}, defaults: map[userMethod]float64{}}
	for _, t := range knownUserTypes {
		snap.groups[userGroup{t, false}] = &userCounts{}
		snap.groups[userGroup{t, true}] = &userCounts{}
	}
	err = graph.Each(ctx, s.cfg.Graph, first, models.CreateUserRegistrationDetailsCollectionResponseFromDiscriminatorValue, snap.add)
	if err != nil {
		return nil, fmt.Errorf("listing userRegistrationDetails: %w", err)
	}
	return snap, nil
}

func (s *usersSnapshot) add(u models.UserRegistrationDetailsable) error {
	if u.GetIsAdmin() == nil || u.GetIsMfaRegistered() == nil {
		return graph.MalformedError("a userRegistrationDetails record lacks isAdmin or isMfaRegistered")
	}
	userType := "unknown" // a value newer than the SDK's enum decodes to nil
	if t := u.GetUserType(); t != nil {
		userType = t.String() // the report sends member and guest in lowercase already
	}
	g := userGroup{userType, *u.GetIsAdmin()}
	c := s.groups[g]
	if c == nil {
		c = &userCounts{}
		s.groups[g] = c
	}
	if *u.GetIsMfaRegistered() {
		c.registered++
	} else {
		c.unregistered++
	}
	c.capable += boolValue(isTrue(u.GetIsMfaCapable()))
	c.passwordless += boolValue(isTrue(u.GetIsPasswordlessCapable()))
	c.ssprRegistered += boolValue(isTrue(u.GetIsSsprRegistered()))
	seen := map[string]bool{}
	for _, m := range u.GetMethodsRegistered() {
		if !seen[m] {
			seen[m] = true
			s.methods[userMethod{userType, m}]++
		}
	}
	preferred := "none"
	if p := u.GetUserPreferredMethodForSecondaryAuthentication(); p != nil {
		preferred = p.String()
	}
	s.defaults[userMethod{userType, preferred}]++
	return nil
}

func (s *usersSnapshot) Collect(ch chan<- prometheus.Metric) {
	for g, c := range s.groups {
		admin := fmt.Sprint(g.admin)
		for _, m := range [...]struct {
			desc  *prometheus.Desc
			value float64
		}{
			{mfaRegisteredDesc, c.registered}, {mfaUnregisteredDesc, c.unregistered}, {mfaCapableDesc, c.capable},
			{passwordlessDesc, c.passwordless}, {ssprRegisteredDesc, c.ssprRegistered},
		} {
			ch <- prometheus.MustNewConstMetric(m.desc, prometheus.GaugeValue, m.value, s.tenantID, g.userType, admin)
		}
	}
	for m, v := range s.methods {
		ch <- prometheus.MustNewConstMetric(methodRegisteredDesc, prometheus.GaugeValue, v, s.tenantID, m.userType, m.method)
	}
	for m, v := range s.defaults {
		ch <- prometheus.MustNewConstMetric(defaultMethodDesc, prometheus.GaugeValue, v, s.tenantID, m.userType, m.method)
	}
}

func isTrue(b *bool) bool { return b != nil && *b }

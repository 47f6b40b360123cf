package collector

import (
	"context"
	"fmt"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/graph"
)

func init() {
	declareSource("users", "AuditLog.Read.All", time.Hour, func(c sourceConfig) (source, error) {
		return &usersSource{cfg: c, unknownMethods: newUnknownValues(c.logger, "users")}, nil
	})
}

// reportPageSize is the $top asked for. Graph does not document the report's maximum; 999 is
// the directory APIs' maximum, and the exporter follows @odata.nextLink whatever size comes back.
const reportPageSize = 999

var userRegistrationFields = []string{"userType", "isAdmin", "isMfaRegistered", "isMfaCapable",
	"isPasswordlessCapable", "isSsprRegistered", "methodsRegistered", "userPreferredMethodForSecondaryAuthentication"}

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

// usersSource reads the authentication methods registration report,
// GET /v1.0/reports/authenticationMethods/userRegistrationDetails (AuditLog.Read.All, Entra ID
// P1/P2). The report lags up to 36 hours and leaves out disabled users.
type usersSource struct {
	cfg            sourceConfig
	unknownMethods *unknownValues // methodsRegistered values the strength table does not know
}

type userGroup struct {
	userType string
	admin    bool
}

type userCounts struct{ registered, unregistered, capable, passwordless, ssprRegistered float64 }

type userMethod struct{ userType, method string }

type usersSnapshot struct {
	tenantID  string
	groups    map[userGroup]*userCounts
	methods   map[userMethod]float64
	defaults  map[userMethod]float64
	strengths strengthTally // strength.go
}

func (s *usersSource) Refresh(ctx context.Context) (snapshot, error) {
	snap := &usersSnapshot{tenantID: s.cfg.tenantID, groups: map[userGroup]*userCounts{},
		methods: map[userMethod]float64{}, defaults: map[userMethod]float64{}, strengths: newStrengthTally(s.unknownMethods)}
	for _, t := range knownUserTypes {
		snap.groups[userGroup{t, false}] = &userCounts{}
		snap.groups[userGroup{t, true}] = &userCounts{}
	}
	q := graph.Query{Path: "/v1.0/reports/authenticationMethods/userRegistrationDetails", Select: userRegistrationFields, Top: reportPageSize}
	if err := graph.List(ctx, s.cfg.graph, q, models.CreateUserRegistrationDetailsCollectionResponseFromDiscriminatorValue, snap.add); err != nil {
		return nil, err
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
	s.strengths.add(g, u.GetMethodsRegistered())
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
	s.strengths.collect(ch, s.tenantID)
}

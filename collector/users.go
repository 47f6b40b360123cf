package collector

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/graph"
)

func init() {
	declareSource("users", "AuditLog.Read.All", time.Hour, func(c sourceConfig) (source, error) {
		return &usersSource{cfg: c}, nil
	})
}

// reportPageSize is the $top asked for. The report documents $filter only; Microsoft's own
// Entra PowerShell asks it for $top=999 (microsoftgraph/entra-powershell
// Get-EntraAuthenticationMethodUserRegistrationDetailReport.ps1). Should Graph refuse $top or
// $select, the client reads on without them (graph's queryoptions.go); it follows
// @odata.nextLink whatever size comes back.
const reportPageSize = 999

var userRegistrationFields = []string{"userType", "isAdmin", "isMfaRegistered", "isMfaCapable",
	"isPasswordlessCapable", "isSsprRegistered", "methodsRegistered", "userPreferredMethodForSecondaryAuthentication",
	"isSystemPreferredAuthenticationMethodEnabled", "systemPreferredAuthenticationMethods"}

var (
	userLabels           = []string{"tenant_id", "user_type", "admin"}
	methodLabels         = []string{"tenant_id", "user_type", "method"}
	mfaRegisteredDesc    = entraDesc("mfa_registered_users", "Users registered for MFA (a strong method registered in Entra ID; the report's isMfaRegistered).", userLabels)
	mfaUnregisteredDesc  = entraDesc("mfa_unregistered_users", "Users not registered for MFA in Entra ID (the report's isMfaRegistered is false; users of a third-party or federated MFA provider count here).", userLabels)
	mfaCapableDesc       = entraDesc("mfa_capable_users", "Users MFA capable: a strong method registered and allowed by policy (isMfaCapable).", userLabels)
	passwordlessDesc     = entraDesc("passwordless_capable_users", "Users capable of passwordless sign-in (isPasswordlessCapable).", userLabels)
	ssprRegisteredDesc   = entraDesc("sspr_registered_users", "Users registered for self-service password reset (isSsprRegistered).", userLabels)
	methodRegisteredDesc = entraDesc("auth_method_registered_users", "Users with each authentication method registered (methodsRegistered; other for a method Graph does not document); a user counts once per method.", methodLabels)
	defaultMethodDesc    = entraDesc("default_mfa_method_users", "Users by the second-factor method Entra asks them for: the first of systemPreferredAuthenticationMethods when system-preferred MFA is on, else userPreferredMethodForSecondaryAuthentication; none when unset, unknown when undocumented.", methodLabels)
)

// usersSource reads the authentication methods registration report,
// GET /v1.0/reports/authenticationMethods/userRegistrationDetails (AuditLog.Read.All, Entra ID
// P1/P2). The report lags up to 36 hours, leaves out disabled users and counts only methods
// registered in Entra ID (ED identity/authentication/howto-authentication-methods-activity).
type usersSource struct{ cfg sourceConfig }

type userGroup struct{ userType, admin string }

type userCounts struct{ registered, unregistered, capable, passwordless, ssprRegistered float64 }

type userMethod struct{ userType, method string }

type usersSnapshot struct {
	tenantID  string
	groups    map[userGroup]*userCounts
	methods   map[userMethod]float64
	defaults  map[userMethod]float64
	strengths strengthTally // strength.go
	notes     *recordNotes
}

func (s *usersSource) skipReasons() []string { return []string{skipNoID} }

func (s *usersSource) Refresh(ctx context.Context) (snapshot, error) {
	snap := &usersSnapshot{tenantID: s.cfg.tenantID, groups: map[userGroup]*userCounts{},
		methods: map[userMethod]float64{}, defaults: map[userMethod]float64{}, notes: newRecordNotes()}
	snap.strengths = newStrengthTally(snap.notes)
	defer snap.notes.report("users", s.cfg.logger, s.cfg.skipped)
	for _, t := range knownUserTypes {
		snap.groups[userGroup{t, "false"}] = &userCounts{}
		snap.groups[userGroup{t, "true"}] = &userCounts{}
	}
	q := graph.Query{Path: "/v1.0/reports/authenticationMethods/userRegistrationDetails", Select: userRegistrationFields, Top: reportPageSize}
	if err := graph.List(ctx, s.cfg.graph, q, newRegistrationPage, snap.add); err != nil {
		return nil, err
	}
	return snap, nil
}

// add counts a user with what the record has: unknown for a user type or admin flag it lacks or
// that Graph does not document, neither registered nor unregistered without isMfaRegistered.
func (s *usersSnapshot) add(u *registrationDetails) error {
	if graph.Deref(u.GetId()) == "" {
		s.notes.skip(skipNoID, "")
		return nil
	}
	userType := labelUnknown
	if t := graph.Deref(u.userType); userTypes[t] {
		userType = t
	} else {
		s.notes.oddValue("userType", t, labelUnknown)
	}
	admin := labelUnknown
	if a := u.GetIsAdmin(); a != nil {
		admin = fmt.Sprint(*a)
	} else {
		s.notes.oddValue("isAdmin", "", labelUnknown)
	}
	g := userGroup{userType, admin}
	c := s.groups[g]
	if c == nil {
		c = &userCounts{}
		s.groups[g] = c
	}
	switch registered := u.GetIsMfaRegistered(); {
	case registered == nil:
		s.notes.oddValue("isMfaRegistered", "", "neither registered nor unregistered")
	case *registered:
		c.registered++
	default:
		c.unregistered++
	}
	c.capable += boolValue(isTrue(u.GetIsMfaCapable()))
	c.passwordless += boolValue(isTrue(u.GetIsPasswordlessCapable()))
	c.ssprRegistered += boolValue(isTrue(u.GetIsSsprRegistered()))
	s.strengths.add(g, u.GetMethodsRegistered())
	seen := map[string]bool{}
	for _, m := range u.GetMethodsRegistered() {
		if !registeredMethods[m] {
			s.notes.oddValue("methodsRegistered", m, labelOther)
			m = labelOther
		}
		if !seen[m] {
			seen[m] = true
			s.methods[userMethod{userType, m}]++
		}
	}
	s.defaults[userMethod{userType, s.secondFactor(u)}]++
	return nil
}

// secondFactor is the method Entra asks the user for as a second factor. With system-preferred
// MFA on, that is the first of systemPreferredAuthenticationMethods; userPreferredMethodForSecondaryAuthentication
// "is used as preferred MFA method when isSystemPreferredAuthenticationMethodEnabled is false"
// (GD api-reference/v1.0/resources/userregistrationdetails.md). none when there is none,
// unknown for a value outside userDefaultAuthenticationMethod.
func (s *usersSnapshot) secondFactor(u *registrationDetails) string {
	field, method := "userPreferredMethodForSecondaryAuthentication", graph.Deref(u.preferred)
	if isTrue(u.GetIsSystemPreferredAuthenticationMethodEnabled()) {
		field, method = "systemPreferredAuthenticationMethods", ""
		if methods := u.GetSystemPreferredAuthenticationMethods(); len(methods) > 0 {
			method = methods[0]
		}
	}
	switch {
	case method == "":
		return "none"
	case secondFactorMethods[method]:
		return method
	}
	s.notes.oddValue(field, method, labelUnknown)
	return labelUnknown
}

func (s *usersSnapshot) Collect(ch chan<- prometheus.Metric) {
	for g, c := range s.groups {
		for _, m := range [...]struct {
			desc  *prometheus.Desc
			value float64
		}{
			{mfaRegisteredDesc, c.registered}, {mfaUnregisteredDesc, c.unregistered}, {mfaCapableDesc, c.capable},
			{passwordlessDesc, c.passwordless}, {ssprRegisteredDesc, c.ssprRegistered},
		} {
			ch <- prometheus.MustNewConstMetric(m.desc, prometheus.GaugeValue, m.value, s.tenantID, g.userType, g.admin)
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

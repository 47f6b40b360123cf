package fakegraph

import (
	"fmt"
	"net/http"
)

func init() {
	routes = append(routes, route{prefix: "/reports/authenticationMethods/userRegistrationDetails", serve: (*Server).serveUserRegistrationDetails})
}

// User is one row of the authentication methods registration report.
type User struct {
	ID, UserPrincipalName, DisplayName string
	Guest, Admin                       bool
	MfaRegistered, MfaCapable          bool
	PasswordlessCapable                bool
	SsprRegistered, SsprEnabled        bool
	SsprCapable                        bool
	Methods                            []string
	// Preferred is userPreferredMethodForSecondaryAuthentication; Graph sends "" when unset.
	Preferred       string
	SystemPreferred []string
}

// UserType is the report's userType: lowercase, unlike /users.
func (u User) UserType() string {
	if u.Guest {
		return "guest"
	}
	return "member"
}

// User generates the i-th user. The mix: 12% guests; 3% of members and 0.3% of guests hold
// an admin role; 97% of admins, 85% of members and 40% of guests are registered for MFA.
func (t *Tenant) User(i int) User {
	r := t.rng(streamUser, i)
	u := User{ID: r.uuid()}
	forcedAdmin := i < t.UnregisteredAdmins
	u.Guest = !forcedAdmin && r.chance(0.12)
	switch {
	case forcedAdmin:
		u.Admin = true
	case u.Guest:
		u.Admin = r.chance(0.003)
	default:
		u.Admin = r.chance(0.03)
	}
	switch {
	case forcedAdmin:
		u.MfaRegistered = false
	case u.Admin:
		u.MfaRegistered = r.chance(0.97)
	case u.Guest:
		u.MfaRegistered = r.chance(0.40)
	default:
		u.MfaRegistered = r.chance(0.85)
	}
	if u.Guest {
		u.UserPrincipalName = fmt.Sprintf("guest%07d_fabrikam.example#EXT#@%s", i, t.Domain)
		u.DisplayName = fmt.Sprintf("Guest %d", i)
	} else {
		u.UserPrincipalName = fmt.Sprintf("user%07d@%s", i, t.Domain)
		u.DisplayName = fmt.Sprintf("User %d", i)
	}
	has := map[string]bool{}
	add := func(m string, p float64) {
		if r.chance(p) {
			has[m] = true
			u.Methods = append(u.Methods, m)
		}
	}
	if u.MfaRegistered {
		add("microsoftAuthenticatorPush", 0.75)
		add("softwareOneTimePasscode", 0.25)
		add("mobilePhone", 0.45)
		add("fido2", 0.06)
		add("windowsHelloForBusiness", 0.20)
		add("microsoftAuthenticatorPasswordless", 0.08)
		add("email", 0.15)
		if len(u.Methods) == 0 || (len(u.Methods) == 1 && has["email"]) {
			has["mobilePhone"] = true
			u.Methods = append(u.Methods, "mobilePhone")
		}
		u.MfaCapable = r.chance(0.96)
		u.PasswordlessCapable = has["fido2"] || has["windowsHelloForBusiness"] || has["microsoftAuthenticatorPasswordless"]
		switch {
		case has["microsoftAuthenticatorPush"]:
			u.Preferred, u.SystemPreferred = "push", []string{"push"}
		case has["softwareOneTimePasscode"]:
			u.Preferred, u.SystemPreferred = "oath", []string{"oath"}
		case has["mobilePhone"]:
			u.Preferred, u.SystemPreferred = "sms", []string{"sms"}
		default:
			u.Preferred, u.SystemPreferred = "none", []string{}
		}
	} else {
		add("email", 0.30)
		u.SystemPreferred = []string{}
	}
	u.SsprEnabled = !u.Guest
	u.SsprRegistered = u.SsprEnabled && (has["email"] || has["mobilePhone"] || (u.MfaRegistered && r.chance(0.5)))
	u.SsprCapable = u.SsprEnabled && u.SsprRegistered
	if u.Methods == nil {
		u.Methods = []string{}
	}
	return u
}

func (s *Server) serveUserRegistrationDetails(w http.ResponseWriter, r *http.Request) {
	q, err := parseList(r, 100, 999)
	if err != nil {
		writeError(w, http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	s.writePage(w, r, "/v1.0/$metadata#reports/authenticationMethods/userRegistrationDetails", q, tenantOf(r).Users, func(i int, o *object) {
		u := tenantOf(r).User(i)
		o.Str("id", u.ID)
		o.Str("userPrincipalName", u.UserPrincipalName)
		o.Str("userDisplayName", u.DisplayName)
		o.Str("userType", u.UserType())
		o.Bool("isAdmin", u.Admin)
		o.Bool("isSsprRegistered", u.SsprRegistered)
		o.Bool("isSsprEnabled", u.SsprEnabled)
		o.Bool("isSsprCapable", u.SsprCapable)
		o.Bool("isMfaRegistered", u.MfaRegistered)
		o.Bool("isMfaCapable", u.MfaCapable)
		o.Bool("isPasswordlessCapable", u.PasswordlessCapable)
		o.Bool("isSystemPreferredAuthenticationMethodEnabled", true)
		o.Str("lastUpdatedDateTime", "2026-11-24T03:15:41.6195833Z")
		o.Strs("methodsRegistered", u.Methods)
		o.Strs("systemPreferredAuthenticationMethods", u.SystemPreferred)
		o.Str("userPreferredMethodForSecondaryAuthentication", u.Preferred)
	})
}

// UserGroup is a user type and admin flag, the labels of the user gauges.
type UserGroup struct {
	UserType string
	Admin    bool
}

// UserCounts are the per-group user counts.
type UserCounts struct{ Registered, Unregistered, Capable, Passwordless, SsprRegistered int }

// TypeAndValue is a user type with a method name.
type TypeAndValue struct{ UserType, Value string }

// UserTruth is what an exporter should count for the tenant's users.
type UserTruth struct {
	Groups map[UserGroup]UserCounts
	// Methods counts users per registered method; Preferred counts users per preferred
	// secondary method, "none" when Graph sends none.
	Methods, Preferred map[TypeAndValue]int
}

// UserTruth counts the generated users directly.
func (t *Tenant) UserTruth() UserTruth {
	truth := UserTruth{Groups: map[UserGroup]UserCounts{}, Methods: map[TypeAndValue]int{}, Preferred: map[TypeAndValue]int{}}
	for i := range t.Users {
		u := t.User(i)
		g := UserGroup{u.UserType(), u.Admin}
		c := truth.Groups[g]
		if u.MfaRegistered {
			c.Registered++
		} else {
			c.Unregistered++
		}
		if u.MfaCapable {
			c.Capable++
		}
		if u.PasswordlessCapable {
			c.Passwordless++
		}
		if u.SsprRegistered {
			c.SsprRegistered++
		}
		truth.Groups[g] = c
		for _, m := range u.Methods {
			truth.Methods[TypeAndValue{u.UserType(), m}]++
		}
		p := u.Preferred
		if p == "" {
			p = "none"
		}
		truth.Preferred[TypeAndValue{u.UserType(), p}]++
	}
	return truth
}

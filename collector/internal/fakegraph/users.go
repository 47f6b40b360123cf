package fakegraph

import (
	"fmt"
	"net/http"
	"slices"
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
	Preferred string
	// SystemPreferredEnabled is isSystemPreferredAuthenticationMethodEnabled; with it on, Entra
	// asks for the first of SystemPreferred instead of Preferred.
	SystemPreferredEnabled bool
	SystemPreferred        []string
	// Odd is how the record departs from what Graph documents (Tenant.Odd); "" for none.
	Odd string
}

// The ways a user record departs from the documented shape, as a future Graph or a broken proxy
// might send it; none is documented: each is here to test that one such record, in the middle of
// a page, is counted with what it has.
const (
	OddNoID                     = "no id"
	OddUserType                 = "userType externalMember" // not a signInUserType
	OddNoIsAdmin                = "no isAdmin"
	OddNoIsMfaRegistered        = "no isMfaRegistered"
	OddMethod                   = "methodsRegistered with futureMethod" // not a documented method
	OddPreferredMethod          = "userPreferredMethodForSecondaryAuthentication futureMethod"
	OddSystemPreferred          = "systemPreferredAuthenticationMethods [futureMethod]"
	undocumentedMethod          = "futureMethod"
	undocumentedUserType        = "externalMember"
	streamOdd            uint64 = 0x0dd
)

var oddUsers = []string{OddNoID, OddUserType, OddNoIsAdmin, OddNoIsMfaRegistered, OddMethod, OddPreferredMethod, OddSystemPreferred}

// UserType is the report's userType: lowercase, unlike /users.
func (u User) UserType() string {
	if u.Guest {
		return "guest"
	}
	return "member"
}

// SecondFactor is the method Entra asks the user for as a second factor: the first system-
// preferred method when system-preferred MFA is on, else the user's preferred one
// (GD api-reference/v1.0/resources/userregistrationdetails.md); "" when there is none.
func (u User) SecondFactor() string {
	if u.SystemPreferredEnabled {
		if len(u.SystemPreferred) == 0 {
			return ""
		}
		return u.SystemPreferred[0]
	}
	return u.Preferred
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
		u.Preferred, u.SystemPreferred = secondFactors(r, has)
	} else {
		add("email", 0.30)
		u.SystemPreferred = []string{}
	}
	u.SystemPreferredEnabled = r.chance(0.7)
	u.SsprEnabled = !u.Guest
	u.SsprRegistered = u.SsprEnabled && (has["email"] || has["mobilePhone"] || (u.MfaRegistered && r.chance(0.5)))
	u.SsprCapable = u.SsprEnabled && u.SsprRegistered
	if u.Methods == nil {
		u.Methods = []string{}
	}
	if or := t.rng(streamOdd, i); or.chance(t.Odd) {
		u.Odd = oddUsers[or.intn(len(oddUsers))]
	}
	return u
}

// secondFactors are a registered user's preferred and system-preferred second factors. The
// system prefers Authenticator push, then a one-time passcode, then the phone (ED
// identity/authentication/concept-system-preferred-multifactor-authentication); users pick any
// they have, and some pick none ("").
func secondFactors(r *rng, has map[string]bool) (preferred string, system []string) {
	var candidates []string
	for _, m := range []struct{ method, value string }{
		{"microsoftAuthenticatorPush", "push"}, {"softwareOneTimePasscode", "oath"}, {"mobilePhone", "sms"}, {"mobilePhone", "voiceMobile"},
	} {
		if has[m.method] {
			candidates = append(candidates, m.value)
		}
	}
	if len(candidates) == 0 {
		return "none", []string{}
	}
	system = []string{candidates[0]}
	if r.chance(0.1) {
		return "", system
	}
	return candidates[r.intn(len(candidates))], system
}

func (s *Server) serveUserRegistrationDetails(w http.ResponseWriter, r *http.Request) {
	q, err := parseList(r, 100, 999)
	if err != nil {
		writeError(w, http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	s.writePage(w, r, "/v1.0/$metadata#reports/authenticationMethods/userRegistrationDetails", q, s.Tenant.Users, func(i int, o *object) {
		writeUser(o, s.Tenant.User(i))
	})
}

// writeUser writes a userRegistrationDetails record in the shape of GD
// api-reference/v1.0/api/authenticationmethodsroot-list-userregistrationdetails.md (its example,
// and GRAPH-FACTS §1), or with its Odd departure.
func writeUser(o *object, u User) {
	userType, methods, preferred, system := u.UserType(), u.Methods, u.Preferred, u.SystemPreferred
	switch u.Odd {
	case OddUserType:
		userType = undocumentedUserType
	case OddMethod:
		methods = append(slices.Clone(methods), undocumentedMethod)
	case OddPreferredMethod:
		preferred = undocumentedMethod
	case OddSystemPreferred:
		system = []string{undocumentedMethod}
	}
	if u.Odd != OddNoID {
		o.Str("id", u.ID)
	}
	o.Str("userPrincipalName", u.UserPrincipalName)
	o.Str("userDisplayName", u.DisplayName)
	o.Str("userType", userType)
	if u.Odd != OddNoIsAdmin {
		o.Bool("isAdmin", u.Admin)
	}
	o.Bool("isSsprRegistered", u.SsprRegistered)
	o.Bool("isSsprEnabled", u.SsprEnabled)
	o.Bool("isSsprCapable", u.SsprCapable)
	if u.Odd != OddNoIsMfaRegistered {
		o.Bool("isMfaRegistered", u.MfaRegistered)
	}
	o.Bool("isMfaCapable", u.MfaCapable)
	o.Bool("isPasswordlessCapable", u.PasswordlessCapable)
	o.Bool("isSystemPreferredAuthenticationMethodEnabled", u.SystemPreferredEnabled)
	o.Str("lastUpdatedDateTime", "2026-11-24T03:15:41.6195833Z")
	o.Strs("methodsRegistered", methods)
	o.Strs("systemPreferredAuthenticationMethods", system)
	o.Str("userPreferredMethodForSecondaryAuthentication", preferred)
}

// UserGroup is a user type and admin flag, the labels of the user gauges: "member" or "guest"
// ("unknown" for an undocumented userType) and "true" or "false" ("unknown" without isAdmin).
type UserGroup struct {
	UserType, Admin string
}

// UserCounts are the per-group user counts.
type UserCounts struct{ Registered, Unregistered, Capable, Passwordless, SsprRegistered int }

// TypeAndValue is a user type with a method name.
type TypeAndValue struct{ UserType, Value string }

// UserTruth is what an exporter should count for the tenant's users.
type UserTruth struct {
	Groups map[UserGroup]UserCounts
	// Methods counts users per registered method ("other" for an undocumented one, a user once);
	// Preferred counts users per second factor Entra asks for, "none" when there is none,
	// "unknown" for an undocumented one.
	Methods, Preferred map[TypeAndValue]int
	// WithoutID are the records without an id, which nothing places.
	WithoutID int
}

// UserTruth counts the generated users directly.
func (t *Tenant) UserTruth() UserTruth {
	truth := UserTruth{Groups: map[UserGroup]UserCounts{}, Methods: map[TypeAndValue]int{}, Preferred: map[TypeAndValue]int{}}
	for i := range t.Users {
		u := t.User(i)
		g, placed := u.Group()
		if !placed {
			truth.WithoutID++
			continue
		}
		c := truth.Groups[g]
		switch {
		case u.Odd == OddNoIsMfaRegistered:
		case u.MfaRegistered:
			c.Registered++
		default:
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
			truth.Methods[TypeAndValue{g.UserType, m}]++
		}
		if u.Odd == OddMethod {
			truth.Methods[TypeAndValue{g.UserType, "other"}]++
		}
		truth.Preferred[TypeAndValue{g.UserType, secondFactorLabel(u)}]++
	}
	return truth
}

// Group is the user type and admin labels an exporter should count the user under, and false
// for a record it cannot place (no id).
func (u User) Group() (UserGroup, bool) {
	g := UserGroup{u.UserType(), fmt.Sprint(u.Admin)}
	switch u.Odd {
	case OddNoID:
		return g, false
	case OddUserType:
		g.UserType = "unknown"
	case OddNoIsAdmin:
		g.Admin = "unknown"
	}
	return g, true
}

func secondFactorLabel(u User) string {
	switch {
	case u.Odd == OddPreferredMethod && !u.SystemPreferredEnabled, u.Odd == OddSystemPreferred && u.SystemPreferredEnabled:
		return "unknown"
	case u.SecondFactor() == "":
		return "none"
	}
	return u.SecondFactor()
}

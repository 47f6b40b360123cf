package collector

import (
	"github.com/prometheus/client_golang/prometheus"
)

// The strongest method a user registered, from the registration report's methodsRegistered
// (no request of its own). The yardstick is Microsoft's built-in authentication strengths
// (learn.microsoft.com/graph/api/authenticationstrengthroot-list-policies):
//   - phishing_resistant: a method of the "Phishing-resistant MFA" strength: FIDO2 security
//     keys and passkeys, Windows Hello for Business, and the macOS platform credential, which
//     authentication strengths count as Windows Hello for Business.
//   - app: a second factor of the "Multifactor authentication" strength in an app or token:
//     Microsoft Authenticator (push or passwordless phone sign-in) and OATH codes.
//   - phone: the MFA strength's phone factors: SMS and voice to any registered phone.
//   - none: nothing that is a lasting second factor: email and security questions are in no
//     strength; a Temporary Access Pass satisfies the MFA strength but expires, it is how a user
//     registers a method, not one.
// A value the table does not know counts as none (a user is never counted stronger on a value
// nobody has classified) and is logged once per refresh (recordNotes).

type methodStrength int

// Strengths, weakest first: the strongest method is the highest.
const (
	strengthNone methodStrength = iota
	strengthPhone
	strengthApp
	strengthPhishingResistant
	strengthCount
)

var strengthLabels = [strengthCount]string{"none", "phone", "app", "phishing_resistant"}

// registeredMethodStrengths classifies the methodsRegistered values Microsoft's docs and examples
// name (userRegistrationDetails, the beta usageAuthMethod enum, the portal's method list).
var registeredMethodStrengths = map[string]methodStrength{
	"fido2":                              strengthPhishingResistant,
	"fido2SecurityKey":                   strengthPhishingResistant,
	"passKeyDeviceBound":                 strengthPhishingResistant,
	"passKeyDeviceBoundAuthenticator":    strengthPhishingResistant,
	"passKeyDeviceBoundWindowsHello":     strengthPhishingResistant,
	"passKeySynced":                      strengthPhishingResistant,
	"windowsHelloForBusiness":            strengthPhishingResistant,
	"macOsSecureEnclaveKey":              strengthPhishingResistant,
	"microsoftAuthenticatorPush":         strengthApp,
	"microsoftAuthenticatorPasswordless": strengthApp,
	"softwareOneTimePasscode":            strengthApp,
	"hardwareOneTimePasscode":            strengthApp,
	"mobilePhone":                        strengthPhone,
	"alternateMobilePhone":               strengthPhone,
	"officePhone":                        strengthPhone,
	"email":                              strengthNone,
	"securityQuestion":                   strengthNone,
	"password":                           strengthNone,
	"temporaryAccessPass":                strengthNone,
}

var strongestMethodDesc = entraDesc("mfa_strongest_method_users",
	"Users by the strongest authentication method they registered (methodsRegistered): phishing_resistant (FIDO2, passkeys, Windows Hello for Business), app (Authenticator, OATH), phone (SMS, voice) or none.",
	[]string{"tenant_id", "user_type", "admin", "strength"})

// strengthTally counts users by user type, admin and strongest method.
type strengthTally struct {
	notes  *recordNotes // of the users source's refresh
	counts map[userGroup]*[strengthCount]float64
}

func newStrengthTally(notes *recordNotes) strengthTally {
	t := strengthTally{notes: notes, counts: map[userGroup]*[strengthCount]float64{}}
	for _, userType := range knownUserTypes {
		for _, admin := range []string{"false", "true"} {
			t.counts[userGroup{userType, admin}] = &[strengthCount]float64{}
		}
	}
	return t
}

// add counts one user of group g who registered methods.
func (t strengthTally) add(g userGroup, methods []string) {
	strongest := strengthNone
	for _, m := range methods {
		s, known := registeredMethodStrengths[m]
		if !known {
			t.notes.oddValue("methodsRegistered", m, "strength "+strengthLabels[strengthNone])
		}
		strongest = max(strongest, s)
	}
	c := t.counts[g]
	if c == nil {
		c = &[strengthCount]float64{}
		t.counts[g] = c
	}
	c[strongest]++
}

func (t strengthTally) collect(ch chan<- prometheus.Metric, tenantID string) {
	for g, c := range t.counts {
		for s, n := range c {
			ch <- prometheus.MustNewConstMetric(strongestMethodDesc, prometheus.GaugeValue, n, tenantID, g.userType, g.admin, strengthLabels[s])
		}
	}
}

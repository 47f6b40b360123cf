package fakegraph

// The strongest method each user registered, by Microsoft's built-in authentication strengths
// (api-reference/v1.0/api/authenticationstrengthroot-list-policies.md): phishing_resistant is a
// method of the phishing-resistant strength (FIDO2 and passkeys, Windows Hello for Business and
// the macOS platform credential it stands for), app and phone are the second factors of the MFA
// strength (Authenticator and OATH; SMS and voice). Everything else is none: email, security
// questions and passwords are in no strength, a Temporary Access Pass expires, and a value this
// table does not know adds nothing.

// Strength labels, weakest first.
var Strengths = []string{"none", "phone", "app", "phishing_resistant"}

var methodStrengths = map[string]string{
	"fido2": "phishing_resistant", "fido2SecurityKey": "phishing_resistant", "windowsHelloForBusiness": "phishing_resistant",
	"passKeyDeviceBound": "phishing_resistant", "passKeyDeviceBoundAuthenticator": "phishing_resistant",
	"passKeyDeviceBoundWindowsHello": "phishing_resistant", "passKeySynced": "phishing_resistant",
	"macOsSecureEnclaveKey":      "phishing_resistant",
	"microsoftAuthenticatorPush": "app", "microsoftAuthenticatorPasswordless": "app",
	"softwareOneTimePasscode": "app", "hardwareOneTimePasscode": "app",
	"mobilePhone": "phone", "alternateMobilePhone": "phone", "officePhone": "phone",
}

// StrongestMethod is the strength label of the strongest of methods.
func StrongestMethod(methods []string) string {
	best := 0
	for _, m := range methods {
		for rank, s := range Strengths {
			if methodStrengths[m] == s && rank > best {
				best = rank
			}
		}
	}
	return Strengths[best]
}

// StrengthTruth counts the generated users by user type, admin and strongest method.
func (t *Tenant) StrengthTruth() map[UserGroup]map[string]int {
	truth := map[UserGroup]map[string]int{}
	for i := range t.Users {
		u := t.User(i)
		g, placed := u.Group()
		if !placed {
			continue
		}
		if truth[g] == nil {
			truth[g] = map[string]int{}
		}
		truth[g][StrongestMethod(u.Methods)]++
	}
	return truth
}

package fakegraph

import (
	"fmt"
	"time"
)

// Tenant describes a generated tenant. Every record is a pure function of (Seed, kind, index),
// so pages are generated on demand and the ground truth is computed from the same records
// without going through HTTP, JSON or the SDK.
type Tenant struct {
	ID   string
	Seed uint64
	// Users is the number of users in the registration report.
	Users int
	// UnregisteredAdmins makes the first users member admins without MFA, so that a demo
	// tenant breaks the "every admin has MFA" rule on purpose.
	UnregisteredAdmins int
	// Credentials sizes the service principals and applications (credentials.go).
	Credentials CredentialMix
	// SignIns sizes the sign-in log (signins.go).
	SignIns SignInMix
	// Odd is the share of users and sign-ins whose record departs from what Graph documents (a
	// field missing, an undocumented value: User.Odd, SignIn.Odd), as a future Graph or a broken
	// proxy might send; 0 serves only documented shapes.
	Odd float64
	// Policies are the Conditional Access policies, security defaults and authentication
	// methods policy (policies.go); nil serves none.
	Policies *PolicySet
	// Domain is the tenant's verified domain, used in generated UPNs.
	Domain string
	// Now is the tenant's clock; nil means time.Now.
	Now func() time.Time
}

// DemoTenantID is the tenant id of the demo tenant.
const DemoTenantID = "8f0c5a52-3d1e-4c7b-9a4e-0d5e7c1b2a60"

// NewDemoTenant is the tenant --demo serves.
func NewDemoTenant(users int) *Tenant {
	return &Tenant{ID: DemoTenantID, Seed: 20241015, Users: users, UnregisteredAdmins: 2, Domain: "contoso.example",
		Credentials: CredentialMix{ServicePrincipals: 3000, Applications: 400},
		SignIns:     SignInMix{PerDay: 8000, Late: 0.05, MaxDelay: 5 * time.Minute},
		Policies:    DemoPolicies()}
}

func (t *Tenant) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

// Record kinds, so that each kind draws from its own stream.
const (
	streamUser uint64 = iota + 1
	streamServicePrincipal
	streamApplication
	streamSignIn
)

// rng is splitmix64: tiny, fast, and good enough for realistic mixes.
type rng struct{ state uint64 }

func mix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (t *Tenant) rng(stream uint64, index int) *rng {
	return &rng{state: mix(t.Seed ^ mix(stream<<48^uint64(index)))}
}

func (r *rng) next() uint64 {
	r.state += 0x9e3779b97f4a7c15
	return mix(r.state)
}

// chance is true with probability p.
func (r *rng) chance(p float64) bool { return float64(r.next()>>11)/(1<<53) < p }

func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

func (r *rng) uuid() string {
	a, b := r.next(), r.next()
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", a>>32, (a>>16)&0xffff, a&0xfff, 0x8000|(b>>48)&0x3fff, b&0xffffffffffff)
}

package fakegraph

// SignInMix sizes the tenant's sign-in log.
type SignInMix struct {
	PerDay int
}

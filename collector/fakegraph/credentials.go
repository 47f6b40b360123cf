package fakegraph

// CredentialMix sizes the tenant's service principals and app registrations.
type CredentialMix struct {
	ServicePrincipals int
	Applications      int
}

package collector

import "github.com/prometheus/client_golang/prometheus"

// What the sources' metrics share.

// entraDesc describes a tenant metric; every HELP says where the number comes from and that
// it is a cached background read.
func entraDesc(name, help string, labels []string) *prometheus.Desc {
	return prometheus.NewDesc("entra_"+name, help+" From Microsoft Graph, read in the background and served from cache; see mfa_exporter_source_last_success_timestamp_seconds.", labels, nil)
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func isTrue(b *bool) bool { return b != nil && *b }

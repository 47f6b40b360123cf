//go:build race

package e2e

// Under `go test -race` the exporter under test is built with the race detector too, so the
// subprocess tests catch data races in the real binary (startExporter looks for them).
func init() { exporterBuildFlags = append(exporterBuildFlags, "-race") }

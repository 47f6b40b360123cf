package e2e

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mfa-exporter/mfa_exporter/collector/internal/config"
)

// --tenants.shard=I/N must put a tenant where Prometheus's own hashmod does, so that users can
// reproduce the split in a relabel rule. promtool check service-discovery runs Prometheus's
// relabelling on static targets, one per tenant id, and prints the labels it made.
func TestShardIsPrometheusHashmod(t *testing.T) {
	promtool := tool(t, "promtool", "PROMTOOL")
	ids := []string{"8f0c5a52-3d1e-4c7b-9a4e-0d5e7c1b2a60", "contoso.onmicrosoft.com", "fabrikam.example"}
	for i := range 200 {
		ids = append(ids, fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", i*2654435761%(1<<32), i*7, i%4096, (i*13)%4096, i*97))
	}
	moduli := []uint64{1, 2, 3, 7, 64}
	var cfg strings.Builder
	cfg.WriteString("scrape_configs:\n  - job_name: shard\n    static_configs:\n")
	for _, id := range ids {
		fmt.Fprintf(&cfg, "      - targets: [\"127.0.0.1:1\"]\n        labels: {tenant_id: %q}\n", id)
	}
	cfg.WriteString("    relabel_configs:\n")
	for _, m := range moduli {
		fmt.Fprintf(&cfg, "      - {source_labels: [tenant_id], target_label: shard_%d, modulus: %d, action: hashmod}\n", m, m)
	}
	file := filepath.Join(t.TempDir(), "prometheus.yml")
	writeFile(t, file, cfg.String())
	out, err := exec.Command(promtool, "check", "service-discovery", file, "shard", "--timeout=5s").Output()
	if err != nil {
		t.Fatalf("promtool check service-discovery: %v\n%s", err, out)
	}
	var targets []struct {
		Labels map[string]string `json:"labels"`
	}
	if err := json.Unmarshal(out, &targets); err != nil {
		t.Fatalf("promtool's output: %v\n%s", err, out)
	}
	if len(targets) != len(ids) {
		t.Fatalf("promtool listed %d targets, want %d", len(targets), len(ids))
	}
	for _, target := range targets {
		id := target.Labels["tenant_id"]
		for _, m := range moduli {
			want, err := strconv.ParseUint(target.Labels[fmt.Sprintf("shard_%d", m)], 10, 64)
			if err != nil {
				t.Fatalf("tenant %q: promtool made no shard_%d label: %v", id, m, err)
			}
			if got := config.HashMod(id, m); got != want {
				t.Errorf("tenant %q modulo %d: the exporter hashes to %d, Prometheus's hashmod to %d", id, m, got, want)
			}
			if owns := (config.Shard{Index: want, Count: m}).Owns(id); !owns {
				t.Errorf("tenant %q: shard %d/%d does not keep it", id, want, m)
			}
		}
	}
}

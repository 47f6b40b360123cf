package config

import (
	"crypto/md5" //nolint:gosec // not for security: the hash Prometheus's hashmod uses, so users can reproduce it
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// Shard is the part of the tenant list one replica reads (--tenants.shard=I/N): the tenants
// whose id hashes to Index modulo Count. The zero Shard (and 0/1) keeps every tenant.
//
// The hash is Prometheus's relabel action hashmod, so that a tenant's shard can be reproduced in
// a relabel rule on the tenant_id label: the big-endian uint64 of the last 8 bytes of the MD5 of
// the value, modulo N (prometheus/prometheus model/relabel/relabel.go, case HashMod).
type Shard struct {
	Index, Count uint64
}

// ParseShard reads I/N, I from 0 to N-1; "" is every tenant.
func ParseShard(s string) (Shard, error) {
	if s == "" {
		return Shard{Count: 1}, nil
	}
	i, n, ok := strings.Cut(s, "/")
	index, err1 := strconv.ParseUint(i, 10, 64)
	count, err2 := strconv.ParseUint(n, 10, 64)
	if !ok || err1 != nil || err2 != nil || count == 0 || index >= count {
		return Shard{}, fmt.Errorf("--tenants.shard=%s: want I/N with N at least 1 and I from 0 to N-1, e.g. 0/3", s)
	}
	return Shard{Index: index, Count: count}, nil
}

// HashMod is Prometheus's hashmod of value modulo n.
func HashMod(value string, n uint64) uint64 {
	sum := md5.Sum([]byte(value)) //nolint:gosec // see Shard
	return binary.BigEndian.Uint64(sum[8:]) % n
}

// Owns says whether the shard reads the tenant with this tenant_id label value.
func (s Shard) Owns(tenantID string) bool {
	return s.Count <= 1 || HashMod(tenantID, s.Count) == s.Index
}

func (s Shard) String() string {
	if s.Count <= 1 {
		return "all"
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

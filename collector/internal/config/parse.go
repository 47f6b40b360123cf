package config

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// The file is walked as YAML nodes rather than decoded into structs: every value keeps its line,
// so that a value that cannot work is reported where it is, as an unknown key is, and the
// messages name the keys of the file rather than Go types.

type parser struct {
	file, dir       string
	sources, clouds []string
}

// scalar is a key's value with the node it came from; node is nil when the key is absent.
type scalar struct {
	key, value string
	node       *yaml.Node
}

// rawTenant is a tenant's keys as written, before their values are checked.
type rawTenant struct {
	path string
	node *yaml.Node

	id, name, cloud, clientID              scalar
	secretFile, certFile, certPasswordFile scalar
	tokenFile, managedIdentity             scalar
	collectors                             []rawCollector
}

type rawCollector struct {
	name     string
	override CollectorOverride
}

var tenantKeys = []string{"tenant_id", "name", "cloud", "client_id", "client_secret_file", "client_certificate_file",
	"client_certificate_password_file", "federated_token_file", "managed_identity", "collectors"}

func (p *parser) errAt(n *yaml.Node, key string, err error) error {
	return &Error{File: p.file, Line: n.Line, Key: key, Err: err}
}

func (p *parser) parse(data []byte) (*Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %s", p.file, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: the file is empty: want a tenants list", p.file)
	}
	fields, err := p.mapping(doc.Content[0], "", "tenants")
	if err != nil {
		return nil, err
	}
	list := fields["tenants"]
	if list == nil {
		return nil, p.errAt(doc.Content[0], "tenants", errors.New("missing: the file lists the tenants to read under tenants"))
	}
	if list = resolve(list); list.Kind != yaml.SequenceNode || len(list.Content) == 0 {
		return nil, p.errAt(list, "tenants", errors.New("want a list of at least one tenant"))
	}
	cfg := &Config{File: p.file}
	ids, names := map[string]int{}, map[string]int{}
	for i, n := range list.Content {
		raw, err := p.rawTenant(n, fmt.Sprintf("tenants[%d]", i))
		if err != nil {
			return nil, err
		}
		t, err := p.tenant(raw)
		if err != nil {
			return nil, err
		}
		if line, dup := ids[t.ID]; dup {
			return nil, p.errAt(raw.id.node, raw.path+".tenant_id", fmt.Errorf("%s is listed twice (first at line %d)", t.ID, line))
		}
		ids[t.ID] = raw.id.node.Line
		if line, dup := names[t.Name]; dup && t.Name != "" {
			return nil, p.errAt(raw.name.node, raw.path+".name", fmt.Errorf("%q names two tenants (first at line %d)", t.Name, line))
		}
		if t.Name != "" {
			names[t.Name] = raw.name.node.Line
		}
		cfg.Tenants = append(cfg.Tenants, t)
	}
	return cfg, nil
}

func (p *parser) rawTenant(n *yaml.Node, path string) (rawTenant, error) {
	raw := rawTenant{path: path, node: n}
	fields, err := p.mapping(n, path, tenantKeys...)
	if err != nil {
		return raw, err
	}
	for _, s := range []struct {
		key string
		dst *scalar
	}{
		{"tenant_id", &raw.id}, {"name", &raw.name}, {"cloud", &raw.cloud}, {"client_id", &raw.clientID},
		{"client_secret_file", &raw.secretFile}, {"client_certificate_file", &raw.certFile},
		{"client_certificate_password_file", &raw.certPasswordFile}, {"federated_token_file", &raw.tokenFile},
	} {
		if err := p.scalarOf(fields, path, s.key, s.dst); err != nil {
			return raw, err
		}
	}
	raw.managedIdentity.key = "managed_identity"
	if n := fields["managed_identity"]; n != nil {
		on, err := p.boolOf(n, path+".managed_identity")
		if err != nil {
			return raw, err
		}
		if on {
			raw.managedIdentity.node = n
		}
	}
	if n := fields["collectors"]; n != nil {
		if raw.collectors, err = p.collectors(n, path+".collectors"); err != nil {
			return raw, err
		}
	}
	return raw, nil
}

// scalarOf reads the string value of key, if the mapping has it.
func (p *parser) scalarOf(fields map[string]*yaml.Node, path, key string, s *scalar) error {
	s.key = key
	n := fields[s.key]
	if n == nil {
		return nil
	}
	n = resolve(n)
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" || n.Value == "" {
		return p.errAt(n, path+"."+s.key, errors.New("want a non-empty value"))
	}
	s.value, s.node = n.Value, n
	return nil
}

func (p *parser) boolOf(n *yaml.Node, path string) (bool, error) {
	n = resolve(n)
	b, err := strconv.ParseBool(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil {
		return false, p.errAt(n, path, fmt.Errorf("%q: want true or false", n.Value))
	}
	return b, nil
}

// collectors reads a tenant's per-source overrides.
func (p *parser) collectors(n *yaml.Node, path string) ([]rawCollector, error) {
	fields, err := p.mapping(n, path, p.sources...)
	if err != nil {
		return nil, err
	}
	var out []rawCollector
	for _, name := range p.sources {
		cn := fields[name]
		if cn == nil {
			continue
		}
		cpath := path + "." + name
		keys, err := p.mapping(cn, cpath, "enabled", "refresh_interval", "refresh_timeout")
		if err != nil {
			return nil, err
		}
		c := rawCollector{name: name}
		if en := keys["enabled"]; en != nil {
			on, err := p.boolOf(en, cpath+".enabled")
			if err != nil {
				return nil, err
			}
			c.override.Enabled = &on
		}
		for key, d := range map[string]*time.Duration{"refresh_interval": &c.override.RefreshInterval, "refresh_timeout": &c.override.RefreshTimeout} {
			if dn := keys[key]; dn != nil {
				if *d, err = p.durationOf(dn, cpath+"."+key); err != nil {
					return nil, err
				}
			}
		}
		out = append(out, c)
	}
	return out, nil
}

func (p *parser) durationOf(n *yaml.Node, path string) (time.Duration, error) {
	n = resolve(n)
	d, err := model.ParseDuration(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil || d <= 0 {
		return 0, p.errAt(n, path, fmt.Errorf("%q: want a positive duration such as 30m, 2h or 1d", n.Value))
	}
	return time.Duration(d), nil
}

// mapping returns a mapping's values by key, after merge keys (<<: *anchor), so that tenants can
// share an app's keys through a YAML anchor. A key outside allowed is an error at its line.
func (p *parser) mapping(n *yaml.Node, path string, allowed ...string) (map[string]*yaml.Node, error) {
	n = resolve(n)
	where := path
	if where == "" {
		where = "the top level"
	}
	if n.Kind != yaml.MappingNode {
		return nil, p.errAt(n, path, fmt.Errorf("want a mapping of keys (%s) at %s", strings.Join(allowed, ", "), where))
	}
	own, merged := map[string]*yaml.Node{}, map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Value == "<<" && k.Tag == "!!merge" {
			if err := p.merge(v, path, merged, allowed); err != nil {
				return nil, err
			}
			continue
		}
		if !slices.Contains(allowed, k.Value) {
			return nil, p.errAt(k, joinKey(path, k.Value), fmt.Errorf("unknown key (known at %s: %s)", where, strings.Join(allowed, ", ")))
		}
		own[k.Value] = v
	}
	for k, v := range merged {
		if own[k] == nil {
			own[k] = v
		}
	}
	return own, nil
}

// merge adds the keys of a merge key's mapping (or list of mappings, the first one winning).
func (p *parser) merge(v *yaml.Node, path string, into map[string]*yaml.Node, allowed []string) error {
	sources := []*yaml.Node{v}
	if r := resolve(v); r.Kind == yaml.SequenceNode {
		sources = r.Content
	}
	for _, s := range sources {
		fields, err := p.mapping(s, path, allowed...)
		if err != nil {
			return err
		}
		for k, fv := range fields {
			if into[k] == nil {
				into[k] = fv
			}
		}
	}
	return nil
}

func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// resolve follows an alias (*anchor) to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

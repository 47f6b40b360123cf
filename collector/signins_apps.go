package collector

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/google/uuid"
)

// The app and resource labels of a sign-in. app names the client the user signed in with, from
// the table of mandatory MFA's apps (builtinManagementApps, values.go) and what
// --collector.signins.app adds, other for the rest; resource says whether the sign-in was to
// Azure Resource Manager, which enforces phase 2 whatever the client.

// appTable maps lowercase app ids to app labels.
type appTable map[string]string

// appNamePattern is what an app label may be: a Prometheus-friendly word, at most 64 characters.
var appNamePattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// newAppTable is the built-in table with the entries of --collector.signins.app (NAME=APPID),
// which add apps or rename the built-in ones.
func newAppTable(entries []string) (appTable, error) {
	t := maps.Clone(appTable(builtinManagementApps))
	for _, e := range entries {
		appID, name, err := parseAppEntry(e)
		if err != nil {
			return nil, fmt.Errorf("--collector.signins.app=%s: %w", e, err)
		}
		t[appID] = name
	}
	return t, nil
}

// parseAppEntry reads NAME=APPID.
func parseAppEntry(e string) (appID, name string, err error) {
	name, appID, ok := strings.Cut(e, "=")
	id, err := uuid.Parse(appID)
	switch {
	case !ok:
		return "", "", fmt.Errorf("want NAME=APPID, e.g. m365_admin_center=618dd325-23f6-4b6f-8380-4df78026e39b")
	case !appNamePattern.MatchString(name) || name == labelOther || name == labelUnknown:
		return "", "", fmt.Errorf("the name %q must be lowercase letters, digits and _, starting with a letter, at most 64 characters, and not other or unknown", name)
	case err != nil || len(appID) != 36:
		return "", "", fmt.Errorf("the app id %q is not a GUID such as 618dd325-23f6-4b6f-8380-4df78026e39b", appID)
	}
	return id.String(), name, nil
}

// appEntries are the values of --collector.signins.app, each checked as the flags are parsed,
// so that a bad one stops the exporter before anything else is tried.
type appEntries []string

func (a *appEntries) Set(v string) error {
	if _, _, err := parseAppEntry(v); err != nil {
		return err
	}
	*a = append(*a, v)
	return nil
}

func (a *appEntries) String() string { return strings.Join(*a, ",") }

// IsCumulative makes the flag repeatable.
func (a *appEntries) IsCumulative() bool { return true }

// label is the app label of a sign-in's appId.
func (t appTable) label(appID string) string {
	if name, ok := t[strings.ToLower(appID)]; ok {
		return name
	}
	return labelOther
}

// names are the table's app labels, sorted, each once.
func (t appTable) names() []string {
	return slices.Compact(slices.Sorted(maps.Values(t)))
}

// ids are the table's app ids, sorted.
func (t appTable) ids() []string { return slices.Sorted(maps.Keys(t)) }

// resourceLabel is the resource label of a sign-in's resourceId.
func resourceLabel(resourceID string) string {
	if strings.EqualFold(resourceID, resourceManagerID) {
		return resourceManager
	}
	return resourceOther
}

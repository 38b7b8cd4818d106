package automation

import (
	"fmt"
	"strings"
	"time"

	"github.com/presswork/presswork/internal/cronspec"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

// defaultRule is one of the rules a site gets by default: the cadences of
// the WordPress CRON jobs that automation replaces.
type defaultRule struct {
	name     string
	stage    string
	schedule string
	maxItems int
}

var defaultRules = []defaultRule{
	{"Cluster new keywords", store.StageCluster, "@every 6h", 1},
	{"Generate ideas", store.StageIdeas, "@every 6h", 20},
	{"Write drafts", store.StageDrafts, "@every 3h", 10},
	{"Generate images", store.StageImages, "@every 3h", 10},
	{"Publish approved drafts", store.StagePublish, "@every 12h", 10},
}

// Defaults asks for a site's default rules: enabled (the default) or not,
// in a time zone (blank or absent: UTC).
type Defaults struct {
	Enabled  *bool   `json:"enabled"`
	Timezone *string `json:"timezone"`
}

// DefaultRules returns the default rules of a site, one stage each, in
// pipeline order; when enabled each fires first after now. A bad time zone
// is an *errs.ValidationError.
func (l Limits) DefaultRules(siteID int64, d Defaults, now time.Time) ([]store.Rule, error) {
	enabled, tz := true, defaultTimezone
	if d.Enabled != nil {
		enabled = *d.Enabled
	}
	if d.Timezone != nil && strings.TrimSpace(*d.Timezone) != "" {
		tz = strings.TrimSpace(*d.Timezone)
	}
	if _, err := cronspec.Location(tz); err != nil {
		return nil, errs.Invalid("timezone", "%s", err.Error())
	}
	rules := make([]store.Rule, len(defaultRules))
	for i, dr := range defaultRules {
		// The product's own cadences, whatever the minimum interval.
		sched, err := cronspec.Parse(dr.schedule, tz, 0)
		if err != nil {
			return nil, fmt.Errorf("default rule %q: %w", dr.name, err)
		}
		rules[i] = store.Rule{SiteID: siteID, Name: dr.name, Schedule: dr.schedule, Timezone: tz,
			Stages: []string{dr.stage}, IdeasPerCluster: defaultIdeas, MaxItems: min(dr.maxItems, l.MaxItems),
			Conditions: []store.Condition{}, Enabled: enabled}
		if enabled {
			next := sched.Next(now)
			rules[i].NextFireAt = &next
		}
	}
	return rules, nil
}

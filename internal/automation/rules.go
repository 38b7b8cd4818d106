// Package automation holds the rules of Presswork's automation as pure logic
// over store's types: what a valid rule is and a site's default rules, the
// conditions a run tests, the helpers a run plans its work with, and which
// drafts wait for an editor's review. It speaks no HTTP and touches no
// database or queue; the API and the automation run's task call it.
package automation

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/presswork/presswork/internal/cronspec"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

// Limits of a rule's fields, and the defaults of those a create may leave out.
const (
	maxRuleName     = 100
	maxIdeas        = 10
	maxCredits      = 1_000_000_000_000
	defaultMaxItems = 50
	defaultIdeas    = 3
	defaultTimezone = "UTC"
)

// RuleChange is a rule write as the API takes it. On create the fields the
// rule needs are required; on update a nil field keeps the stored value.
type RuleChange struct {
	SiteID          *int64             `json:"site_id"`
	Name            *string            `json:"name"`
	Schedule        *string            `json:"schedule"`
	Timezone        *string            `json:"timezone"`
	Stages          *[]string          `json:"stages"`
	IdeasPerCluster *int               `json:"ideas_per_cluster"`
	AutoApprove     *bool              `json:"auto_approve"`
	MaxItems        *int               `json:"max_items"`
	Conditions      *[]store.Condition `json:"conditions"`
	Enabled         *bool              `json:"enabled"`
	// MaxCredits is raw so that null (no cap) differs from absent (kept).
	MaxCredits json.RawMessage `json:"max_credits"`
}

// Limits are the deployment's bounds on rules.
type Limits struct {
	// MinInterval is the shortest time a new or changed schedule may leave
	// between two firings.
	MinInterval time.Duration
	// MaxItems is the largest item cap a rule may have.
	MaxItems int
}

// Create validates a new rule and returns it, with the defaults of the
// fields ch leaves out and, when enabled, its first firing after now.
// Every problem is reported at once, as an *errs.ValidationError.
func (l Limits) Create(ch RuleChange, now time.Time) (store.Rule, error) {
	r := store.Rule{Timezone: defaultTimezone, IdeasPerCluster: defaultIdeas, MaxItems: defaultMaxItems,
		Conditions: []store.Condition{}, Enabled: true}
	err := l.apply(ch, &r, true, now)
	return r, err
}

// Update validates ch and writes it onto the stored rule r, computing the
// next firing afresh when the schedule, the time zone or enabled changed.
// Every problem is reported at once, as an *errs.ValidationError; r then
// holds the fields that were written anyway.
func (l Limits) Update(ch RuleChange, r *store.Rule, now time.Time) error {
	return l.apply(ch, r, false, now)
}

// ruleWrite is one rule write under way: the change, the rule it changes
// and the problems found so far.
type ruleWrite struct {
	ch       RuleChange
	r        *store.Rule
	create   bool
	problems errs.ValidationError
}

func (l Limits) apply(ch RuleChange, r *store.Rule, create bool, now time.Time) error {
	w := &ruleWrite{ch: ch, r: r, create: create}
	w.site()
	w.name()
	sched, timingChanged, err := w.timing(l.MinInterval)
	if err != nil {
		return err
	}
	w.stages()
	w.sizes(l.MaxItems)
	w.conditions()
	if ch.AutoApprove != nil {
		r.AutoApprove = *ch.AutoApprove
	}
	wasEnabled := r.Enabled
	if ch.Enabled != nil {
		r.Enabled = *ch.Enabled
	}
	if err := w.problems.OrNil(); err != nil {
		return err
	}
	switch {
	case !r.Enabled:
		r.NextFireAt = nil
	case timingChanged || !wasEnabled || r.NextFireAt == nil:
		next := sched.Next(now)
		r.NextFireAt = &next
	}
	return nil
}

// required reports a field a create leaves out, and says whether it is set.
func (w *ruleWrite) required(field string, set bool) bool {
	if !set && w.create {
		w.problems.Add(field, "is required")
	}
	return set
}

// site applies site_id, which a create needs and an update may not change.
func (w *ruleWrite) site() {
	switch id := w.ch.SiteID; {
	case w.create && id == nil:
		w.problems.Add("site_id", "is required")
	case w.create && *id <= 0:
		w.problems.Add("site_id", "must be a positive id")
	case w.create:
		w.r.SiteID = *id
	case id != nil:
		w.problems.Add("site_id", "cannot change; create a rule for the other site instead")
	}
}

// name applies the rule's name, trimmed.
func (w *ruleWrite) name() {
	if !w.required("name", w.ch.Name != nil) {
		return
	}
	w.problems.CheckText("name", *w.ch.Name, 1, maxRuleName)
	w.r.Name = strings.TrimSpace(*w.ch.Name)
}

// timing applies the time zone and the schedule and returns the schedule
// the rule fires by. changed says whether either was written (always on a
// create): then the schedule must keep minInterval. The error is a stored
// schedule that no longer parses.
func (w *ruleWrite) timing(minInterval time.Duration) (sched cronspec.Schedule, changed bool, err error) {
	changed = w.create || w.ch.Schedule != nil || w.ch.Timezone != nil
	tzOK := w.timezone()
	if w.required("schedule", w.ch.Schedule != nil) {
		w.r.Schedule = strings.TrimSpace(*w.ch.Schedule)
	}
	switch {
	case w.create && w.ch.Schedule == nil: // reported as required
	case changed:
		tz := w.r.Timezone
		if !tzOK {
			tz = defaultTimezone // still say what is wrong with the schedule itself
		}
		if sched, err = cronspec.Parse(w.r.Schedule, tz, minInterval); err != nil {
			w.problems.Add("schedule", "%s", err.Error())
		}
	default:
		// The stored schedule: the minimum interval it was accepted under holds.
		if sched, err = cronspec.Parse(w.r.Schedule, w.r.Timezone, 0); err != nil {
			return sched, false, fmt.Errorf("stored schedule of rule %d: %w", w.r.ID, err)
		}
	}
	return sched, changed, nil
}

// timezone applies the time zone (blank is UTC) and says whether the
// rule's time zone is valid.
func (w *ruleWrite) timezone() bool {
	if w.ch.Timezone != nil {
		w.r.Timezone = strings.TrimSpace(*w.ch.Timezone)
		if w.r.Timezone == "" {
			w.r.Timezone = defaultTimezone
		}
	}
	if _, err := cronspec.Location(w.r.Timezone); err != nil {
		w.problems.Add("timezone", "%s", err.Error())
		return false
	}
	return true
}

// stages applies the rule's stages, in pipeline order.
func (w *ruleWrite) stages() {
	if !w.required("stages", w.ch.Stages != nil) {
		return
	}
	if stages, ok := checkStages(&w.problems, *w.ch.Stages); ok {
		w.r.Stages = stages
	}
}

// sizes applies what bounds a run's work: ideas per cluster, the item
// cap (at most maxItems) and the credit cap.
func (w *ruleWrite) sizes(maxItems int) {
	if n := w.ch.IdeasPerCluster; n != nil {
		w.r.IdeasPerCluster = *n
		if *n < 1 || *n > maxIdeas {
			w.problems.Add("ideas_per_cluster", "must be from 1 to %d ideas per cluster", maxIdeas)
		}
	}
	if n := w.ch.MaxItems; n != nil {
		w.r.MaxItems = *n
		if *n < 1 || *n > maxItems {
			w.problems.Add("max_items", "must be from 1 to %d", maxItems)
		}
	}
	if w.ch.MaxCredits != nil {
		if mc, ok := parseMaxCredits(w.ch.MaxCredits); ok {
			w.r.MaxCredits = mc
		} else {
			w.problems.Add("max_credits", "must be null (no cap) or a whole number from 0 to %d", int64(maxCredits))
		}
	}
}

// parseMaxCredits reads max_credits: null, or a whole number in range.
func parseMaxCredits(raw json.RawMessage) (*int64, bool) {
	if string(raw) == "null" {
		return nil, true
	}
	var n int64
	if err := json.Unmarshal(raw, &n); err != nil || n < 0 || n > maxCredits {
		return nil, false
	}
	return &n, true
}

// conditions applies the conditions a run tests before it plans.
func (w *ruleWrite) conditions() {
	if w.ch.Conditions == nil {
		return
	}
	CheckConditions(&w.problems, *w.ch.Conditions)
	w.r.Conditions = *w.ch.Conditions
	if w.r.Conditions == nil {
		w.r.Conditions = []store.Condition{}
	}
}

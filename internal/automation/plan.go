package automation

import (
	"fmt"
	"slices"
	"strings"

	"github.com/presswork/presswork/internal/store"
)

// MaxNamed bounds the subjects a run report names per stage.
const MaxNamed = 20

// Budget is what a run may still spend.
type Budget struct {
	Items   int
	Credits int64
	// Capped says Credits is the rule's credit cap, not the balance.
	Capped bool
}

// NewBudget returns what a run may spend: the items the rule's cap leaves
// beside its unfinished jobs, and the credits available or, when lower,
// the rule's credit cap.
func NewBudget(rc store.RunContext) Budget {
	b := Budget{Items: max(0, rc.Rule.MaxItems-rc.Unfinished), Credits: rc.Available}
	if rc.Rule.MaxCredits != nil && *rc.Rule.MaxCredits < b.Credits {
		b.Credits, b.Capped = *rc.Rule.MaxCredits, true
	}
	return b
}

// Spend takes one item quoted at quote off the budget.
func (b *Budget) Spend(quote int64) {
	b.Credits -= quote
	b.Items--
}

// Shortfall says why a stage stops when its next job, quoted at quote,
// does not fit the credits left; left is how many items it leaves.
func (b Budget) Shortfall(stage string, quote int64, left int) string {
	if b.Capped {
		return fmt.Sprintf("the run's credit cap is spent: %d %s items left for a later run (the next needs %d credits, %d left)",
			left, stage, quote, b.Credits)
	}
	return fmt.Sprintf("not enough credits: the next %s job needs %d, %d available; %d items left", stage, quote, b.Credits, left)
}

// Blocked says why a run must do nothing whatever its conditions, or "".
func Blocked(rc store.RunContext) string {
	switch {
	case rc.TenantStatus != "active":
		return "the tenant is " + rc.TenantStatus
	case !rc.Rule.Enabled && rc.Run.Trigger == "schedule":
		return "the rule was disabled after it fired"
	case !rc.Site.Enabled:
		return fmt.Sprintf("site %q is disabled", rc.Site.Name)
	}
	return ""
}

// CandidateQuery asks for the work of a run's stage on the rule's site;
// jobType is the task type of the stage's jobs.
func CandidateQuery(rc store.RunContext, stage, jobType string) store.CandidateQuery {
	return store.CandidateQuery{
		TenantID: rc.Rule.TenantID, SiteID: rc.Rule.SiteID, Stage: stage, JobType: jobType,
		IdeasPerCluster: rc.Rule.IdeasPerCluster,
		AutoApprove:     PublishesUnapproved(rc.Rule, rc.Site),
		// In a run that makes images, a draft is published once it has them.
		NeedImages: slices.Contains(rc.Rule.Stages, store.StageImages),
	}
}

// nothingToDo says why each stage found no work.
var nothingToDo = map[string]string{
	store.StageCluster: "nothing to do: no keyword is new since the last clustering (keywords it could not group " +
		"wait for new ones, or for POST /v1/sites/:id/clustering), or a clustering job is in flight",
	store.StageIdeas:   "nothing to do: every cluster has its ideas or an ideas job in flight",
	store.StageDrafts:  "nothing to do: every idea has a draft or a draft job in flight",
	store.StageImages:  "nothing to do: every unpublished draft has images, an image job in flight, or failed images waiting for their retry (back-off) or past the retry limit",
	store.StagePublish: "nothing to do: no draft is ready to publish",
}

// NothingToDo reports a stage that found no candidates.
func NothingToDo(stage string) store.Skip {
	return store.Skip{Stage: stage, Reason: nothingToDo[stage]}
}

// CapReached reports a stage's candidates left over because the rule's
// item cap is reached: total of them, subjects naming what they are
// ("ideas"), named the first of them (at most MaxNamed are listed).
func CapReached(rc store.RunContext, stage, subjects string, named []int64, total int64) store.Skip {
	named = named[:min(len(named), MaxNamed)]
	list := make([]string, len(named))
	for i, id := range named {
		list[i] = fmt.Sprint(id)
	}
	which := strings.Join(list, ", ")
	if total > int64(len(named)) {
		which = fmt.Sprintf("the first %d: %s", len(named), which)
	}
	return store.Skip{Stage: stage, Subjects: named, Reason: fmt.Sprintf(
		"the cap of %d items is reached (it counts this rule's jobs still queued or running, from earlier runs too: "+
			"%d jobs of earlier runs are unfinished): %d %s left for a later run (%s)",
		rc.Rule.MaxItems, rc.Unfinished, total, subjects, which)}
}

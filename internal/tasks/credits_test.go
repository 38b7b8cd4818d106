package tasks_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// TestCreditsUnderConcurrency queues 50 drafts the tenant could afford when
// it asked, then debits it down to exactly 10 drafts' worth before a worker
// runs: 10 jobs must succeed and be charged, 40 must fail for lack of
// credits without any ledger effect, and the balance must end at zero
// without ever going below it.
func TestCreditsUnderConcurrency(t *testing.T) {
	t.Parallel()
	const total, affordable = 50, 10
	h := apptest.Start(t, apptest.WithEnv("WORKER_CONCURRENCY", "16"))
	cost := h.App.Config.Costs.Draft
	st := h.App.Store
	tk, c := h.Tenant(t, "credits-race", total*cost)
	tenant := tk.Tenant.ID
	seed := seedIdeas(t, st, tenant, total, "race")

	ids := draftJobs(t, c, seed.Ideas...)
	balance, err := st.GrantCredits(bg(t), tenant, -(total-affordable)*cost, "operator debit")
	apptest.Must(t, err, "debit")
	if balance != affordable*cost {
		t.Fatalf("balance after the debit is %d, want %d", balance, affordable*cost)
	}

	h.StartWorker(t)
	minBalance := balance
	apptest.Eventually(t, 60*time.Second, "every draft job finishes", func() (bool, error) {
		tn, err := st.GetTenant(bg(t), tenant)
		if err != nil {
			return false, err
		}
		minBalance = min(minBalance, tn.CreditBalance)
		for _, id := range ids {
			if !getJob(t, st, tenant, id).Final() {
				return false, nil
			}
		}
		return true, nil
	})
	if minBalance < 0 {
		t.Errorf("balance went down to %d", minBalance)
	}

	entries := checkCredits(t, st, tenant, 0)
	succeeded, failed := 0, 0
	for _, id := range ids {
		j := getJob(t, st, tenant, id)
		switch j.State {
		case store.JobSucceeded:
			succeeded++
			if j.CreditsCharged != cost || j.CreditsReserved != cost {
				t.Errorf("succeeded job %s reserved %d and charged %d, want %d", id, j.CreditsReserved, j.CreditsCharged, cost)
			}
			if got, want := jobLedger(entries, id), "reserve:-3"; got != want {
				t.Errorf("succeeded job %s ledger %q, want %q", id, got, want)
			}
		case store.JobFailed:
			failed++
			if msg := deref(j.LastError); !strings.Contains(msg, "insufficient credits") {
				t.Errorf("failed job %s says %q, want an insufficient-credits message", id, msg)
			}
			if j.CreditsCharged != 0 || j.CreditsReserved != 0 {
				t.Errorf("failed job %s reserved %d and charged %d, want nothing", id, j.CreditsReserved, j.CreditsCharged)
			}
			if got := jobLedger(entries, id); got != "" {
				t.Errorf("failed job %s has ledger entries %q, want none", id, got)
			}
			if j.Attempts != 0 && j.Attempts != 1 {
				t.Errorf("failed job %s made %d attempts, want at most 1", id, j.Attempts)
			}
		default:
			t.Errorf("job %s ended %s", id, j.State)
		}
	}
	if succeeded != affordable || failed != total-affordable {
		t.Errorf("%d jobs succeeded and %d failed, want %d and %d", succeeded, failed, affordable, total-affordable)
	}
	drafts, err := st.ListDrafts(bg(t), tenant, seed.Site.ID, store.Page{Limit: 1000})
	apptest.Must(t, err, "list drafts")
	if len(drafts) != affordable {
		t.Errorf("%d drafts written, want %d", len(drafts), affordable)
	}

	// asynq did not retry the jobs that could not be paid for. (A handler
	// is still active for a moment after its job row is final: it releases
	// the tenant's next held jobs.)
	in := inspector(t, h)
	var info *asynq.QueueInfo
	apptest.Eventually(t, 10*time.Second, "the bulk queue's handlers return", func() (bool, error) {
		var err error
		info, err = in.GetQueueInfo(tasks.QueueBulk)
		return err == nil && info.Active == 0, err
	})
	if info.Retry != 0 || info.Pending != 0 {
		t.Errorf("bulk queue still holds work: %+v", info)
	}
}

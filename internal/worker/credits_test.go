package worker_test

import (
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/client"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// TestCreditsUnderConcurrency sends 50 single-draft requests at once for
// a tenant that can afford 10: exactly 10 must be accepted (each reserving
// its quote), the other 40 refused with 402 and nothing written for them;
// an operator's debit cannot take what the queued jobs reserved; the
// worker then runs the 10, each charged once, and the balance ends at zero
// without ever going below it.
func TestCreditsUnderConcurrency(t *testing.T) {
	t.Parallel()
	const total, affordable = 50, 10
	h := apptest.Start(t, apptest.WithEnv("WORKER_CONCURRENCY", "16"))
	cost := h.App.Config.Costs.Draft
	st := h.App.Store
	tk, c := h.Tenant(t, "credits-race", affordable*cost)
	tenant := tk.Tenant.ID
	seed := apptest.SeedIdeas(t, st, tenant, total, "race")

	var mu sync.Mutex
	var ids []string
	refused := 0
	var wg sync.WaitGroup
	for _, idea := range seed.Ideas {
		wg.Go(func() {
			var acc apptest.Accepted
			err := c.Do(apptest.Context(t), http.MethodPost, "/v1/drafts/generate", map[string]any{"idea_ids": []int64{idea.ID}}, &acc)
			mu.Lock()
			defer mu.Unlock()
			var apiErr *client.Error
			switch {
			case err == nil && len(acc.Jobs) == 1:
				ids = append(ids, acc.Jobs[0].ID)
			case errors.As(err, &apiErr) && apiErr.Status == http.StatusPaymentRequired:
				refused++
			default:
				t.Errorf("draft of idea %d: %v (%d jobs)", idea.ID, err, len(acc.Jobs))
			}
		})
	}
	wg.Wait()
	if len(ids) != affordable || refused != total-affordable {
		t.Fatalf("%d requests accepted and %d refused, want %d and %d", len(ids), refused, affordable, total-affordable)
	}
	if _, err := st.GrantCredits(apptest.Context(t), tenant, -cost, "operator debit"); err == nil {
		t.Fatal("a debit took credits the queued jobs reserved")
	}
	if jobs, err := st.ListJobs(apptest.Context(t), tenant, store.JobFilter{Type: tasks.TypeDraft}, "", 100); err != nil || len(jobs) != affordable {
		t.Fatalf("%d draft jobs written (%v), want %d", len(jobs), err, affordable)
	}

	h.StartWorker(t)
	minBalance := int64(0)
	apptest.Eventually(t, 60*time.Second, "every draft job finishes", func() (bool, error) {
		tn, err := st.GetTenant(apptest.Context(t), tenant)
		if err != nil {
			return false, err
		}
		minBalance = min(minBalance, tn.CreditBalance)
		for _, id := range ids {
			if !apptest.Job(t, st, tenant, id).Final() {
				return false, nil
			}
		}
		return true, nil
	})
	if minBalance < 0 {
		t.Errorf("balance went down to %d", minBalance)
	}

	entries := apptest.CheckCredits(t, st, tenant, 0)
	succeeded := 0
	for _, id := range ids {
		j := apptest.Job(t, st, tenant, id)
		if j.State != store.JobSucceeded {
			t.Errorf("job %s ended %s (%s)", id, j.State, apptest.Deref(j.LastError))
			continue
		}
		succeeded++
		if j.CreditsCharged != cost || j.CreditsReserved != cost {
			t.Errorf("succeeded job %s reserved %d and charged %d, want %d", id, j.CreditsReserved, j.CreditsCharged, cost)
		}
		if got, want := apptest.JobLedger(entries, id), "reserve:-3"; got != want {
			t.Errorf("succeeded job %s ledger %q, want %q", id, got, want)
		}
	}
	if succeeded != affordable {
		t.Errorf("%d jobs succeeded, want %d", succeeded, affordable)
	}
	drafts, err := st.ListDrafts(apptest.Context(t), tenant, seed.Site.ID, store.Page{Limit: 1000})
	apptest.Must(t, err, "list drafts")
	if len(drafts) != affordable {
		t.Errorf("%d drafts written, want %d", len(drafts), affordable)
	}

	// asynq holds no work left over: nothing was retried. (A handler is
	// still active for a moment after its job row is final.)
	in := h.Inspector(t)
	queues, err := in.Queues()
	apptest.Must(t, err, "list queues")
	for _, queue := range queues {
		var info *asynq.QueueInfo
		apptest.Eventually(t, 10*time.Second, "the "+queue+" queue's handlers return", func() (bool, error) {
			var err error
			info, err = in.GetQueueInfo(queue)
			return err == nil && info.Active == 0, err
		})
		if info.Retry != 0 || info.Pending != 0 {
			t.Errorf("%s queue still holds work: %+v", queue, info)
		}
	}
}

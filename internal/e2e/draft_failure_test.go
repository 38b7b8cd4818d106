package e2e_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/testenv"
	"github.com/presswork/presswork/internal/wordpress/fakewp"
)

// draftReport is a draft's publish_report as the API shows it.
type draftReport struct {
	Status string                `json:"status"`
	Failed *store.PublishFailure `json:"failed"`
}

// TestPublishFailureOnDraft: a publish that fails shows why on its draft,
// in the job's words and code. A wrong application password fails for
// good at once (final); a site answering 503 leaves the draft saying when
// the next attempt is and how many remain, until the job is canceled; a
// successful publish after the password is corrected clears the failure.
func TestPublishFailureOnDraft(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t, apptest.WithEnv("RETRY_BASE_DELAY", "1h"))
	h.StartWorker(t)
	wp := fakewp.New(t, fakewp.Config{RefuseWrongPassword: true})
	r := startPublishRun(t, h, "draft-reasons",
		testenv.WordPressSite{URL: wp.SiteURL(), User: fakewp.User, AppPassword: fakewp.Password}, 2, nil)
	denied, flaky := r.drafts[0], r.drafts[1]
	const wrong = "wrong wrong wrong"
	sitePath := fmt.Sprintf("/v1/sites/%d", r.site.ID)

	// A wrong application password: failed for good, with the reason.
	r.api.do(http.MethodPatch, sitePath, map[string]any{"application_password": wrong}, nil)
	var acc apptest.Accepted
	r.api.do(http.MethodPost, "/v1/drafts/publish", map[string]any{"draft_ids": []int64{denied.ID}}, &acc)
	j := (&tenantRun{api: r.api}).waitFailed(acc.Jobs[0].ID)
	d, rep := r.waitFailure(denied.ID, j.ID)
	if f := rep.Failed; f == nil || f.JobID != j.ID || f.ErrorCode != errs.CodeAuthRejected || !f.Final ||
		f.Error != apptest.Deref(j.LastError) || !strings.Contains(f.Error, "application password") ||
		f.RetryAt != nil || f.RetriesLeft != nil || time.Since(f.At) > time.Minute {
		t.Errorf("draft after a refused password: publish_report %s; want job %s's failure %q, auth_rejected, final",
			d.PublishReport, j.ID, apptest.Deref(j.LastError))
	}
	if strings.Contains(string(d.PublishReport), wrong) || d.Status == store.DraftPublished {
		t.Errorf("draft after a refused password: %s, publish_report %s", d.Status, d.PublishReport)
	}

	// A site answering 503: the draft says when the job tries again.
	r.api.do(http.MethodPatch, sitePath, map[string]any{"application_password": fakewp.Password}, nil)
	wp.Inject(http.MethodPost, "/wp/v2/posts", fakewp.Fault{Status: http.StatusServiceUnavailable,
		Body: `{"code":"maintenance","message":"Briefly unavailable","data":{"status":503}}`})
	r.api.do(http.MethodPost, "/v1/drafts/publish", map[string]any{"draft_ids": []int64{flaky.ID}}, &acc)
	retrying := acc.Jobs[0].ID
	d, rep = r.waitFailure(flaky.ID, retrying)
	if j = r.api.job(retrying); j.Phase != "waiting_retry" {
		t.Errorf("publish after a 503: %s, phase %s; want waiting_retry", j.State, j.Phase)
	}
	if f := rep.Failed; f == nil || f.JobID != retrying || f.Final || f.ErrorCode != apptest.Deref(j.ErrorCode) ||
		f.ErrorCode != errs.CodeSiteError || f.Error != apptest.Deref(j.LastError) ||
		f.RetryAt == nil || j.RetryAt == nil || f.RetryAt.Sub(*j.RetryAt).Abs() > time.Millisecond ||
		time.Until(*f.RetryAt) < 30*time.Minute || f.RetriesLeft == nil || j.RetriesLeft == nil || *f.RetriesLeft != *j.RetriesLeft {
		t.Errorf("draft while its publish waits to retry: publish_report %s; want job %s's failure (%q, %s), retry at %v, %v left",
			d.PublishReport, retrying, apptest.Deref(j.LastError), apptest.Deref(j.ErrorCode), j.RetryAt, j.RetriesLeft)
	}

	// Canceled while waiting: no retry comes, the draft says so.
	r.api.do(http.MethodPost, "/v1/jobs/"+retrying+"/cancel", nil, nil)
	d, rep = r.draftReport(flaky.ID)
	if f := rep.Failed; f == nil || f.JobID != retrying || !f.Final || f.RetryAt != nil || f.RetriesLeft != nil {
		t.Errorf("draft after its retrying publish was canceled: publish_report %s; want the failure, final", d.PublishReport)
	}

	// Corrected: the next publish succeeds and the failure is gone.
	r.waitAll("/v1/drafts/publish", map[string]any{"draft_ids": []int64{denied.ID}})
	d, rep = r.draftReport(denied.ID)
	if d.Status != store.DraftPublished || rep.Failed != nil || rep.Status != "publish" {
		t.Errorf("draft published after the password was corrected: %s, publish_report %s; want published, no failure",
			d.Status, d.PublishReport)
	}
}

// waitFailure waits until a draft's publish report shows a failure of
// jobID (the worker writes it just after the job's own record) and returns
// the draft and its report.
func (r publishRun) waitFailure(draftID int64, jobID string) (store.Draft, draftReport) {
	r.api.t.Helper()
	var d store.Draft
	var rep draftReport
	apptest.Eventually(r.api.t, 30*time.Second, "the draft shows job "+jobID+"'s failure", func() (bool, error) {
		d, rep = r.draftReport(draftID)
		return rep.Failed != nil && rep.Failed.JobID == jobID, nil
	})
	return d, rep
}

// draftReport returns a draft and its publish report.
func (r publishRun) draftReport(id int64) (store.Draft, draftReport) {
	r.api.t.Helper()
	d := r.draft(id)
	var rep draftReport
	if len(d.PublishReport) > 0 {
		apptest.Must(r.api.t, json.Unmarshal(d.PublishReport, &rep), "decode publish_report ", string(d.PublishReport))
	}
	return d, rep
}

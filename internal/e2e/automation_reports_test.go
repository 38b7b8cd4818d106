package e2e_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/app/apptest"
	"github.com/presswork/presswork/internal/client"
	"github.com/presswork/presswork/internal/jobs"
	"github.com/presswork/presswork/internal/store"
	"github.com/presswork/presswork/internal/tasks"
)

// strayKeywords share no word with each other or with providerTestKeywords,
// so clustering leaves them as outliers.
const strayKeywords = "phrase,volume\nzebra migration serengeti,10\nincome tax deadline extension,20\n"

func (a *automation) clusterJobs() []store.Job {
	return slices.DeleteFunc(a.api.jobs(), func(j store.Job) bool { return j.Type != tasks.TypeCluster })
}

// TestAutomationLeavesOutliersAlone checks #17's point 15: keywords that
// clustering could not group are not clustered again at every run (each
// such job reserving credits and paying embeddings) but only once new
// keywords arrive, or when clustering is started by hand.
func TestAutomationLeavesOutliersAlone(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	h.StartWorker(t)
	a := startAutomation(t, h, "outliers", 100)
	a.api.do(http.MethodPost, fmt.Sprintf("/v1/sites/%d/keywords", a.site.ID), []byte(strayKeywords), nil,
		"Content-Type", "text/csv")
	r := a.rule([]string{store.StageCluster, store.StageIdeas}, 50)

	first := a.run(r)
	if enqueued(first, store.StageCluster) != 1 {
		t.Fatalf("first run: %+v, want a clustering job", first)
	}
	a.finish(first)
	var left []store.Keyword
	a.api.listAll(fmt.Sprintf("/v1/sites/%d/keywords?unclustered=true", a.site.ID), &left)
	if len(left) == 0 {
		t.Fatalf("clustering grouped every keyword; the test needs outliers")
	}
	for _, k := range left {
		if !k.Outlier {
			t.Errorf("keyword %q left unclustered by a finished clustering is not marked an outlier", k.Phrase)
		}
	}

	for i := range 3 {
		run := a.run(r)
		if n := enqueued(run, store.StageCluster); n != 0 {
			t.Fatalf("run %d with only outliers unclustered enqueued %d clustering jobs: %+v", i+2, n, run.Enqueued)
		}
		if reason := skipReason(run, store.StageCluster); !strings.Contains(reason, "no keyword is new") {
			t.Errorf("run %d: clustering stage says %q, want that no keyword is new", i+2, reason)
		}
		for _, e := range run.Enqueued {
			if e.Stage == store.StageCluster || e.CreditsQuoted != run.CreditsQuoted {
				t.Errorf("run %d quoted %d credits over %+v, want nothing for clustering", i+2, run.CreditsQuoted, run.Enqueued)
			}
		}
		a.finish(run)
	}
	if jobs := a.clusterJobs(); len(jobs) != 1 {
		t.Fatalf("%d clustering jobs after four runs, want 1 (outliers are not clustered again)", len(jobs))
	}

	// A new keyword: the next run clusters it, with the outliers.
	a.api.do(http.MethodPost, fmt.Sprintf("/v1/sites/%d/keywords", a.site.ID),
		[]byte("phrase,volume\ntrail running shoes for kids,150\n"), nil, "Content-Type", "text/csv")
	run := a.run(r)
	if enqueued(run, store.StageCluster) != 1 {
		t.Fatalf("run after a new keyword: %+v, want a clustering job", run)
	}
	a.finish(run)
	var retried store.Job
	for _, j := range a.clusterJobs() {
		if strings.HasPrefix(j.ID, run.ID) {
			retried = j
		}
	}
	var result struct {
		Clustered int `json:"keywords_clustered"`
		Outliers  int `json:"outliers"`
	}
	decodeResult(t, retried, &result)
	if result.Clustered+result.Outliers != len(left)+1 {
		t.Errorf("the clustering after a new keyword took %d keywords, want the %d outliers and the new one",
			result.Clustered+result.Outliers, len(left))
	}

	// By hand, outliers are clustered again whenever asked.
	a.api.listAll(fmt.Sprintf("/v1/sites/%d/keywords?unclustered=true", a.site.ID), &left)
	if len(left) == 0 {
		t.Skip("the new keyword took every outlier into a cluster")
	}
	var started struct {
		Jobs []struct {
			ID string `json:"id"`
		} `json:"jobs"`
	}
	a.api.do(http.MethodPost, fmt.Sprintf("/v1/sites/%d/clustering", a.site.ID), nil, &started)
	if len(started.Jobs) != 1 {
		t.Fatalf("POST clustering with only outliers left: %+v, want a job", started)
	}
	a.api.waitJob(started.Jobs[0].ID)
}

// TestAutomationFoldsRepeatedSkips checks #17's point 17: scheduled runs
// skipped again and again for the same reason make one record with a
// count and the last time, not one record per slot.
func TestAutomationFoldsRepeatedSkips(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	h.StartWorker(t)
	a := startAutomation(t, h, "fold", 0)
	r := a.rule([]string{store.StageCluster}, 5)
	base := time.Now().Add(-10 * time.Minute).Truncate(time.Second)
	slot := func(i int) time.Time { return base.Add(time.Duration(i) * time.Second) }

	for i := range 3 {
		run := a.fireAt(r, slot(i))
		if run.Status != store.RunSkipped || !strings.Contains(skipReason(run, store.StageCluster), "not enough credits") {
			t.Fatalf("run %d without credits: %+v, want skipped for credits", i, run)
		}
	}
	runs := a.apiRuns(r)
	if len(runs) != 1 {
		t.Fatalf("three slots skipped for the same reason made %d records, want 1: %+v", len(runs), runs)
	}
	folded := runs[0]
	if folded.ID != store.RunID(r.ID, slot(0)) || folded.Count != 3 || folded.LastScheduledFor == nil ||
		!folded.LastScheduledFor.Equal(slot(2)) || folded.LastFiredAt == nil {
		t.Errorf("folded record %+v, want the first slot's with count 3 and the last slot %v", folded, slot(2))
	}
	// A folded run's id answers with its record, for its tenant only.
	var got store.Run
	a.api.do(http.MethodGet, "/v1/automation/runs/"+store.RunID(r.ID, slot(2)), nil, &got)
	if got.ID != folded.ID {
		t.Errorf("GET of the folded run %s answered %+v, want the record it was folded into", store.RunID(r.ID, slot(2)), got)
	}
	_, other := h.Tenant(t, "fold-other", 0)
	var cerr *client.Error
	if err := other.Do(t.Context(), http.MethodGet, "/v1/automation/runs/"+store.RunID(r.ID, slot(2)), nil, nil); !errors.As(err, &cerr) ||
		cerr.Status != http.StatusNotFound {
		t.Errorf("another tenant's GET of the folded run: %v, want 404", err)
	}

	// A different outcome starts a new record; so does the next skip after it.
	_, err := h.App.Store.GrantCredits(t.Context(), a.tenant.ID, 100, "test")
	apptest.Must(t, err, "grant")
	done := a.fireAt(r, slot(3))
	if done.Status != store.RunDone {
		t.Fatalf("run with credits: %+v, want done", done)
	}
	a.finish(done)
	for i := 4; i < 6; i++ {
		if run := a.fireAt(r, slot(i)); run.Status != store.RunSkipped {
			t.Fatalf("run %d with nothing left: %+v", i, run)
		}
	}
	runs = a.apiRuns(r)
	counts := make([]int, len(runs))
	for i, run := range runs {
		counts[i] = run.Count
	}
	if !slices.Equal(counts, []int{2, 1, 3}) {
		t.Errorf("records (newest first) count %v slots, want [2 1 3]: %+v", counts, runs)
	}
}

// apiRuns reads a rule's run records through the API, newest first.
func (a *automation) apiRuns(r store.Rule) []store.Run {
	a.t.Helper()
	var page struct {
		Items []store.Run `json:"items"`
	}
	a.api.do(http.MethodGet, fmt.Sprintf("/v1/automation/rules/%d/runs", r.ID), nil, &page)
	return page.Items
}

// TestRunReportsNameWhatTheCapLeft checks #17's point 18: a run report
// names the subjects the item cap left for a later run, and says that the
// cap counts unfinished jobs across runs.
func TestRunReportsNameWhatTheCapLeft(t *testing.T) {
	t.Parallel()
	h := apptest.Start(t)
	h.StartWorker(t)
	a := startAutomation(t, h, "cap-names", 1000)
	a.finish(a.run(a.rule([]string{store.StageCluster}, 1)))
	var clusters []store.Cluster
	a.api.listAll(fmt.Sprintf("/v1/sites/%d/clusters", a.site.ID), &clusters)
	if len(clusters) < 2 {
		t.Fatalf("%d clusters; the test needs at least 2", len(clusters))
	}

	inspector := asynq.NewInspector(h.App.Redis)
	defer inspector.Close()
	apptest.Must(t, inspector.PauseQueue(jobs.QueueBulk), "pause bulk")
	defer func() { apptest.Must(t, inspector.UnpauseQueue(jobs.QueueBulk), "unpause bulk") }()
	r := a.rule([]string{store.StageIdeas}, 1)
	first := a.run(r)
	if enqueued(first, store.StageIdeas) != 1 {
		t.Fatalf("first run: %+v, want one ideas job", first)
	}
	var taken []store.Job
	a.api.do(http.MethodGet, "/v1/jobs?batch_id="+first.Enqueued[0].BatchID, nil, &struct {
		Items *[]store.Job `json:"items"`
	}{&taken})
	want := make([]int64, 0, len(clusters))
	for _, c := range clusters {
		if len(taken) == 0 || c.ID != taken[0].SubjectID {
			want = append(want, c.ID)
		}
	}
	check := func(name string, run store.Run, unfinished int) {
		t.Helper()
		skip := stageSkip(run, store.StageIdeas)
		if skip == nil {
			t.Fatalf("%s run: %+v, want the ideas stage to say what the cap left", name, run)
		}
		if !slices.Equal(skip.Subjects, want) {
			t.Errorf("%s run names clusters %v, want %v", name, skip.Subjects, want)
		}
		for _, part := range []string{"cap of 1 items is reached", "from earlier runs too",
			fmt.Sprintf("%d jobs of earlier runs are unfinished", unfinished),
			fmt.Sprintf("%d clusters left for a later run", len(want)), fmt.Sprint(want[0])} {
			if !strings.Contains(skip.Reason, part) {
				t.Errorf("%s run's reason %q does not say %q", name, skip.Reason, part)
			}
		}
	}
	check("first", first, 0)
	second := a.run(r)
	if second.Status != store.RunSkipped {
		t.Fatalf("second run with the first's job unfinished: %+v, want skipped", second)
	}
	check("second", second, 1)
}

func stageSkip(run store.Run, stage string) *store.Skip {
	for i := range run.Skipped {
		if run.Skipped[i].Stage == stage {
			return &run.Skipped[i]
		}
	}
	return nil
}

func decodeResult(t *testing.T, j store.Job, out any) {
	t.Helper()
	apptest.Must(t, json.Unmarshal(j.Result, out), "decode the result of job ", j.ID)
}

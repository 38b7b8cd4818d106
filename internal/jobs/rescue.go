package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/presswork/presswork/internal/errs"
	"github.com/presswork/presswork/internal/store"
)

// Rescuer gives one worker process an identity and a heartbeat, and
// delivers again at once the running jobs of worker processes that stopped
// beating (#25): asynq alone gives a dead worker's tasks back only after
// its lease (30 s) and its recoverer's next minute, 60 to 120 s.
//
// Every worker process runs one; any of them may rescue any lost worker's
// jobs (RescueLostJobs takes each job once). A process rescues only after
// its own heartbeat has succeeded for LostAfter without a miss, so that
// after an outage of PostgreSQL, when every beat is old, the workers that
// are alive have beaten again before anyone is taken for lost.
type Rescuer struct {
	Store rescueStore
	Jobs  *Client
	// ID is the worker process's identity (NewWorkerID), recorded on each
	// job it starts (store.WithDelivery).
	ID        string
	Beat      time.Duration // how often the process beats
	LostAfter time.Duration // a process silent this long is lost
	Log       *slog.Logger
	// Rescued, if not nil, is given the jobs of each rescue (to count them
	// in metrics, for example).
	Rescued func([]store.Job)

	healthySince time.Time // zero while the last beat failed
	lastBeat     time.Time // of the last beat that succeeded
}

// rescueStore is what the rescuer needs of the store.
type rescueStore interface {
	RegisterWorker(ctx context.Context, id, host string, pid int) error
	Heartbeat(ctx context.Context, id string) error
	StopWorker(ctx context.Context, id string) error
	RescueLostJobs(ctx context.Context, lostAfter time.Duration, limit int) ([]store.Job, error)
}

// rescueBatch bounds the jobs one rescue takes; the next tick takes more.
const rescueBatch = 500

// NewWorkerID returns a worker process identity: host, pid and a random
// suffix (a pid is reused after a restart).
func NewWorkerID() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// Run registers the process and beats every Beat until ctx ends, looking
// for lost workers twice a beat. It does not say the process stopped: call
// Stop once the process's jobs have gone back to the queue.
func (r *Rescuer) Run(ctx context.Context) error {
	host, _ := os.Hostname()
	if err := r.Store.RegisterWorker(ctx, r.ID, host, os.Getpid()); err != nil {
		return fmt.Errorf("register worker %s: %w", r.ID, err)
	}
	r.healthySince, r.lastBeat = time.Now(), time.Now()
	beat := time.NewTicker(r.Beat)
	defer beat.Stop()
	look := time.NewTicker(r.Beat / 2)
	defer look.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-beat.C:
			r.beat(ctx, host)
		case <-look.C:
			r.rescue(ctx)
		}
	}
}

// beat records that the process is alive, registering it again if its row
// was forgotten.
func (r *Rescuer) beat(ctx context.Context, host string) {
	err := r.Store.Heartbeat(ctx, r.ID)
	if errors.Is(err, errs.ErrNotFound) {
		err = r.Store.RegisterWorker(ctx, r.ID, host, os.Getpid())
	}
	switch {
	case err != nil && ctx.Err() == nil:
		if !r.healthySince.IsZero() {
			r.Log.Warn("worker heartbeat failed", "worker", r.ID, "error", err)
		}
		r.healthySince = time.Time{}
	case err == nil:
		r.lastBeat = time.Now()
		if r.healthySince.IsZero() {
			r.healthySince = r.lastBeat
		}
	}
}

// rescue delivers again the running jobs of lost workers, if this
// process's own beat has been healthy for LostAfter and is recent: a
// process that was itself paused (SIGSTOP, a long GC pause) beats before
// it judges others.
func (r *Rescuer) rescue(ctx context.Context) {
	if r.healthySince.IsZero() || time.Since(r.healthySince) < r.LostAfter || time.Since(r.lastBeat) > 2*r.Beat {
		return
	}
	lost, err := r.Store.RescueLostJobs(ctx, r.LostAfter, rescueBatch)
	if err != nil {
		if ctx.Err() == nil {
			r.Log.Warn("rescuing the jobs of lost workers", "error", err)
		}
		return
	}
	if len(lost) == 0 {
		return
	}
	// A job queued again whose task cannot be enqueued now stays queued in
	// PostgreSQL: the reconciler enqueues it after its grace period.
	if err := r.Jobs.enqueue(ctx, lost); err != nil {
		r.Log.Warn("enqueuing rescued jobs", "error", err, "jobs", len(lost))
	}
	for _, j := range lost {
		r.Log.Info("delivered again the job of a lost worker", "task_id", j.ID, "tenant", j.TenantID,
			"delivery", j.Delivery)
	}
	if r.Rescued != nil {
		r.Rescued(lost)
	}
}

// Stop records that the process stopped gracefully, so that it is not
// taken for lost.
func (r *Rescuer) Stop(ctx context.Context) error {
	return r.Store.StopWorker(ctx, r.ID)
}

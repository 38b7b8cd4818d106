package metrics

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/presswork/presswork/internal/store"
)

// LedgerSource reads the credit ledger past an id (store.Store).
type LedgerSource interface {
	LedgerTail(ctx context.Context, after, foldTo int64) (store.LedgerTail, error)
}

// ledgerQueryTimeout bounds the query of one scrape.
const ledgerQueryTimeout = 5 * time.Second

// maxCheckpoints bounds the scrapes remembered while a long transaction
// holds the snapshot horizon back; past it the last one is replaced.
const maxCheckpoints = 32

// Credits is a collector of presswork_credits_total{kind}: the credits the
// ledger moved, by kind (grant, reserve, settle, refund), read at scrape
// time. It reads incrementally: the first scrape sums the whole ledger,
// later ones only the rows past those already folded into its running
// totals. Ledger ids are taken before their rows commit, so a row can
// appear below an id already seen; a scrape's rows are folded in only once
// every transaction that could still add rows below its highest id has
// ended (two snapshots later), and the rows not yet folded are summed
// again at each scrape. It is safe for concurrent use.
type Credits struct {
	src  LedgerSource
	log  *slog.Logger
	desc *prometheus.Desc

	mu          sync.Mutex
	foldedID    int64            // rows up to this id are in folded
	folded      map[string]int64 // per kind
	checkpoints []checkpoint     // scrapes not yet folded, oldest first
	xmin        int64            // the last scrape's snapshot xmin
	last        map[string]int64 // the values last reported
}

// checkpoint is a scrape: the highest ledger id it saw and its snapshot's
// xmax.
type checkpoint struct{ maxID, xmax int64 }

// NewCredits returns the ledger collector over src; failed reads are
// logged to log (nil: not logged), and the last values are reported again.
func NewCredits(src LedgerSource, log *slog.Logger) *Credits {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Credits{src: src, log: log, folded: map[string]int64{}, last: map[string]int64{},
		desc: prometheus.NewDesc(namespace+"_credits_total",
			"Credits moved by the ledger, by kind: grant, reserve (taken when a job is accepted), "+
				"settle (the unused part of a reservation given back), refund (a failed or cancelled job's "+
				"reservation given back). Charged = reserve - settle - refund.",
			[]string{"kind"}, nil)}
}

// Describe implements prometheus.Collector.
func (c *Credits) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c *Credits) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), ledgerQueryTimeout)
	defer cancel()
	if err := c.read(ctx); err != nil {
		c.log.Warn("reading the credit ledger for the metrics", "error", err)
	}
	for kind, v := range c.last {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(v), kind)
	}
}

// read sums the ledger past foldedID, folds in what can no longer change
// and updates the values to report.
func (c *Credits) read(ctx context.Context) error {
	n := c.foldable()
	foldTo := c.foldedID
	if n > 0 {
		foldTo = c.checkpoints[n-1].maxID
	}
	tail, err := c.src.LedgerTail(ctx, c.foldedID, foldTo)
	if err != nil {
		return err
	}
	for kind, v := range tail.Folded {
		c.folded[kind] += v
	}
	c.foldedID = foldTo
	c.checkpoints = c.checkpoints[n:]
	c.remember(checkpoint{maxID: max(tail.MaxID, foldTo), xmax: tail.XMax})
	c.xmin = tail.XMin
	for kind, v := range c.folded {
		c.last[kind] = max(c.last[kind], v+tail.Total[kind]-tail.Folded[kind])
	}
	for kind, v := range tail.Total {
		c.last[kind] = max(c.last[kind], c.folded[kind]+v-tail.Folded[kind])
	}
	return nil
}

// foldable is how many of the oldest checkpoints can be folded: those
// followed by a scrape whose transactions had all ended by the last
// scrape. Every row up to a scrape's highest id got its id before that
// scrape, so its transaction had an id by the next scrape and is below the
// next scrape's xmax.
func (c *Credits) foldable() int {
	n := 0
	for n+1 < len(c.checkpoints) && c.checkpoints[n+1].xmax <= c.xmin {
		n++
	}
	return n
}

// remember appends cp, or replaces the last checkpoint with it when there
// are too many (which only delays folding).
func (c *Credits) remember(cp checkpoint) {
	if len(c.checkpoints) >= maxCheckpoints {
		c.checkpoints[len(c.checkpoints)-1] = cp
		return
	}
	c.checkpoints = append(c.checkpoints, cp)
}

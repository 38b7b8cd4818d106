package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/hibiken/asynq"

	"github.com/presswork/presswork/internal/jobs"
)

const queueUsage = `usage: presswork queue SUBCOMMAND [flags]

subcommands:
  stats                           every queue: size, tasks by state, processed and
                                  failed today, paused
  list -queue Q -state S [-limit N]
                                  tasks in one state (pending, active, scheduled,
                                  retry, archived), at most N (default 50, max 500)
  retry -queue Q -id ID           run a scheduled, retry or archived task now
  retry -queue Q -all-archived    run every archived task of the queue now
  archive -queue Q -id ID         archive a pending, scheduled or retry task
  delete -queue Q -id ID          delete a task that is not active
  pause -queue Q                  stop workers taking tasks from the queue
  unpause -queue Q                let workers take tasks from the queue again

A task's id is its job's id. PostgreSQL, not the queue, says what a job is:
  - Deleting a task does not cancel its job: cancel it with
    POST /v1/jobs/:id/cancel. The reconciler enqueues a queued or running job
    whose task is missing again after RECONCILE_GRACE.
  - A task is archived when its retries are used up; its job was failed and
    refunded then, by the worker or by the reconciler (which fails a job whose
    task is archived once the job is unchanged for RECONCILE_GRACE). Retrying
    an archived task of a failed job does no work and charges nothing: the
    worker sees the job is finished and completes the task. Submit the work
    again through the API instead. Retrying revives work only while the job is
    still queued or running (a task archived by hand, before the reconciler
    fails its job); the task keeps its retry count, so one more failure
    archives it again.
  - Archiving a task gives up on its job: the reconciler fails and refunds a
    queued or running job whose task is archived.
`

// queueStates are the task states "queue list" shows.
var queueStates = []string{"pending", "active", "scheduled", "retry", "archived"}

// listLimit bounds "queue list".
const listLimit = 500

// runQueue carries out one "presswork queue" subcommand against Redis.
// Help needs no configuration: "queue -h", and "queue SUB -h" (its first
// flag -h, so the subcommand's flag parsing stops there, before it uses
// the inspector, which it is not given).
func runQueue(open opener, args []string, out io.Writer) error {
	if len(args) == 0 || isHelp(args[0]) || (len(args) > 1 && isHelp(args[1]) && args[1] != "help") {
		return queueCommand(nil, args, out)
	}
	a, err := open()
	if err != nil {
		return err
	}
	insp := asynq.NewInspector(a.Redis)
	defer insp.Close()
	return queueCommand(insp, args, out)
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	return slices.Contains([]string{"help", "-h", "-help", "--h", "--help"}, arg)
}

// queueCommand carries out one "presswork queue" subcommand with insp.
func queueCommand(insp *asynq.Inspector, args []string, out io.Writer) error {
	if len(args) == 0 || isHelp(args[0]) {
		fmt.Fprint(out, queueUsage)
		if len(args) == 0 {
			return errors.New("queue: no subcommand given")
		}
		return nil
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "stats":
		return queueStats(insp, args, out)
	case "list":
		return queueList(insp, args, out)
	case "retry":
		return queueRetry(insp, args, out)
	case "archive", "delete":
		return queueTaskAction(insp, sub, args, out)
	case "pause", "unpause":
		return queuePause(insp, sub, args, out)
	}
	fmt.Fprint(out, queueUsage)
	return fmt.Errorf("queue: unknown subcommand %q", sub)
}

// knownQueues returns Presswork's queues and any other queue Redis holds,
// sorted.
func knownQueues(insp *asynq.Inspector) ([]string, error) {
	inRedis, err := insp.Queues()
	if err != nil {
		return nil, fmt.Errorf("list queues: %w", err)
	}
	set := make(map[string]bool)
	for q := range jobs.Queues {
		set[q] = true
	}
	for _, q := range inRedis {
		set[q] = true
	}
	return slices.Sorted(maps.Keys(set)), nil
}

// checkQueue rejects a missing or unknown -queue: asynq would accept any
// name for pause and answer an empty list for a typo.
func checkQueue(insp *asynq.Inspector, queue string) error {
	if queue == "" {
		return errors.New("-queue is required")
	}
	known, err := knownQueues(insp)
	if err != nil {
		return err
	}
	if !slices.Contains(known, queue) {
		return fmt.Errorf("-queue: unknown queue %q (queues: %s)", queue, strings.Join(known, ", "))
	}
	return nil
}

func newFlagSet(name string, out io.Writer) *flag.FlagSet {
	return commandFlags("queue "+name, out)
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}

// queueInfo returns a queue's counts; a queue Redis has not seen yet (no
// task was ever enqueued on it) is empty.
func queueInfo(insp *asynq.Inspector, queue string) (*asynq.QueueInfo, error) {
	info, err := insp.GetQueueInfo(queue)
	if err != nil {
		seen, qerr := insp.Queues()
		if qerr == nil && !slices.Contains(seen, queue) {
			return &asynq.QueueInfo{Queue: queue}, nil
		}
		return nil, fmt.Errorf("queue %s: %w", queue, err)
	}
	return info, nil
}

func queueStats(insp *asynq.Inspector, args []string, out io.Writer) error {
	fs := newFlagSet("stats", out)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	queues, err := knownQueues(insp)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "QUEUE\tSIZE\tPENDING\tACTIVE\tSCHEDULED\tRETRY\tARCHIVED\tCOMPLETED\tPROCESSED TODAY\tFAILED TODAY\tPAUSED")
	for _, q := range queues {
		info, err := queueInfo(insp, q)
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n", q, info.Size, info.Pending, info.Active,
			info.Scheduled, info.Retry, info.Archived, info.Completed, info.Processed, info.Failed, yesNo(info.Paused))
	}
	return tw.Flush()
}

func queueList(insp *asynq.Inspector, args []string, out io.Writer) error {
	fs := newFlagSet("list", out)
	queue := fs.String("queue", "", "queue name (required)")
	state := fs.String("state", "", "task state: "+strings.Join(queueStates, ", ")+" (required)")
	limit := fs.Int("limit", 50, fmt.Sprintf("most tasks to show (1..%d)", listLimit))
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *state == "" {
		return fmt.Errorf("-state is required: one of %s", strings.Join(queueStates, ", "))
	}
	if !slices.Contains(queueStates, *state) {
		return fmt.Errorf("-state: unknown state %q (one of %s)", *state, strings.Join(queueStates, ", "))
	}
	if *limit < 1 || *limit > listLimit {
		return fmt.Errorf("-limit must be between 1 and %d, got %d", listLimit, *limit)
	}
	if err := checkQueue(insp, *queue); err != nil {
		return err
	}
	list := map[string]func(string, ...asynq.ListOption) ([]*asynq.TaskInfo, error){
		"pending":   insp.ListPendingTasks,
		"active":    insp.ListActiveTasks,
		"scheduled": insp.ListScheduledTasks,
		"retry":     insp.ListRetryTasks,
		"archived":  insp.ListArchivedTasks,
	}[*state]
	infos, err := list(*queue, asynq.PageSize(*limit))
	if err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
		return fmt.Errorf("list %s tasks of queue %s: %w", *state, *queue, err)
	}
	if len(infos) == 0 {
		fmt.Fprintf(out, "no %s tasks in queue %s\n", *state, *queue)
		return nil
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTYPE\tPAYLOAD\tRETRIED\tLAST ERROR\tNEXT PROCESS AT")
	for _, t := range infos {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d\t%s\t%s\n", t.ID, t.Type, printable(t.Payload, 120),
			t.Retried, t.MaxRetry, orDash(printable([]byte(t.LastErr), 80)), formatTime(t.NextProcessAt))
	}
	return tw.Flush()
}

func queueRetry(insp *asynq.Inspector, args []string, out io.Writer) error {
	fs := newFlagSet("retry", out)
	queue := fs.String("queue", "", "queue name (required)")
	id := fs.String("id", "", "task id (the job id) to run now")
	all := fs.Bool("all-archived", false, "run every archived task of the queue now")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if (*id == "") == !*all {
		return errors.New("give exactly one of -id and -all-archived")
	}
	if err := checkQueue(insp, *queue); err != nil {
		return err
	}
	if *all {
		n, err := insp.RunAllArchivedTasks(*queue)
		if err != nil {
			return fmt.Errorf("run archived tasks of queue %s: %w", *queue, err)
		}
		fmt.Fprintf(out, "%d archived tasks of queue %s are pending again\n", n, *queue)
		return nil
	}
	if err := insp.RunTask(*queue, *id); err != nil {
		return taskError("run", *queue, *id, err)
	}
	fmt.Fprintf(out, "task %s of queue %s is pending\n", *id, *queue)
	return nil
}

func queueTaskAction(insp *asynq.Inspector, action string, args []string, out io.Writer) error {
	fs := newFlagSet(action, out)
	queue := fs.String("queue", "", "queue name (required)")
	id := fs.String("id", "", "task id, the job id (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *id == "" {
		return errors.New("-id is required")
	}
	if err := checkQueue(insp, *queue); err != nil {
		return err
	}
	do, done := insp.ArchiveTask, "archived"
	if action == "delete" {
		do, done = insp.DeleteTask, "deleted (its job is unchanged: cancel it with POST /v1/jobs/:id/cancel)"
	}
	if err := do(*queue, *id); err != nil {
		return taskError(action, *queue, *id, err)
	}
	fmt.Fprintf(out, "task %s of queue %s %s\n", *id, *queue, done)
	return nil
}

func queuePause(insp *asynq.Inspector, action string, args []string, out io.Writer) error {
	fs := newFlagSet(action, out)
	queue := fs.String("queue", "", "queue name (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkQueue(insp, *queue); err != nil {
		return err
	}
	do, done := insp.PauseQueue, "paused"
	if action == "unpause" {
		do, done = insp.UnpauseQueue, "unpaused"
	}
	if err := do(*queue); err != nil {
		return fmt.Errorf("%s queue %s: %w", action, *queue, err)
	}
	fmt.Fprintf(out, "queue %s %s\n", *queue, done)
	return nil
}

func taskError(action, queue, id string, err error) error {
	if errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound) {
		return fmt.Errorf("%s task: no task %s in queue %s", action, id, queue)
	}
	return fmt.Errorf("%s task %s of queue %s: %w", action, id, queue, err)
}

// printable renders b on one line of at most n runes.
func printable(b []byte, n int) string {
	if !utf8.Valid(b) {
		return fmt.Sprintf("%x", b)
	}
	s := strings.Join(strings.Fields(string(b)), " ")
	if r := []rune(s); len(r) > n {
		s = string(r[:n-1]) + "…"
	}
	return s
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

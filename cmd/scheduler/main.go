// Command scheduler is Presswork's cron: it fires automation rules, re-
// delivers work the queue lost and prunes old records. Run any number of
// replicas; the one holding a Redis lease does the work. ADMIN_ADDR serves
// its admin endpoints.
package main

import (
	"github.com/presswork/presswork/internal/app"
	"github.com/presswork/presswork/internal/app/schedulerapp"
)

func main() {
	app.Main(app.Process{Name: "scheduler", Admin: true, Run: schedulerapp.Run})
}

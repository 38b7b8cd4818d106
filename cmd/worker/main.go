// Command worker runs Presswork's stage workers on the asynq queues, with
// the AI providers the environment chooses. ADMIN_ADDR serves its admin
// endpoints.
package main

import (
	"github.com/presswork/presswork/internal/app"
	"github.com/presswork/presswork/internal/app/workerapp"
)

func main() {
	app.Main(app.Process{Name: "worker", Admin: true, Run: workerapp.RunFromEnv})
}

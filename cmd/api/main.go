// Command api serves Presswork's HTTP API. It has its own /healthz,
// /readyz and /metrics, so no admin server.
package main

import (
	"github.com/presswork/presswork/internal/app"
	"github.com/presswork/presswork/internal/app/apiapp"
)

func main() {
	app.Main(app.Process{Name: "api", Run: apiapp.Run})
}

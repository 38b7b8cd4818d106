package e2e_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
)

// benchCPU is CPU time, in seconds, used by this test process and by the
// PostgreSQL backends serving one database: what a benchmark's work cost,
// which the machine's other load does not change much (unlike wall time).
type benchCPU struct{ Go, Postgres float64 }

func (c benchCPU) minus(o benchCPU) benchCPU { return benchCPU{c.Go - o.Go, c.Postgres - o.Postgres} }

// benchCPUNow reads /proc: this process, and the PostgreSQL backends whose
// process title names pool's database (a backend's title is "postgres:
// user database host state").
func benchCPUNow(pool *pgxpool.Pool) benchCPU {
	var c benchCPU
	db := " " + pool.Config().ConnConfig.Database + " "
	self := strconv.Itoa(os.Getpid())
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, dir := range dirs {
		switch {
		case filepath.Base(dir) == self:
			c.Go += procCPU(dir)
		case procIsBackendOf(dir, db):
			c.Postgres += procCPU(dir)
		}
	}
	return c
}

func procIsBackendOf(dir, db string) bool {
	title, err := os.ReadFile(dir + "/cmdline")
	return err == nil && strings.HasPrefix(string(title), "postgres: ") && strings.Contains(string(title), db)
}

// procCPU is the user and system time of a process (fields 14 and 15 of
// /proc/pid/stat, in clock ticks of 1/100 s on Linux).
func procCPU(dir string) float64 {
	b, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(fields) < 13 {
		return 0
	}
	user, _ := strconv.ParseFloat(fields[11], 64)
	system, _ := strconv.ParseFloat(fields[12], 64)
	return (user + system) / 100
}

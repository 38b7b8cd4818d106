# Presswork. `make help` lists the targets.
SHELL := /bin/bash
export PATH := $(PATH):/usr/local/go/bin:$(HOME)/go/bin

GO       ?= go
DB_NAME  ?= presswork
# The demo's own PostgreSQL database and Redis logical database: every demo adds a demo
# tenant, kept out of make run's database, and a worker of make run's running at the same time
# takes no demo task (Redis database 15: the tests take 1-14, make run 0).
DEMO_DB  ?= presswork_demo
export DEMO_DATABASE_URL ?= postgres://postgres@127.0.0.1:$(or $(PRESSWORK_PG_PORT),5432)/$(DEMO_DB)?sslmode=disable
export DEMO_REDIS_URL    ?= redis://127.0.0.1:$(or $(PRESSWORK_REDIS_PORT),6379)/15
ENV_FILE := .presswork.env
export TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
export TEST_REDIS_URL    ?= redis://127.0.0.1:6379/0
# The Redis logical databases the tests take (internal/testenv), one per test at a time.
export TEST_REDIS_DBS    ?= 1-14

.DEFAULT_GOAL := help

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

run: build env ## run the API, the worker and the scheduler on this machine (offline AI provider)
	@scripts/services.sh
	@scripts/services.sh createdb $(DB_NAME)
	@scripts/run.sh

test: ## everything CI runs: format and vet checks, unit and integration tests with -race, each fuzz test for 5 s, the demo
	@scripts/services.sh
	@echo "tests use Redis $$(sed -E 's#//[^@/]*@#//#' <<<"$$TEST_REDIS_URL"): logical databases $$TEST_REDIS_DBS, each emptied" \
	  "before and after the test that takes it (their locks are in the URL's database; one holding keys the tests" \
	  "did not write is refused, not emptied); the demo at the end uses $$DEMO_REDIS_URL"
	@scripts/check-format.sh
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 12m ./...
	@scripts/fuzz.sh 5s
	@if [ -d /usr/share/wordpress ] && command -v php >/dev/null; then \
	  $(MAKE) --no-print-directory demo-wordpress DEMO_ARGS=--down; else $(MAKE) --no-print-directory demo; fi

demo: build env ## in its own database (DEMO_DB): import the sample keywords and run clustering, ideas and drafts (and publish, if DEMO_WP_URL is set); prints a summary
	@scripts/services.sh
	@scripts/services.sh createdb $(DEMO_DB)
	@echo "demo databases: PostgreSQL $(DEMO_DB), Redis $$DEMO_REDIS_URL (make run's are left alone)"
	@set -a; source $(ENV_FILE); set +a; DATABASE_URL="$$DEMO_DATABASE_URL" REDIS_URL="$$DEMO_REDIS_URL" bin/presswork demo

demo-wordpress: build env ## the demo, ending with posts published to a local WordPress it starts (scripts/wordpress.sh)
	@scripts/services.sh
	@scripts/services.sh createdb $(DB_NAME)
	@scripts/services.sh createdb $(DEMO_DB)
	@scripts/demo-wordpress.sh $(DEMO_ARGS)

wordpress: ## install WordPress, PHP and MariaDB from Debian's packages for the publishing tests (root)
	@bash scripts/wordpress.sh install

migrate: build env ## apply database migrations
	@scripts/services.sh createdb $(DB_NAME)
	@set -a; source $(ENV_FILE); set +a; bin/presswork migrate

lint: ## gofmt and go vet
	@scripts/check-format.sh
	$(GO) vet ./...

fuzz: ## run each fuzz test for 20 seconds
	@scripts/fuzz.sh 20s

bench: ## benchmarks (about 15 minutes): micro-benchmarks, provider limits, 10,000 rules firing, a dead worker's rescue against asynq's own recovery, the #7 table and the cost per article under AI faults and in ordinary vs batch mode; writes docs/benchmarks.md
	@scripts/services.sh statements
	@mkdir -p docs
	@sed -n '/^## make eval/,$$p' docs/benchmarks.md > docs/benchmarks.md.eval 2>/dev/null || true
	@scripts/bench-header.sh > docs/benchmarks.md
	$(GO) test -run '^$$' -bench . -benchmem ./internal/kwimport/ ./internal/cluster/ ./internal/ai/offline/ | tee -a docs/benchmarks.md.raw
	PRESSWORK_BENCH=1 $(GO) test -run '^TestTwoProcessesUnderProviderLimit$$' -count=1 -v ./internal/ratelimit/ | tee -a docs/benchmarks.md.raw
	PRESSWORK_BENCH=1 $(GO) test -run '^TestBenchTwoWorkersUnderProviderLimit$$' -count=1 -v ./internal/e2e/ | tee -a docs/benchmarks.md.raw
	PRESSWORK_BENCH=1 $(GO) test -run '^TestBenchFiringTenThousandRules$$' -count=1 -v ./internal/scheduler/ | tee -a docs/benchmarks.md.raw
	PRESSWORK_BENCH=1 $(GO) test -run '^TestBenchRescueAfterSIGKILL$$' -count=1 -v -timeout 20m ./internal/e2e/ | tee -a docs/benchmarks.md.raw
	PRESSWORK_BENCH=1 PRESSWORK_BENCH_OUT=$(CURDIR)/docs/benchmarks.md $(GO) test -run '^TestBenchTable$$' -count=1 -v -timeout 15m ./internal/e2e/
	@{ echo; echo '## Other benchmarks of the same run'; echo; echo '```'; grep -E '^(Benchmark|\| scheduler|\| rescue|.*served|.*limit)' docs/benchmarks.md.raw; echo '```'; } >> docs/benchmarks.md
	@{ echo; cat docs/benchmarks.md.eval; } >> docs/benchmarks.md; rm -f docs/benchmarks.md.raw docs/benchmarks.md.eval
	@echo "wrote docs/benchmarks.md"

eval: ## score clustering (purity, ARI, coverage, modifier-held clusters) on testdata/eval's labelled sets and the sample, and check the offline writer's output (#21); writes docs/benchmarks.md's "make eval" section
	@set -o pipefail; PRESSWORK_EVAL=1 PRESSWORK_EVAL_OUT=$(CURDIR)/docs/benchmarks.md $(GO) test -run '^TestEval$$' -count=1 -v -timeout 5m ./internal/eval/ | grep -v -e '^=== RUN' -e '^--- PASS' -e '^PASS' -e '^ok '

chaos: ## fault-injection run (root, a few minutes): own PostgreSQL, Redis and WordPress; kills and outages mid-pipeline; see docs/reliability.md
	$(GO) run ./cmd/chaos $(CHAOS_ARGS)

build: ## build the binaries into bin/ (the first build takes minutes: it compiles every dependency)
	@if [ -e bin/presswork ]; then echo "building bin/ (go build)"; else \
	  echo "building bin/ for the first time: go fetches and compiles every dependency, which takes several minutes (later builds take seconds)"; fi
	@start=$$SECONDS; $(GO) build -o bin/ ./cmd/... && echo "built bin/ in $$((SECONDS - start)) s"

env: ## create .presswork.env with a random secret key (once)
	@test -f $(ENV_FILE) || { echo "SECRET_KEY=$$(head -c 32 /dev/urandom | base64)" > $(ENV_FILE); \
	  echo "DATABASE_URL=postgres://postgres@127.0.0.1:5432/$(DB_NAME)?sslmode=disable" >> $(ENV_FILE); \
	  echo "created $(ENV_FILE) (keep its SECRET_KEY: it encrypts the stored site passwords)"; }

.PHONY: help run test demo demo-wordpress wordpress migrate lint fuzz bench eval chaos build env

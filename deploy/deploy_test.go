package deploy

import (
	"errors"
	"os"
	"strings"
	"testing"
)

func newChecker(t *testing.T) *checker {
	t.Helper()
	bins, err := commandBinaries("../cmd")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"api", "worker", "scheduler", "presswork"} {
		if !bins["/usr/local/bin/"+b] {
			t.Fatalf("cmd/%s is missing: %v", b, bins)
		}
	}
	return &checker{known: knownVariables(), binaries: bins}
}

func realManifests(t *testing.T) map[string][]byte {
	t.Helper()
	files, err := readManifests("k8s")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no deploy/k8s/*.yaml")
	}
	return files
}

func checkAll(c *checker, files map[string][]byte) []error {
	m, problems := parseManifests(files)
	return append(problems, c.checkManifests(m)...)
}

func report(t *testing.T, problems []error) {
	t.Helper()
	for _, p := range problems {
		t.Error(p)
	}
}

func TestKubernetesManifests(t *testing.T) {
	c := newChecker(t)
	files := realManifests(t)
	m, problems := parseManifests(files)
	report(t, problems)
	report(t, c.checkManifests(m))
	// What the manifests must contain, beyond being consistent.
	if len(m.deployments) != 3 || len(m.jobs) != 1 || len(m.hpas) != 1 || len(m.services) != 1 ||
		len(m.configMaps) != 1 || len(m.secrets) != 1 {
		t.Errorf("want 3 Deployments, 1 Job, 1 HPA, 1 Service, 1 ConfigMap, 1 Secret; got %d, %d, %d, %d, %d, %d",
			len(m.deployments), len(m.jobs), len(m.hpas), len(m.services), len(m.configMaps), len(m.secrets))
	}
}

func TestDockerCompose(t *testing.T) {
	data, err := os.ReadFile("docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	report(t, newChecker(t).checkCompose(data))
}

func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	report(t, checkDockerfile(data))
}

// TestKnownVariables: the catalogue the manifests are checked against
// holds the processes' variables, and only those.
func TestKnownVariables(t *testing.T) {
	known := knownVariables()
	for _, name := range []string{"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "API_ADDR", "ADMIN_ADDR", "SHUTDOWN_TIMEOUT",
		"REDIS_SENTINEL_ADDRS", "REDIS_SENTINEL_MASTER", "REDIS_CLUSTER_ADDRS", "REDIS_PASSWORD",
		"OPENAI_API_KEY", "OPENAI_MODEL_DRAFT", "OPENAI_AZURE_ENDPOINT", "REPLICATE_API_TOKEN", "REPLICATE_TIMEOUT", "AI_LIMITS"} {
		if !known[name] {
			t.Errorf("%s missing from the known variables", name)
		}
	}
	for _, name := range []string{"REDIS_ADDR", "API_PORT", "PORT"} {
		if known[name] {
			t.Errorf("%s is not a variable, but is known", name)
		}
	}
}

// mutate returns files with old replaced by new in file name, failing
// when old is not there (so that a negative case cannot rot silently).
func mutate(t *testing.T, files map[string][]byte, name, old, new string) map[string][]byte {
	t.Helper()
	text := string(files[name])
	if !strings.Contains(text, old) {
		t.Fatalf("%s does not contain %q", name, old)
	}
	out := map[string][]byte{}
	for k, v := range files {
		out[k] = v
	}
	out[name] = []byte(strings.Replace(text, old, new, 1))
	return out
}

func wantProblem(t *testing.T, problems []error, want string) {
	t.Helper()
	if len(problems) == 0 {
		t.Fatalf("no problem found, want one mentioning %q", want)
	}
	if !strings.Contains(errors.Join(problems...).Error(), want) {
		t.Fatalf("problems do not mention %q:\n%v", want, errors.Join(problems...))
	}
}

// TestBrokenManifestsFail feeds broken manifests to the checker.
func TestBrokenManifestsFail(t *testing.T) {
	c := newChecker(t)
	files := realManifests(t)
	cases := []struct {
		name, file, old, new, want string
	}{
		{"unknown field", "worker.yaml", "revisionHistoryLimit: 5", "revisionHistoryLimt: 5", `unknown field "revisionHistoryLimt"`},
		{"field of the wrong type", "api.yaml", "replicas: 2", "replicas: two", "Deployment"},
		{"duplicate field", "api.yaml", "  replicas: 2\n", "  replicas: 2\n  replicas: 3\n", "already"},
		{"unknown apiVersion", "worker.yaml", "apiVersion: autoscaling/v2", "apiVersion: autoscaling/v2beta1", "unknown apiVersion/kind"},
		{"unknown kind", "api.yaml", "kind: Service", "kind: Servce", "unknown apiVersion/kind"},
		{"unknown variable", "configmap.yaml", "WORKER_CONCURRENCY:", "WORKER_CONCURENCY:", "WORKER_CONCURENCY is not a variable"},
		{"invalid value", "configmap.yaml", `SHUTDOWN_TIMEOUT: "25s"`, `SHUTDOWN_TIMEOUT: "25"`, "SHUTDOWN_TIMEOUT must be a positive duration"},
		{"redis modes mixed", "configmap.yaml", "  LOG_LEVEL: info\n", "  LOG_LEVEL: info\n  REDIS_CLUSTER_ADDRS: n1:6379\n", "REDIS_URL must be unset"},
		{"grace shorter than shutdown", "configmap.yaml", `SHUTDOWN_TIMEOUT: "25s"`, `SHUTDOWN_TIMEOUT: "90s"`, "terminationGracePeriodSeconds 60 must exceed SHUTDOWN_TIMEOUT"},
		{"admin port not the probe port", "worker.yaml", "value: 0.0.0.0:9090", "value: 0.0.0.0:9091", "ADMIN_ADDR port 9091 is not a containerPort"},
		{"admin on loopback", "scheduler.yaml", "value: 0.0.0.0:9090", "value: 127.0.0.1:9090", "listens on loopback"},
		{"no admin server", "scheduler.yaml", "            - name: ADMIN_ADDR\n              value: 0.0.0.0:9090\n", "", "ADMIN_ADDR is not set"},
		{"api probe port", "api.yaml", "            httpGet:\n              path: /readyz\n              port: http", "            httpGet:\n              path: /readyz\n              port: 9090", "readinessProbe port 9090"},
		{"liveness path", "worker.yaml", "path: /healthz\n              port: admin\n            periodSeconds: 10", "path: /health\n              port: admin\n            periodSeconds: 10", `livenessProbe path "/health"`},
		{"no readiness", "scheduler.yaml", "          readinessProbe:\n", "          xreadinessProbe:\n", "unknown field"},
		{"scrape port", "worker.yaml", `prometheus.io/port: "9090"`, `prometheus.io/port: "8080"`, "prometheus.io/port"},
		{"migrate command", "migrate-job.yaml", `["/usr/local/bin/presswork", "migrate"]`, `["/usr/local/bin/presswork", "migrate", "status"]`, "presswork migrate"},
		{"unknown binary", "worker.yaml", `["/usr/local/bin/worker"]`, `["/usr/local/bin/workers"]`, "does not run a binary of cmd/"},
		{"HPA target", "worker.yaml", "    kind: Deployment\n    name: presswork-worker", "    kind: Deployment\n    name: presswork-workers", "is not the worker Deployment"},
		{"worker replicas", "worker.yaml", "  revisionHistoryLimit: 5\n", "  revisionHistoryLimit: 5\n  replicas: 3\n", "leave them to the autoscaler"},
		{"root", "api.yaml", "        runAsNonRoot: true\n        runAsUser: 65532", "        runAsNonRoot: false\n        runAsUser: 65532", "runAsNonRoot must be true"},
		{"writable root", "scheduler.yaml", "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false", "readOnlyRootFilesystem"},
		{"capabilities", "migrate-job.yaml", `drop: ["ALL"]`, `drop: ["NET_RAW"]`, "drop ALL"},
		{"no memory limit", "worker.yaml", "              memory: 1Gi\n", "", "no memory limit"},
		{"service selector", "api.yaml", "  selector:\n    app.kubernetes.io/name: presswork\n    app.kubernetes.io/component: api", "  selector:\n    app.kubernetes.io/name: presswork\n    app.kubernetes.io/component: apj", "selects no Deployment"},
		{"service port", "api.yaml", "targetPort: http", "targetPort: web", "targetPort web"},
		{"missing secret", "api.yaml", "            - secretRef:\n                name: presswork", "            - secretRef:\n                name: presswork-env", `Secret "presswork-env"`},
		{"image not in kustomization", "scheduler.yaml", "image: presswork", "image: other", `image "other"`},
		{"example secret applied", "kustomization.yaml", "  - configmap.yaml\n", "  - configmap.yaml\n  - secret.example.yaml\n", "overwrite the real Secret"},
		{"file not listed", "kustomization.yaml", "  - scheduler.yaml\n", "", "do not list scheduler.yaml"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantProblem(t, checkAll(c, mutate(t, files, tc.file, tc.old, tc.new)), tc.want)
		})
	}
}

func TestBrokenComposeFails(t *testing.T) {
	c := newChecker(t)
	data, err := os.ReadFile("docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, old, new, want string }{
		{"no AOF", `"--appendonly", "yes"`, `"--appendonly", "no"`, "--appendonly yes"},
		{"no migrate", "\n  migrate:\n    <<:", "\n  migrator:\n    <<:", "no migrate service"},
		{"unknown variable", "LOG_FORMAT: json", "LOG_FROMAT: json", "LOG_FROMAT is not a variable"},
		{"invalid value", "REDIS_URL: redis://redis:6379/0", "REDIS_URL: redis:6379", "REDIS_URL must name a host"},
		{"wrong binary", `entrypoint: ["/usr/local/bin/worker"]`, `entrypoint: ["/usr/local/bin/api"]`, "worker runs [/usr/local/bin/api]"},
		{"migrate not waited for", "condition: service_completed_successfully", "condition: service_started", "depend on migrate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(string(data), tc.old) {
				t.Fatalf("docker-compose.yml does not contain %q", tc.old)
			}
			wantProblem(t, c.checkCompose([]byte(strings.Replace(string(data), tc.old, tc.new, 1))), tc.want)
		})
	}
}

func TestBrokenDockerfileFails(t *testing.T) {
	data, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, old, new, want string }{
		{"cgo", "CGO_ENABLED=0 go build", "CGO_ENABLED=1 go build", "CGO_ENABLED=0"},
		{"root", "USER nonroot:nonroot", "USER root", "other than root"},
		{"no user", "USER nonroot:nonroot\n", "", "other than root"},
		{"user only in the build stage", "WORKDIR /src", "USER nobody\nWORKDIR /src", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(string(data), tc.old) {
				t.Fatalf("Dockerfile does not contain %q", tc.old)
			}
			problems := checkDockerfile([]byte(strings.Replace(string(data), tc.old, tc.new, 1)))
			if tc.want == "" {
				if len(problems) > 0 {
					t.Fatalf("unexpected problems: %v", problems)
				}
				return
			}
			wantProblem(t, problems, tc.want)
		})
	}
}

package deploy

// The checker of the deployment files. There is no Docker engine and no
// Kubernetes cluster where the tests run, so this is what is checked
// instead:
//
//   - every Kubernetes document decodes strictly (unknown or duplicate
//     fields are errors) into the k8s.io/api type of its apiVersion and
//     kind, and only known pairs are accepted;
//   - every variable a container gets (env, and the keys of the ConfigMaps
//     and Secrets of its envFrom) is one the processes read, and the whole
//     environment passes config.Load and the providers' validation;
//   - the probes and the Prometheus annotations name the endpoints and the
//     port the process listens on (API_ADDR, ADMIN_ADDR);
//   - the containers run the binaries of cmd/, the Job runs
//     `presswork migrate`, the HPA scales the worker Deployment, Services
//     and Deployments select their pods, the security contexts;
//   - docker-compose.yml and the Dockerfile, structurally.

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	yamlv3 "gopkg.in/yaml.v3"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"

	"github.com/presswork/presswork/internal/ai/limited"
	"github.com/presswork/presswork/internal/ai/openai"
	"github.com/presswork/presswork/internal/ai/replicate"
	"github.com/presswork/presswork/internal/config"
)

// kustomization is the part of kustomize's Kustomization used here; any
// other field is refused, so that a typo is not silently ignored.
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Namespace  string   `json:"namespace,omitempty"`
	Resources  []string `json:"resources"`
	Labels     []struct {
		Pairs            map[string]string `json:"pairs"`
		IncludeSelectors bool              `json:"includeSelectors,omitempty"`
		IncludeTemplates bool              `json:"includeTemplates,omitempty"`
	} `json:"labels,omitempty"`
	Images []kustomizeImage `json:"images,omitempty"`
}

type kustomizeImage struct {
	Name    string `json:"name"`
	NewName string `json:"newName,omitempty"`
	NewTag  string `json:"newTag,omitempty"`
	Digest  string `json:"digest,omitempty"`
}

// newObject returns the typed object for an apiVersion and kind, or nil
// when the pair is not one these manifests may use.
func newObject(apiVersion, kind string) any {
	switch apiVersion + " " + kind {
	case "v1 ConfigMap":
		return &corev1.ConfigMap{}
	case "v1 Secret":
		return &corev1.Secret{}
	case "v1 Service":
		return &corev1.Service{}
	case "apps/v1 Deployment":
		return &appsv1.Deployment{}
	case "batch/v1 Job":
		return &batchv1.Job{}
	case "autoscaling/v2 HorizontalPodAutoscaler":
		return &autoscalingv2.HorizontalPodAutoscaler{}
	case "policy/v1 PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}
	case "kustomize.config.k8s.io/v1beta1 Kustomization":
		return &kustomization{}
	}
	return nil
}

// manifests are the parsed documents of deploy/k8s.
type manifests struct {
	files         []string // names of the .yaml files
	kustomization *kustomization
	configMaps    map[string]*corev1.ConfigMap
	secrets       map[string]*corev1.Secret
	services      []*corev1.Service
	deployments   []*appsv1.Deployment
	jobs          []*batchv1.Job
	hpas          []*autoscalingv2.HorizontalPodAutoscaler
	pdbs          []*policyv1.PodDisruptionBudget
}

// parseManifests decodes every document of files (name: content) strictly
// into its type.
func parseManifests(files map[string][]byte) (*manifests, []error) {
	m := &manifests{configMaps: map[string]*corev1.ConfigMap{}, secrets: map[string]*corev1.Secret{}}
	var problems []error
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		m.files = append(m.files, name)
		docs, err := splitYAML(files[name])
		if err != nil {
			problems = append(problems, fmt.Errorf("%s: %w", name, err))
			continue
		}
		for i, doc := range docs {
			where := fmt.Sprintf("%s (document %d)", name, i+1)
			var tm struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
			}
			if err := yaml.Unmarshal(doc, &tm); err != nil {
				problems = append(problems, fmt.Errorf("%s: %w", where, err))
				continue
			}
			obj := newObject(tm.APIVersion, tm.Kind)
			if obj == nil {
				problems = append(problems, fmt.Errorf("%s: unknown apiVersion/kind %q/%q", where, tm.APIVersion, tm.Kind))
				continue
			}
			if err := yaml.UnmarshalStrict(doc, obj); err != nil {
				problems = append(problems, fmt.Errorf("%s: %s %s: %w", where, tm.APIVersion, tm.Kind, err))
				continue
			}
			switch o := obj.(type) {
			case *kustomization:
				if name != "kustomization.yaml" {
					problems = append(problems, fmt.Errorf("%s: a Kustomization outside kustomization.yaml", where))
				}
				m.kustomization = o
			case *corev1.ConfigMap:
				m.configMaps[o.Name] = o
			case *corev1.Secret:
				m.secrets[o.Name] = o
			case *corev1.Service:
				m.services = append(m.services, o)
			case *appsv1.Deployment:
				m.deployments = append(m.deployments, o)
			case *batchv1.Job:
				m.jobs = append(m.jobs, o)
			case *autoscalingv2.HorizontalPodAutoscaler:
				m.hpas = append(m.hpas, o)
			case *policyv1.PodDisruptionBudget:
				m.pdbs = append(m.pdbs, o)
			}
		}
	}
	return m, problems
}

// splitYAML returns the non-empty documents of a YAML stream, each as YAML.
func splitYAML(data []byte) ([][]byte, error) {
	dec := yamlv3.NewDecoder(bytes.NewReader(data))
	var docs [][]byte
	for {
		var n yamlv3.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		if len(n.Content) == 0 || n.Content[0].Kind == yamlv3.ScalarNode && n.Content[0].Tag == "!!null" {
			continue
		}
		out, err := yamlv3.Marshal(&n)
		if err != nil {
			return nil, err
		}
		docs = append(docs, out)
	}
}

// knownVariables are the environment variables the processes read,
// recorded by running their own readers over an environment that turns
// every optional part on.
func knownVariables() map[string]bool {
	seen := map[string]bool{}
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))
	record := func(on map[string]string) func(string) string {
		return func(name string) string {
			seen[name] = true
			return on[name]
		}
	}
	_, _ = config.Load(record(map[string]string{"SECRET_KEY": key}))
	_, _, _ = openai.ConfigFromEnv(record(map[string]string{"OPENAI_API_KEY": "sk-test"}))
	_, _, _ = replicate.ConfigFromEnv(record(map[string]string{"REPLICATE_API_TOKEN": "r8-test"}))
	_, _ = limited.LimitsFromEnv(record(nil))
	return seen
}

// validSecretKey stands in for the example Secret's placeholder key.
var validSecretKey = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))

// loadEnv validates an environment with the processes' own code: the
// configuration, and the providers' (which only the worker reads, but an
// invalid value anywhere is a mistake). A SECRET_KEY that is a placeholder
// is replaced by a valid key.
func loadEnv(env map[string]string) (config.Config, error) {
	get := func(name string) string {
		if name == "SECRET_KEY" && strings.Contains(strings.ToUpper(env[name]), "REPLACE") {
			return validSecretKey
		}
		return env[name]
	}
	cfg, err := config.Load(get)
	_, _, oerr := openai.ConfigFromEnv(get)
	_, _, rerr := replicate.ConfigFromEnv(get)
	_, lerr := limited.LimitsFromEnv(get)
	return cfg, errors.Join(err, oerr, rerr, lerr)
}

// commandBinaries are the programs the image holds: /usr/local/bin/<dir of
// cmd/>, as the Dockerfile builds them.
func commandBinaries(cmdDir string) (map[string]bool, error) {
	entries, err := os.ReadDir(cmdDir)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, e := range entries {
		if e.IsDir() {
			out["/usr/local/bin/"+e.Name()] = true
		}
	}
	return out, nil
}

// checker holds what the checks compare the files with.
type checker struct {
	known    map[string]bool // variables the processes read
	binaries map[string]bool // /usr/local/bin/<name>
}

func (c *checker) checkManifests(m *manifests) []error {
	var problems []error
	bad := func(format string, args ...any) { problems = append(problems, fmt.Errorf(format, args...)) }

	// The kustomization lists every file but itself and the example Secret.
	if m.kustomization == nil {
		bad("kustomization.yaml: missing")
	} else {
		for _, f := range m.files {
			if f != "kustomization.yaml" && f != "secret.example.yaml" && !slices.Contains(m.kustomization.Resources, f) {
				bad("kustomization.yaml: resources do not list %s", f)
			}
		}
		for _, r := range m.kustomization.Resources {
			if !slices.Contains(m.files, r) {
				bad("kustomization.yaml: resource %s does not exist", r)
			}
			if r == "secret.example.yaml" {
				bad("kustomization.yaml: lists secret.example.yaml: applying would overwrite the real Secret with placeholders")
			}
		}
	}

	// The three processes, one Deployment each.
	byBinary := map[string]*appsv1.Deployment{}
	for _, d := range m.deployments {
		where := "Deployment " + d.Name
		problems = append(problems, c.checkPod(where, &d.Spec.Template.Spec, m, true)...)
		if sel := d.Spec.Selector; sel == nil || !selects(sel.MatchLabels, d.Spec.Template.Labels) {
			bad("%s: its selector does not select its pods' labels %v", where, d.Spec.Template.Labels)
		}
		if len(d.Spec.Template.Spec.Containers) != 1 {
			bad("%s: want one container, got %d", where, len(d.Spec.Template.Spec.Containers))
			continue
		}
		ct := &d.Spec.Template.Spec.Containers[0]
		if len(ct.Command) == 0 {
			bad("%s: no command (the image's entrypoint is the API)", where)
			continue
		}
		byBinary[ct.Command[0]] = d
		problems = append(problems, c.checkServing(where, d, ct, m)...)
	}
	api, worker, scheduler := byBinary["/usr/local/bin/api"], byBinary["/usr/local/bin/worker"], byBinary["/usr/local/bin/scheduler"]
	for name, d := range map[string]*appsv1.Deployment{"api": api, "worker": worker, "scheduler": scheduler} {
		if d == nil {
			bad("no Deployment runs /usr/local/bin/%s", name)
		}
	}
	if scheduler != nil && (scheduler.Spec.Replicas == nil || *scheduler.Spec.Replicas < 1) {
		bad("Deployment %s: replicas must be set (the replicas elect a leader)", scheduler.Name)
	}

	// The Job migrates.
	migrates := 0
	for _, j := range m.jobs {
		where := "Job " + j.Name
		problems = append(problems, c.checkPod(where, &j.Spec.Template.Spec, m, false)...)
		if rp := j.Spec.Template.Spec.RestartPolicy; rp != corev1.RestartPolicyNever && rp != corev1.RestartPolicyOnFailure {
			bad("%s: restartPolicy must be Never or OnFailure, got %q", where, rp)
		}
		for _, ct := range j.Spec.Template.Spec.Containers {
			if slices.Equal(append(slices.Clone(ct.Command), ct.Args...), []string{"/usr/local/bin/presswork", "migrate"}) {
				migrates++
			}
		}
	}
	if migrates != 1 {
		bad("want one Job container running [/usr/local/bin/presswork migrate], found %d", migrates)
	}

	// The HPA scales the worker Deployment, which leaves replicas to it.
	if len(m.hpas) == 0 {
		bad("no HorizontalPodAutoscaler for the workers")
	}
	for _, h := range m.hpas {
		where := "HorizontalPodAutoscaler " + h.Name
		ref := h.Spec.ScaleTargetRef
		if worker == nil || ref.Kind != "Deployment" || ref.APIVersion != "apps/v1" || ref.Name != worker.Name {
			bad("%s: scaleTargetRef %s %s %q is not the worker Deployment", where, ref.APIVersion, ref.Kind, ref.Name)
			continue
		}
		if worker.Spec.Replicas != nil {
			bad("Deployment %s: sets replicas, which every apply would reset under %s; leave them to the autoscaler", worker.Name, where)
		}
		if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas < 1 || h.Spec.MaxReplicas < *h.Spec.MinReplicas {
			bad("%s: minReplicas must be at least 1 and at most maxReplicas", where)
		}
		for _, metric := range h.Spec.Metrics {
			if metric.Type == autoscalingv2.ResourceMetricSourceType && metric.Resource != nil {
				for _, ct := range worker.Spec.Template.Spec.Containers {
					if _, ok := ct.Resources.Requests[metric.Resource.Name]; !ok {
						bad("%s: scales on %s but container %s requests none", where, metric.Resource.Name, ct.Name)
					}
				}
			}
		}
	}

	// Services select pods and name their ports.
	for _, s := range m.services {
		var target *appsv1.Deployment
		for _, d := range m.deployments {
			if len(s.Spec.Selector) > 0 && selects(s.Spec.Selector, d.Spec.Template.Labels) {
				target = d
			}
		}
		if target == nil {
			bad("Service %s: its selector %v selects no Deployment's pods", s.Name, s.Spec.Selector)
			continue
		}
		if api != nil && target != api {
			bad("Service %s: selects %s, not the API", s.Name, target.Name)
		}
		for _, p := range s.Spec.Ports {
			if _, ok := containerPort(target.Spec.Template.Spec.Containers[0], p.TargetPort.String()); !ok {
				bad("Service %s: targetPort %s is not a port of %s", s.Name, p.TargetPort.String(), target.Name)
			}
		}
	}
	for _, p := range m.pdbs {
		matched := false
		for _, d := range m.deployments {
			matched = matched || p.Spec.Selector != nil && selects(p.Spec.Selector.MatchLabels, d.Spec.Template.Labels)
		}
		if !matched {
			bad("PodDisruptionBudget %s: selects no Deployment's pods", p.Name)
		}
	}
	return problems
}

// checkPod checks what every pod shares: security, resources, the image,
// the command, the environment.
func (c *checker) checkPod(where string, pod *corev1.PodSpec, m *manifests, serving bool) []error {
	var problems []error
	bad := func(format string, args ...any) { problems = append(problems, fmt.Errorf(where+": "+format, args...)) }
	if psc := pod.SecurityContext; psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
		bad("pod securityContext.runAsNonRoot must be true")
	} else if psc.RunAsUser != nil && *psc.RunAsUser == 0 {
		bad("pod securityContext.runAsUser is root")
	}
	if len(pod.Containers) == 0 {
		bad("no containers")
	}
	for i := range pod.Containers {
		ct := &pod.Containers[i]
		cw := fmt.Sprintf("container %s", ct.Name)
		if ct.Image == "" {
			bad("%s: no image", cw)
		} else if m.kustomization != nil && !slices.ContainsFunc(m.kustomization.Images, func(im kustomizeImage) bool { return im.Name == ct.Image }) {
			bad("%s: image %q is not set by kustomization.yaml's images", cw, ct.Image)
		}
		if len(ct.Command) == 0 || !c.binaries[ct.Command[0]] {
			bad("%s: command %v does not run a binary of cmd/ (/usr/local/bin/<name>)", cw, ct.Command)
		}
		sc := ct.SecurityContext
		switch {
		case sc == nil:
			bad("%s: no securityContext", cw)
		default:
			if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
				bad("%s: securityContext.readOnlyRootFilesystem must be true", cw)
			}
			if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				bad("%s: securityContext.allowPrivilegeEscalation must be false", cw)
			}
			if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0 {
				bad("%s: securityContext.capabilities must drop ALL and add none", cw)
			}
			if sc.RunAsNonRoot != nil && !*sc.RunAsNonRoot || sc.RunAsUser != nil && *sc.RunAsUser == 0 || sc.Privileged != nil && *sc.Privileged {
				bad("%s: securityContext runs as root or privileged", cw)
			}
		}
		for _, kind := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			if _, ok := ct.Resources.Requests[kind]; !ok {
				bad("%s: no %s request", cw, kind)
			}
			if _, ok := ct.Resources.Limits[kind]; !ok {
				bad("%s: no %s limit", cw, kind)
			}
		}
		if _, err := c.containerEnv(ct, m); err != nil {
			bad("%s: %v", cw, err)
		}
	}
	return problems
}

// containerEnv is a container's environment as Kubernetes builds it (envFrom
// first, env over it), every name known, the whole validated.
func (c *checker) containerEnv(ct *corev1.Container, m *manifests) (map[string]string, error) {
	var problems []error
	env := map[string]string{}
	for _, from := range ct.EnvFrom {
		switch {
		case from.ConfigMapRef != nil:
			cm := m.configMaps[from.ConfigMapRef.Name]
			if cm == nil {
				problems = append(problems, fmt.Errorf("envFrom names ConfigMap %q, which is not in deploy/k8s", from.ConfigMapRef.Name))
				continue
			}
			for k, v := range cm.Data {
				env[k] = v
			}
		case from.SecretRef != nil:
			s := m.secrets[from.SecretRef.Name]
			if s == nil {
				problems = append(problems, fmt.Errorf("envFrom names Secret %q, which is not in deploy/k8s (secret.example.yaml)", from.SecretRef.Name))
				continue
			}
			for k, v := range s.Data {
				env[k] = string(v)
			}
			for k, v := range s.StringData {
				env[k] = v
			}
		}
	}
	for _, e := range ct.Env {
		if e.ValueFrom != nil {
			problems = append(problems, fmt.Errorf("env %s: valueFrom is not checked here; use envFrom", e.Name))
		}
		env[e.Name] = e.Value
	}
	names := make([]string, 0, len(env))
	for name := range env {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !c.known[name] {
			problems = append(problems, fmt.Errorf("%s is not a variable the processes read (README \"Configuration\")", name))
		}
	}
	if _, err := loadEnv(env); err != nil {
		problems = append(problems, fmt.Errorf("the environment does not load: %w", err))
	}
	return env, errors.Join(problems...)
}

// checkServing checks a long-running process's listen address, probes,
// Prometheus annotations and grace period.
func (c *checker) checkServing(where string, d *appsv1.Deployment, ct *corev1.Container, m *manifests) []error {
	var problems []error
	bad := func(format string, args ...any) { problems = append(problems, fmt.Errorf(where+": "+format, args...)) }
	env, err := c.containerEnv(ct, m)
	if err != nil {
		return nil // reported by checkPod
	}
	cfg, err := loadEnv(env)
	if err != nil {
		return nil
	}
	addr, variable := cfg.AdminAddr, "ADMIN_ADDR"
	if ct.Command[0] == "/usr/local/bin/api" {
		addr, variable = cfg.APIAddr, "API_ADDR"
	}
	if addr == "" {
		bad("%s is not set: the process serves no /healthz", variable)
		return problems
	}
	host, portText, err := net.SplitHostPort(addr)
	port, perr := strconv.Atoi(portText)
	if err != nil || perr != nil {
		bad("%s=%q is not host:port", variable, addr)
		return problems
	}
	if ip := net.ParseIP(host); host == "localhost" || ip != nil && ip.IsLoopback() {
		bad("%s=%q listens on loopback: the kubelet cannot reach it", variable, addr)
	}
	if p, ok := containerPort(*ct, strconv.Itoa(port)); !ok || p != port {
		bad("%s port %d is not a containerPort", variable, port)
	}
	for _, pr := range []struct {
		name, path string
		probe      *corev1.Probe
		required   bool
	}{
		{"livenessProbe", "/healthz", ct.LivenessProbe, true},
		{"readinessProbe", "/readyz", ct.ReadinessProbe, true},
		{"startupProbe", "/healthz", ct.StartupProbe, false},
	} {
		if pr.probe == nil {
			if pr.required {
				bad("no %s", pr.name)
			}
			continue
		}
		g := pr.probe.HTTPGet
		if g == nil {
			bad("%s is not an httpGet", pr.name)
			continue
		}
		if g.Path != pr.path {
			bad("%s path %q, want %s", pr.name, g.Path, pr.path)
		}
		if p, ok := containerPort(*ct, g.Port.String()); !ok || p != port {
			bad("%s port %s is not %s's port %d", pr.name, g.Port.String(), variable, port)
		}
	}
	ann := d.Spec.Template.Annotations
	if ann["prometheus.io/scrape"] != "true" || ann["prometheus.io/port"] != strconv.Itoa(port) || ann["prometheus.io/path"] != "/metrics" {
		bad("pod annotations must be prometheus.io/scrape \"true\", prometheus.io/port %q, prometheus.io/path /metrics; got %v", strconv.Itoa(port), ann)
	}
	grace := int64(30) // Kubernetes' default
	if g := d.Spec.Template.Spec.TerminationGracePeriodSeconds; g != nil {
		grace = *g
	}
	if time.Duration(grace)*time.Second <= cfg.ShutdownTimeout+5*time.Second {
		bad("terminationGracePeriodSeconds %d must exceed SHUTDOWN_TIMEOUT %s by more than 5s", grace, cfg.ShutdownTimeout)
	}
	return problems
}

// containerPort resolves a port given by name or number to the container's
// port number.
func containerPort(ct corev1.Container, port string) (int, bool) {
	for _, p := range ct.Ports {
		if p.Name == port || strconv.Itoa(int(p.ContainerPort)) == port {
			return int(p.ContainerPort), true
		}
	}
	return 0, false
}

// selects reports whether selector (non-empty) matches labels.
func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// composeFile is the part of a Compose file checked here.
type composeFile struct {
	Services map[string]struct {
		Image       string         `yaml:"image"`
		Build       any            `yaml:"build"`
		Command     any            `yaml:"command"`
		Entrypoint  any            `yaml:"entrypoint"`
		Environment map[string]any `yaml:"environment"`
		DependsOn   map[string]struct {
			Condition string `yaml:"condition"`
		} `yaml:"depends_on"`
	} `yaml:"services"`
}

// words turns a Compose command or entrypoint (a string or a list) into
// its words.
func words(v any) []string {
	switch v := v.(type) {
	case string:
		return strings.Fields(v)
	case []any:
		var out []string
		for _, w := range v {
			out = append(out, fmt.Sprint(w))
		}
		return out
	}
	return nil
}

// interpolation is Compose's ${NAME}, ${NAME:-default}, ${NAME:?message}.
var interpolation = regexp.MustCompile(`\$\{([A-Z0-9_]+)(?:(:?[-?])([^}]*))?\}`)

// interpolate fills in Compose variables: SECRET_KEY with a valid key,
// the others with their default or nothing.
func interpolate(s string) string {
	return interpolation.ReplaceAllStringFunc(s, func(m string) string {
		sub := interpolation.FindStringSubmatch(m)
		if sub[1] == "SECRET_KEY" {
			return validSecretKey
		}
		if strings.HasSuffix(sub[2], "-") {
			return sub[3]
		}
		return ""
	})
}

func (c *checker) checkCompose(data []byte) []error {
	var problems []error
	bad := func(format string, args ...any) {
		problems = append(problems, fmt.Errorf("docker-compose.yml: "+format, args...))
	}
	var f composeFile
	if err := yamlv3.Unmarshal(data, &f); err != nil {
		return []error{fmt.Errorf("docker-compose.yml: %w", err)}
	}
	for _, name := range []string{"api", "worker", "scheduler", "postgres", "redis", "migrate"} {
		if _, ok := f.Services[name]; !ok {
			bad("no %s service", name)
		}
	}
	if redis, ok := f.Services["redis"]; ok {
		cmd := strings.Join(words(redis.Command), " ")
		if !regexp.MustCompile(`(^|\s)--appendonly\s+yes(\s|$)`).MatchString(cmd) {
			bad("redis must run with --appendonly yes, command is %q", cmd)
		}
	}
	if migrate, ok := f.Services["migrate"]; ok {
		run := append(words(migrate.Entrypoint), words(migrate.Command)...)
		if !slices.Equal(run, []string{"/usr/local/bin/presswork", "migrate"}) {
			bad("migrate runs %v, want [/usr/local/bin/presswork migrate]", run)
		}
	}
	for _, name := range []string{"api", "worker", "scheduler", "migrate"} {
		s, ok := f.Services[name]
		if !ok {
			continue
		}
		if name != "migrate" {
			if run := words(s.Entrypoint); len(run) == 0 || run[0] != "/usr/local/bin/"+name {
				bad("%s runs %v, want /usr/local/bin/%s", name, run, name)
			}
			if s.DependsOn["migrate"].Condition != "service_completed_successfully" {
				bad("%s must depend on migrate with condition service_completed_successfully", name)
			}
		}
		if s.Image == "" && s.Build == nil {
			bad("%s has neither image nor build", name)
		}
		env := map[string]string{}
		for k, v := range s.Environment {
			if !c.known[k] {
				bad("%s: %s is not a variable the processes read", name, k)
			}
			if v != nil {
				env[k] = interpolate(fmt.Sprint(v))
			}
		}
		if _, err := loadEnv(env); err != nil {
			bad("%s: the environment does not load: %v", name, err)
		}
	}
	return problems
}

// checkDockerfile: static binaries of every command, and a final stage
// that runs as a user other than root.
func checkDockerfile(data []byte) []error {
	var problems []error
	bad := func(format string, args ...any) {
		problems = append(problems, fmt.Errorf("Dockerfile: "+format, args...))
	}
	// Join continued lines.
	text := regexp.MustCompile(`\\\r?\n`).ReplaceAllString(string(data), " ")
	var stages [][]string
	builds := 0
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		instr := strings.ToUpper(strings.Fields(line)[0])
		if instr == "FROM" {
			stages = append(stages, nil)
		}
		if len(stages) == 0 {
			continue
		}
		stages[len(stages)-1] = append(stages[len(stages)-1], line)
		if instr == "RUN" && strings.Contains(line, "go build") {
			builds++
			if !regexp.MustCompile(`(^|\s)CGO_ENABLED=0\s`).MatchString(line) {
				bad("%q does not build static binaries (CGO_ENABLED=0)", line)
			}
			if !strings.Contains(line, "./cmd/...") {
				bad("%q does not build every command (./cmd/...)", line)
			}
		}
	}
	if builds == 0 {
		bad("no RUN go build")
	}
	if len(stages) == 0 {
		bad("no FROM")
		return problems
	}
	user := ""
	for _, line := range stages[len(stages)-1] {
		if f := strings.Fields(line); strings.EqualFold(f[0], "USER") && len(f) > 1 {
			user = f[1]
		}
	}
	name, _, _ := strings.Cut(user, ":")
	if user == "" || name == "root" || name == "0" {
		bad("the final stage must end as a user other than root, USER is %q", user)
	}
	return problems
}

// readManifests reads deploy/k8s/*.yaml.
func readManifests(dir string) (map[string][]byte, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		files[filepath.Base(p)] = b
	}
	return files, nil
}

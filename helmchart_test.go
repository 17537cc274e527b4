package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"github.com/sluicehq/sluice/health"
	"github.com/sluicehq/sluice/internal/testenv"
)

const chartDir = "deploy/helm/sluice"

// helmBinary is helm on PATH (or in GOPATH/bin, where `go install` puts
// it). Without it the chart tests are skipped on a developer's machine and
// fail in CI, which installs it.
func helmBinary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("helm"); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := strings.TrimSpace(string(out)) + "/bin/helm"
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("helm is not installed; .ci/run installs it with go install helm.sh/helm/v4/cmd/helm@v4.3.2")
	}
	t.Skip("helm is not on PATH: go install helm.sh/helm/v4/cmd/helm@v4.3.2 to render and check the chart")
	return ""
}

// rendered is every object of one `helm template`, decoded strictly into
// its Kubernetes type.
type rendered struct {
	deployment *appsv1.Deployment
	service    *corev1.Service
	pdb        *policyv1.PodDisruptionBudget
	ingress    *networkingv1.Ingress
	job        *batchv1.Job
}

// renderChart runs helm template with the --set values and decodes each
// object strictly: a field the Kubernetes type lacks (a typo, a field at
// the wrong level) fails the test, as the API server would refuse it.
func renderChart(t *testing.T, helm string, set ...string) rendered {
	t.Helper()
	args := []string{"template", "rel", chartDir, "--kube-version", "1.31.0"}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(helm, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	var r rendered
	for _, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(out), -1) {
		if strings.TrimSpace(regexp.MustCompile(`(?m)^#.*$`).ReplaceAllString(doc, "")) == "" {
			continue
		}
		var meta metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			t.Fatalf("rendered object: %v\n%s", err, doc)
		}
		decodeInto := map[string]func() any{
			"apps/v1 Deployment":            func() any { r.deployment = &appsv1.Deployment{}; return r.deployment },
			"v1 Service":                    func() any { r.service = &corev1.Service{}; return r.service },
			"policy/v1 PodDisruptionBudget": func() any { r.pdb = &policyv1.PodDisruptionBudget{}; return r.pdb },
			"networking.k8s.io/v1 Ingress":  func() any { r.ingress = &networkingv1.Ingress{}; return r.ingress },
			"batch/v1 Job":                  func() any { r.job = &batchv1.Job{}; return r.job },
		}[meta.APIVersion+" "+meta.Kind]
		if decodeInto == nil {
			t.Fatalf("the chart renders an object this test does not check: %s %s", meta.APIVersion, meta.Kind)
		}
		obj := decodeInto()
		if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			t.Fatalf("%s does not decode strictly: %v\n%s", meta.Kind, err, doc)
		}
	}
	return r
}

// envValue is the literal value of a container's variable.
func envValue(c corev1.Container, name string) (string, bool) {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value, e.ValueFrom == nil
		}
	}
	return "", false
}

func secretRef(c corev1.Container, name string) *corev1.SecretKeySelector {
	for _, e := range c.Env {
		if e.Name == name && e.ValueFrom != nil {
			return e.ValueFrom.SecretKeyRef
		}
	}
	return nil
}

// dockerfileUser is the Dockerfile's USER, which the pods must run as.
func dockerfileUser(t *testing.T) int64 {
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^USER (\d+):(\d+)$`).FindStringSubmatch(string(b))
	if m == nil || m[1] != m[2] {
		t.Fatalf("the Dockerfile has no numeric USER uid:gid of one number")
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	return n
}

func checkSecurity(t *testing.T, what string, pod corev1.PodSpec, uid int64) {
	t.Helper()
	ps := pod.SecurityContext
	if ps == nil || ps.RunAsNonRoot == nil || !*ps.RunAsNonRoot || ps.RunAsUser == nil || *ps.RunAsUser != uid ||
		ps.SeccompProfile == nil || ps.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s: pod securityContext %+v: want runAsNonRoot, runAsUser %d (the Dockerfile's USER), seccomp RuntimeDefault", what, ps, uid)
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Errorf("%s: mounts a service account token it never uses", what)
	}
	tmp := false
	for _, v := range pod.Volumes {
		if v.EmptyDir != nil {
			for _, m := range pod.Containers[0].VolumeMounts {
				tmp = tmp || (m.Name == v.Name && m.MountPath == "/tmp")
			}
		}
	}
	if !tmp {
		t.Errorf("%s: no emptyDir on /tmp (the root filesystem is read-only)", what)
	}
	for _, c := range pod.Containers {
		sc := c.SecurityContext
		if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
			sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
			sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" || len(sc.Capabilities.Add) != 0 {
			t.Errorf("%s: container %s securityContext %+v: want a read-only root, no privilege escalation, every capability dropped", what, c.Name, sc)
		}
	}
}

// TestHelmChart renders the chart with several value sets and checks what
// a rollout on N replicas needs: the replicas, the secrets by reference,
// probes on paths the gateway serves, a grace period longer than the
// drain, a budget selecting the gateway's pods only, a locked-down pod,
// and one migration Job per release.
func TestHelmChart(t *testing.T) {
	helm := helmBinary(t)
	uid := dockerfileUser(t)
	if out, err := exec.Command(helm, "lint", "--strict", chartDir).CombinedOutput(); err != nil {
		t.Fatalf("helm lint --strict: %v\n%s", err, out)
	}

	cases := []struct {
		name        string
		set         []string
		replicas    int32
		grace       int64 // the drain: SLUICE_SHUTDOWN_TIMEOUT + SLUICE_SHUTDOWN_GRACE
		preStop     int64
		ingress     bool
		migrateHook bool
		pdb         bool
	}{
		{"defaults", nil, 3, 35, 10, false, true, true},
		{"five replicas behind an ingress", []string{"replicaCount=5", "secret.adminPasswordKey=ADMIN_PASSWORD", "secret.metricsTokenKey=METRICS_TOKEN", "secret.previousMasterKeyKey=OLD_KEY", "ingress.enabled=true", "ingress.className=nginx", "ingress.tlsSecretName=sluice-tls"}, 5, 35, 10, true, true, true},
		{"long streams", []string{"shutdownTimeoutSeconds=300", "shutdownGraceSeconds=20", "preStopSleepSeconds=15"}, 3, 320, 15, false, true, true},
		{"migrations elsewhere, one replica", []string{"migrations.hook=false", "replicaCount=1", "podDisruptionBudget.enabled=false"}, 1, 35, 10, false, false, false},
	}
	probePaths := map[string]bool{}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			r := renderChart(t, helm, tt.set...)
			d := r.deployment
			if d == nil || r.service == nil {
				t.Fatal("no Deployment or Service rendered")
			}
			if d.Spec.Replicas == nil || *d.Spec.Replicas != tt.replicas {
				t.Errorf("replicas %v, want %d", d.Spec.Replicas, tt.replicas)
			}
			pod := d.Spec.Template.Spec
			if len(pod.Containers) != 1 {
				t.Fatalf("%d containers, want 1", len(pod.Containers))
			}
			c := pod.Containers[0]
			podLabels := labels.Set(d.Spec.Template.Labels)

			// Secrets only by reference.
			for _, name := range []string{"DATABASE_URL", "SLUICE_MASTER_KEY", "SLUICE_JWT_SECRET"} {
				if ref := secretRef(c, name); ref == nil || ref.Name == "" || ref.Key == "" {
					t.Errorf("%s is not read from a Secret", name)
				}
			}

			for name, key := range map[string]string{"SLUICE_ADMIN_PASSWORD": "secret.adminPasswordKey=", "SLUICE_METRICS_TOKEN": "secret.metricsTokenKey=", "SLUICE_PREVIOUS_MASTER_KEY": "secret.previousMasterKeyKey="} {
				asked := slices.ContainsFunc(tt.set, func(s string) bool { return strings.HasPrefix(s, key) })
				if ref := secretRef(c, name); (ref != nil) != asked {
					t.Errorf("%s from the Secret: %v, want %v", name, ref, asked)
				}
			}

			// The drain fits in the grace period.
			timeout, _ := envValue(c, "SLUICE_SHUTDOWN_TIMEOUT")
			cutGrace, _ := envValue(c, "SLUICE_SHUTDOWN_GRACE")
			td, err1 := time.ParseDuration(timeout)
			gd, err2 := time.ParseDuration(cutGrace)
			if err1 != nil || err2 != nil || int64((td+gd)/time.Second) != tt.grace {
				t.Errorf("shutdown timeout %q + grace %q, want %ds in all", timeout, cutGrace, tt.grace)
			}
			if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Sleep == nil || c.Lifecycle.PreStop.Sleep.Seconds != tt.preStop {
				t.Errorf("preStop %+v, want a %ds sleep action", c.Lifecycle, tt.preStop)
			}
			if g := pod.TerminationGracePeriodSeconds; g == nil || *g <= tt.preStop+tt.grace {
				t.Errorf("terminationGracePeriodSeconds %v, want more than preStop %ds + drain %ds", g, tt.preStop, tt.grace)
			}
			if v, _ := envValue(c, "SLUICE_DRAIN_DELAY"); v != "0s" {
				t.Errorf("SLUICE_DRAIN_DELAY %q, want 0s beside a preStop sleep", v)
			}

			// Probes on the container's port, at paths checked below.
			for name, p := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe, "startup": c.StartupProbe} {
				if p == nil || p.HTTPGet == nil || p.HTTPGet.Port.String() != "http" {
					t.Fatalf("%s probe %+v: want an httpGet on the http port", name, p)
				}
				probePaths[p.HTTPGet.Path] = true
			}
			if c.ReadinessProbe.HTTPGet.Path != "/readyz" || c.LivenessProbe.HTTPGet.Path != "/healthz" {
				t.Errorf("readiness on %s, liveness on %s", c.ReadinessProbe.HTTPGet.Path, c.LivenessProbe.HTTPGet.Path)
			}
			if len(c.Ports) != 1 || c.Ports[0].Name != "http" || c.Ports[0].ContainerPort != 8080 {
				t.Errorf("ports %+v", c.Ports)
			}
			if v, _ := envValue(c, "SLUICE_ADDR"); v != fmt.Sprintf(":%d", c.Ports[0].ContainerPort) {
				t.Errorf("SLUICE_ADDR %q does not listen on the container port", v)
			}
			checkSecurity(t, "gateway", pod, uid)

			// The Service and the budget select exactly the gateway's pods.
			if !labels.SelectorFromSet(r.service.Spec.Selector).Matches(podLabels) {
				t.Errorf("the Service selector %v misses the pods %v", r.service.Spec.Selector, podLabels)
			}
			sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
			if err != nil || !sel.Matches(podLabels) {
				t.Errorf("the Deployment selector %v misses its pods: %v", d.Spec.Selector, err)
			}
			if (r.pdb != nil) != tt.pdb {
				t.Fatalf("PodDisruptionBudget rendered: %v, want %v", r.pdb != nil, tt.pdb)
			}
			if r.pdb != nil {
				sel, err := metav1.LabelSelectorAsSelector(r.pdb.Spec.Selector)
				if err != nil || !sel.Matches(podLabels) {
					t.Errorf("the PodDisruptionBudget selector %v misses the pods %v", r.pdb.Spec.Selector, podLabels)
				}
				if r.pdb.Spec.MaxUnavailable == nil || r.pdb.Spec.MaxUnavailable.IntValue() < 1 {
					t.Errorf("the PodDisruptionBudget allows no disruption: %+v", r.pdb.Spec)
				}
			}

			if (r.ingress != nil) != tt.ingress {
				t.Fatalf("Ingress rendered: %v, want %v", r.ingress != nil, tt.ingress)
			}
			if r.ingress != nil {
				b := r.ingress.Spec.Rules[0].HTTP.Paths[0].Backend.Service
				if b.Name != r.service.Name || b.Port.Name != r.service.Spec.Ports[0].Name {
					t.Errorf("the Ingress routes to %s:%s, not the Service %s", b.Name, b.Port.Name, r.service.Name)
				}
			}

			if (r.job != nil) != tt.migrateHook {
				t.Fatalf("migration Job rendered: %v, want %v", r.job != nil, tt.migrateHook)
			}
			if j := r.job; j != nil {
				if hooks := j.Annotations["helm.sh/hook"]; hooks != "pre-install,pre-upgrade" {
					t.Errorf("the migration Job's hooks are %q", hooks)
				}
				jc := j.Spec.Template.Spec.Containers[0]
				if strings.Join(jc.Args, " ") != "migrate" || jc.Image != c.Image {
					t.Errorf("the migration Job runs %s %v, want the gateway's image %s with migrate", jc.Image, jc.Args, c.Image)
				}
				if secretRef(jc, "DATABASE_URL") == nil || secretRef(jc, "SLUICE_MASTER_KEY") != nil {
					t.Errorf("the migration Job must read DATABASE_URL, and nothing more, from the Secret: %+v", jc.Env)
				}
				if labels.SelectorFromSet(r.service.Spec.Selector).Matches(labels.Set(j.Spec.Template.Labels)) {
					t.Errorf("the Service would send traffic to the migration Job's pod")
				}
				if j.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyNever {
					t.Errorf("the migration Job's restartPolicy is %q", j.Spec.Template.Spec.RestartPolicy)
				}
				checkSecurity(t, "migration Job", j.Spec.Template.Spec, uid)
			}
		})
	}

	// The probes' paths are the gateway's own probes (the dashboard's
	// catch-all answers 200 to any other path), answering on a started
	// gateway.
	target := testenv.Target(t, "sqlite")
	base, _ := startBinary(t, env("DATABASE_URL", testenv.URL(target), "SLUICE_MASTER_KEY", testMasterKey, "SLUICE_JWT_SECRET", testJWT))
	want := map[string]string{health.LivePath: "ok\n", health.ReadyPath: "ready\n"}
	for path := range probePaths {
		if _, ok := want[path]; !ok {
			t.Errorf("a probe checks %s, which is not one of the gateway's probes", path)
			continue
		}
		if code, body := probe(t, base, path); code != http.StatusOK || !strings.HasPrefix(body, want[path]) {
			t.Errorf("GET %s = %d %q, want 200 %q", path, code, body, want[path])
		}
	}

	// Without the Secret's name the chart refuses to render.
	if out, err := exec.Command(helm, "template", "rel", chartDir, "--set", "secret.name=").CombinedOutput(); err == nil || !strings.Contains(string(out), "secret.name") {
		t.Errorf("helm template without secret.name: %v\n%s", err, out)
	}
}

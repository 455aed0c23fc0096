package chartcheck

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"
)

// Values of the matrix. Each case starts from the chart's values.yaml.
const (
	defaultValues = ``

	shardedValues = `
sharding:
  enabled: true
  replicas: 3
`

	existingSecretValues = `
credentials:
  source: secret
  existingSecret:
    name: my-huawei-key
    accessKeyKey: ak
    secretKeyKey: sk
    securityTokenKey: token
`

	metadataValues = `
credentials:
  source: metadata
  metadata:
    url: http://169.254.169.254
config:
  projects:
    - region: ap-southeast-1
      project_id: "01234567890123456789012345678901"
      discovery:
        cts: {enabled: true}
`

	everythingValues = `
sharding:
  enabled: true
  replicas: 2
serviceMonitor:
  enabled: true
  additionalLabels: {release: prometheus}
prometheusRule:
  enabled: true
  additionalLabels: {release: prometheus}
grafanaDashboards:
  enabled: true
  annotations: {grafana_folder: Huawei Cloud}
`
)

// want is what a case of the matrix must render.
type want struct {
	workload      string // Deployment or StatefulSet
	replicas      int32
	shards        int // 0: no shard flags
	secret        *corev1.SecretKeySelector
	tokenKey      string
	credentials   map[string]any // the config's credentials block; nil: none
	monitoring    bool           // ServiceMonitor, PrometheusRule and dashboards rendered
	projectRegion string
}

func TestChartMatrix(t *testing.T) {
	defaultSecret := &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "huaweicloud-job-exporter-credentials"}, Key: "access_key"}
	for _, tc := range []struct {
		name   string
		values string
		want   want
	}{
		{"defaults", defaultValues, want{workload: "Deployment", replicas: 1, secret: defaultSecret, tokenKey: "security_token", projectRegion: "cn-north-4"}},
		{"sharded", shardedValues, want{workload: "StatefulSet", replicas: 3, shards: 3, secret: defaultSecret, tokenKey: "security_token", projectRegion: "cn-north-4"}},
		{"existing secret", existingSecretValues, want{workload: "Deployment", replicas: 1,
			secret: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "my-huawei-key"}, Key: "ak"}, tokenKey: "token", projectRegion: "cn-north-4"}},
		{"metadata credentials", metadataValues, want{workload: "Deployment", replicas: 1,
			credentials: map[string]any{"source": "metadata", "metadata_url": "http://169.254.169.254"}, projectRegion: "ap-southeast-1"}},
		{"everything", everythingValues, want{workload: "StatefulSet", replicas: 2, shards: 2, secret: defaultSecret, tokenKey: "security_token", monitoring: true, projectRegion: "cn-north-4"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := helm(t, "lint", chartPath, "--strict", "--namespace", namespace, "--kube-version", kubeVersion, "-f", valuesFile(t, tc.values)); err != nil {
				t.Fatal(err)
			}
			manifest, err := render(t, tc.values)
			if err != nil {
				t.Fatal(err)
			}
			objs := decodeAll(t, manifest)
			checkWorkload(t, objs, tc.want)
			checkConfig(t, objs, tc.want)
			checkService(t, objs, tc.want)
			checkMonitoring(t, objs, tc.want)
		})
	}
}

// podOf returns the workload's pod template, replicas and kind.
func podOf(t *testing.T, objs []rendered) (corev1.PodTemplateSpec, int32, string) {
	t.Helper()
	deployments, statefulSets := all[*appsv1.Deployment](objs), all[*appsv1.StatefulSet](objs)
	switch {
	case len(deployments) == 1 && len(statefulSets) == 0:
		return deployments[0].Spec.Template, *deployments[0].Spec.Replicas, "Deployment"
	case len(deployments) == 0 && len(statefulSets) == 1:
		return statefulSets[0].Spec.Template, *statefulSets[0].Spec.Replicas, "StatefulSet"
	}
	t.Fatalf("want one Deployment or one StatefulSet, rendered %d and %d", len(deployments), len(statefulSets))
	panic("unreachable")
}

func checkWorkload(t *testing.T, objs []rendered, w want) {
	t.Helper()
	pod, replicas, kind := podOf(t, objs)
	if kind != w.workload || replicas != w.replicas {
		t.Errorf("workload: %s with %d replicas, want %s with %d", kind, replicas, w.workload, w.replicas)
	}
	spec := pod.Spec
	if len(spec.Containers) != 1 {
		t.Fatalf("want one container, have %d", len(spec.Containers))
	}
	c := spec.Containers[0]

	// Non-root, read-only, no capabilities, the runtime's seccomp profile: the pod passes the
	// "restricted" Pod Security Standard.
	psc := spec.SecurityContext
	if psc == nil || !deref(psc.RunAsNonRoot) || deref(psc.RunAsUser) != 65532 ||
		psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod securityContext: %+v", psc)
	}
	sc := c.SecurityContext
	if sc == nil || !deref(sc.RunAsNonRoot) || deref(sc.RunAsUser) != 65532 || !deref(sc.ReadOnlyRootFilesystem) ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.Capabilities == nil || !reflect.DeepEqual(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) != 0 ||
		sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("container securityContext: %+v", sc)
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Errorf("automountServiceAccountToken: %v, want false (the exporter never calls the Kubernetes API)", spec.AutomountServiceAccountToken)
	}

	for name, probe := range map[string]*corev1.Probe{"/-/healthy": c.LivenessProbe, "/-/ready": c.ReadinessProbe} {
		if probe == nil || probe.HTTPGet == nil || probe.HTTPGet.Path != name || probe.HTTPGet.Port.String() != "http" {
			t.Errorf("probe %s: %+v", name, probe)
		}
	}
	if len(c.Ports) != 1 || c.Ports[0].Name != "http" || c.Ports[0].ContainerPort != 19866 {
		t.Errorf("ports: %+v", c.Ports)
	}
	if !slices.Contains(c.Args, "--web.listen-address=:19866") || !slices.Contains(c.Args, "--config.file=/etc/huaweicloud-job-exporter/config.yml") {
		t.Errorf("args: %q", c.Args)
	}
	if c.Image != "huaweicloud-job-exporter:v"+chartAppVersion(t) {
		t.Errorf("image %q, want the chart's appVersion as tag", c.Image)
	}
	if c.Resources.Requests.Memory().Cmp(resource.MustParse("64Mi")) != 0 || c.Resources.Requests.Cpu().IsZero() ||
		c.Resources.Limits.Memory().Cmp(*c.Resources.Requests.Memory()) < 0 {
		t.Errorf("resources: %+v", c.Resources)
	}

	// Sharding: every pod of the StatefulSet derives its shard from its name, as kube-state-metrics does.
	hasShardFlags := slices.Contains(c.Args, "--shard.from-pod-name")
	if w.shards == 0 {
		if hasShardFlags || slices.ContainsFunc(c.Args, func(a string) bool { return strings.HasPrefix(a, "--shard.") }) {
			t.Errorf("unsharded pod has shard flags: %q", c.Args)
		}
	} else {
		if !hasShardFlags || !slices.Contains(c.Args, "--shard.count="+strconv.Itoa(w.shards)) {
			t.Errorf("sharded pod args %q: want --shard.from-pod-name and --shard.count=%d", c.Args, w.shards)
		}
		podName := envVar(c, "POD_NAME")
		if podName == nil || podName.ValueFrom == nil || podName.ValueFrom.FieldRef == nil || podName.ValueFrom.FieldRef.FieldPath != "metadata.name" {
			t.Errorf("POD_NAME: %+v, want the downward API's metadata.name", podName)
		}
		sts := only[*appsv1.StatefulSet](t, objs)
		if sts.Spec.PodManagementPolicy != appsv1.ParallelPodManagement {
			t.Errorf("podManagementPolicy %q, want Parallel", sts.Spec.PodManagementPolicy)
		}
		svc := only[*corev1.Service](t, objs)
		if sts.Spec.ServiceName != svc.Name || svc.Spec.ClusterIP != corev1.ClusterIPNone {
			t.Errorf("StatefulSet serviceName %q, Service %q with clusterIP %q: want the headless Service", sts.Spec.ServiceName, svc.Name, svc.Spec.ClusterIP)
		}
		if !isSubset(sts.Spec.Selector.MatchLabels, sts.Spec.Template.Labels) {
			t.Errorf("StatefulSet selector %v does not select its pods %v", sts.Spec.Selector.MatchLabels, sts.Spec.Template.Labels)
		}
	}

	// Credentials.
	ak, sk, token := envVar(c, "HUAWEICLOUD_SDK_AK"), envVar(c, "HUAWEICLOUD_SDK_SK"), envVar(c, "HUAWEICLOUD_SDK_SECURITY_TOKEN")
	if w.secret == nil {
		if ak != nil || sk != nil || token != nil {
			t.Errorf("credentials from env without credentials.source secret: %+v %+v %+v", ak, sk, token)
		}
	} else {
		for _, e := range []*corev1.EnvVar{ak, sk, token} {
			if e == nil || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil || e.ValueFrom.SecretKeyRef.Name != w.secret.Name {
				t.Fatalf("credential env %+v: want a secretKeyRef to %s", e, w.secret.Name)
			}
		}
		if ak.ValueFrom.SecretKeyRef.Key != w.secret.Key || deref(ak.ValueFrom.SecretKeyRef.Optional) || deref(sk.ValueFrom.SecretKeyRef.Optional) {
			t.Errorf("AK/SK refs: %+v %+v", ak.ValueFrom.SecretKeyRef, sk.ValueFrom.SecretKeyRef)
		}
		if token.ValueFrom.SecretKeyRef.Key != w.tokenKey || !deref(token.ValueFrom.SecretKeyRef.Optional) {
			t.Errorf("security token ref %+v: want optional key %s", token.ValueFrom.SecretKeyRef, w.tokenKey)
		}
	}
}

// checkConfig: the ConfigMap holds values' config (plus the metadata credentials), mounted where
// --config.file points, and the pod's checksum annotation is the hash of exactly that file.
func checkConfig(t *testing.T, objs []rendered, w want) {
	t.Helper()
	pod, _, _ := podOf(t, objs)
	var cm *corev1.ConfigMap
	for _, c := range all[*corev1.ConfigMap](objs) {
		if _, ok := c.Data["config.yml"]; ok {
			cm = c
		}
	}
	if cm == nil {
		t.Fatal("no ConfigMap with config.yml")
	}
	var cfg map[string]any
	if err := yaml.UnmarshalStrict([]byte(cm.Data["config.yml"]), &cfg); err != nil {
		t.Fatalf("config.yml: %v", err)
	}
	projects, _ := cfg["projects"].([]any)
	if len(projects) != 1 || projects[0].(map[string]any)["region"] != w.projectRegion {
		t.Errorf("config projects: %v", cfg["projects"])
	}
	if got, _ := cfg["credentials"].(map[string]any); !reflect.DeepEqual(got, w.credentials) && (len(got) != 0 || w.credentials != nil) {
		t.Errorf("config credentials: %v, want %v", got, w.credentials)
	}
	sum := sha256.Sum256([]byte(strings.TrimSuffix(cm.Data["config.yml"], "\n")))
	if got := pod.Annotations["checksum/config"]; got != hex.EncodeToString(sum[:]) {
		t.Errorf("checksum/config %q is not the sha256 of the ConfigMap's config.yml", got)
	}
	var mounted bool
	for _, v := range pod.Spec.Volumes {
		if v.ConfigMap != nil && v.ConfigMap.Name == cm.Name {
			for _, m := range pod.Spec.Containers[0].VolumeMounts {
				mounted = mounted || (m.Name == v.Name && m.MountPath == "/etc/huaweicloud-job-exporter" && m.ReadOnly)
			}
		}
	}
	if !mounted {
		t.Errorf("ConfigMap %s is not mounted read-only at /etc/huaweicloud-job-exporter", cm.Name)
	}
}

func checkService(t *testing.T, objs []rendered, _ want) {
	t.Helper()
	pod, _, _ := podOf(t, objs)
	svc := only[*corev1.Service](t, objs)
	if !isSubset(svc.Spec.Selector, pod.Labels) {
		t.Errorf("Service selector %v does not select the pods %v", svc.Spec.Selector, pod.Labels)
	}
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Name != "http" || svc.Spec.Ports[0].TargetPort.String() != "http" {
		t.Errorf("Service ports: %+v", svc.Spec.Ports)
	}
}

// checkMonitoring: the ServiceMonitor scrapes the Service, the PrometheusRule is the repository's rules
// file, and each dashboard is a ConfigMap the Grafana sidecar picks up, holding the repository's JSON.
func checkMonitoring(t *testing.T, objs []rendered, w want) {
	t.Helper()
	monitors, rules := all[*monitoringv1.ServiceMonitor](objs), all[*monitoringv1.PrometheusRule](objs)
	dashboards := dashboardConfigMaps(objs)
	if !w.monitoring {
		if len(monitors)+len(rules)+len(dashboards) != 0 {
			t.Errorf("monitoring disabled, rendered %d ServiceMonitors, %d PrometheusRules, %d dashboards", len(monitors), len(rules), len(dashboards))
		}
		return
	}

	svc := only[*corev1.Service](t, objs)
	sm := only[*monitoringv1.ServiceMonitor](t, objs)
	if !isSubset(sm.Spec.Selector.MatchLabels, svc.Labels) || len(sm.Spec.Selector.MatchExpressions) != 0 {
		t.Errorf("ServiceMonitor selector %v does not select the Service's labels %v", sm.Spec.Selector.MatchLabels, svc.Labels)
	}
	if !slices.Equal(sm.Spec.NamespaceSelector.MatchNames, []string{svc.Namespace}) {
		t.Errorf("ServiceMonitor namespaces %v, Service in %q", sm.Spec.NamespaceSelector.MatchNames, svc.Namespace)
	}
	if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != svc.Spec.Ports[0].Name || sm.Spec.Endpoints[0].Path != "/metrics" {
		t.Fatalf("ServiceMonitor endpoints %+v: want port %q, path /metrics", sm.Spec.Endpoints, svc.Spec.Ports[0].Name)
	}
	// The rules name the scrape job in one place (issue 18); the targets must carry that job label, or
	// HuaweiCloudJobExporterDown fires forever with "no target".
	scrapeJob := ruleScrapeJob(t)
	var jobRelabel bool
	for _, r := range sm.Spec.Endpoints[0].RelabelConfigs {
		jobRelabel = jobRelabel || (r.TargetLabel == "job" && deref(r.Replacement) == scrapeJob)
	}
	if !jobRelabel {
		t.Errorf("ServiceMonitor does not name the scrape job %s, which the alerts' selector (%s) selects: %+v", scrapeJob, selectorRecord, sm.Spec.Endpoints[0].RelabelConfigs)
	}
	if sm.Labels["release"] != "prometheus" {
		t.Errorf("ServiceMonitor labels %v lack additionalLabels", sm.Labels)
	}

	sources := sourceRules(t)
	if len(rules) != len(sources) {
		t.Fatalf("rendered %d PrometheusRules, want one per alerts/*.rules.yml (%d)", len(rules), len(sources))
	}
	for _, pr := range rules {
		if pr.Labels["release"] != "prometheus" {
			t.Errorf("PrometheusRule %s labels %v lack additionalLabels", pr.Name, pr.Labels)
		}
	}
	for name, src := range sources {
		pr := findRule(rules, name)
		if pr == nil {
			t.Errorf("no PrometheusRule for alerts/%s", name)
			continue
		}
		if !reflect.DeepEqual(pr.Spec.Groups, src) {
			got, _ := yaml.Marshal(pr.Spec.Groups)
			want, _ := yaml.Marshal(src)
			t.Errorf("PrometheusRule %s groups differ from alerts/%s:\n--- rendered\n%s\n--- source\n%s", pr.Name, name, got, want)
		}
	}

	srcDashboards, err := filepath.Glob(filepath.Join(repoRoot, "dashboards", "*.json"))
	if err != nil || len(srcDashboards) == 0 {
		t.Fatalf("dashboards/*.json: %v, %d files", err, len(srcDashboards))
	}
	if len(dashboards) != len(srcDashboards) {
		t.Errorf("rendered %d dashboard ConfigMaps, want one per dashboards/*.json (%d)", len(dashboards), len(srcDashboards))
	}
	for _, path := range srcDashboards {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(path)
		var found bool
		for _, cm := range dashboards {
			if data, ok := cm.Data[name]; ok {
				found = true
				if data != string(src) {
					t.Errorf("ConfigMap %s: %s differs from dashboards/%s", cm.Name, name, name)
				}
				if cm.Labels["grafana_dashboard"] != "1" || cm.Annotations["grafana_folder"] != "Huawei Cloud" {
					t.Errorf("ConfigMap %s: labels %v, annotations %v: want the sidecar label grafana_dashboard: \"1\" and the folder annotation", cm.Name, cm.Labels, cm.Annotations)
				}
			}
		}
		if !found {
			t.Errorf("no ConfigMap holds dashboards/%s", name)
		}
	}
}

// TestPrometheusRuleAnnotationsKeepTemplates: the alerts' Prometheus templates ({{ $labels.x }}, {{
// $value }}) reach the PrometheusRule as written, not expanded or mangled by Helm's own template
// engine, which uses the same delimiters.
func TestPrometheusRuleAnnotationsKeepTemplates(t *testing.T) {
	manifest, err := render(t, "prometheusRule: {enabled: true}\n")
	if err != nil {
		t.Fatal(err)
	}
	sources := sourceRules(t)
	rules := all[*monitoringv1.PrometheusRule](decodeAll(t, manifest))
	var templated int
	for name, groups := range sources {
		pr := findRule(rules, name)
		if pr == nil {
			t.Fatalf("no PrometheusRule for alerts/%s", name)
		}
		rendered := map[string]map[string]string{}
		for _, g := range pr.Spec.Groups {
			for _, r := range g.Rules {
				rendered[r.Alert+r.Record] = r.Annotations
			}
		}
		for _, g := range groups {
			for _, r := range g.Rules {
				got := rendered[r.Alert+r.Record]
				if !maps.Equal(got, r.Annotations) {
					t.Errorf("%s %s annotations:\n got  %q\n want %q", name, r.Alert, got, r.Annotations)
				}
				for _, v := range r.Annotations {
					if strings.Contains(v, "{{") {
						templated++
					}
				}
			}
		}
	}
	if templated == 0 {
		t.Error("no annotation of alerts/ has a Prometheus template: the test proves nothing")
	}
}

// TestChartRejectsBadValues: values that cannot work stop the install with the value to fix, instead
// of a pod that crashes later.
func TestChartRejectsBadValues(t *testing.T) {
	for _, tc := range []struct {
		name, values, message string
	}{
		// values.schema.json
		{"unknown credentials source", "credentials: {source: vault}\n", `at '/credentials/source': value must be one of 'secret', 'metadata', 'none'`},
		{"no shards", "sharding: {enabled: true, replicas: 0}\n", `at '/sharding/replicas': minimum: got 0, want 1`},
		{"misspelt key", "sharding: {enable: true}\n", `'enable' not allowed`},
		{"misspelt top-level key", "serviceMonitors: {enabled: true}\n", `'serviceMonitors' not allowed`},
		// templates/_helpers.tpl hje.validate
		{"secret without a name", "credentials: {existingSecret: {name: \"\"}}\n", "credentials.existingSecret.name: required when credentials.source is secret"},
		{"metadata and config credentials", "credentials: {source: metadata}\nconfig: {credentials: {access_key: x}, projects: [{region: r, project_id: p}]}\n", "leave config.credentials out"},
		{"no projects", "config: {projects: []}\n", "config.projects: at least one project is required"},
		{"unquoted numeric project id", "config: {projects: [{region: r, project_id: 12345678901234567890123456789012}]}\n", "config.projects[0].project_id: quote it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := render(t, tc.values)
			if err == nil || !strings.Contains(err.Error(), tc.message) {
				t.Errorf("helm template: %v, want an error containing %q", err, tc.message)
			}
		})
	}
}

// TestConfigChangeRollsPods: another config gives another checksum, so helm upgrade restarts the pods
// with it.
func TestConfigChangeRollsPods(t *testing.T) {
	checksum := func(values string) string {
		manifest, err := render(t, values)
		if err != nil {
			t.Fatal(err)
		}
		pod, _, _ := podOf(t, decodeAll(t, manifest))
		return pod.Annotations["checksum/config"]
	}
	a := checksum("")
	b := checksum("config: {concurrency: 32}\n")
	if a == "" || a == b {
		t.Errorf("checksum/config %q before and %q after a config change", a, b)
	}
}

// sourceRules decodes the repository's alerts/*.rules.yml strictly into prometheus-operator's rule
// groups: a rule field the CRD does not know would be dropped by the API server.
func sourceRules(t *testing.T) map[string][]monitoringv1.RuleGroup {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(repoRoot, "alerts", "*.rules.yml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("alerts/*.rules.yml: %v, %d files", err, len(paths))
	}
	out := map[string][]monitoringv1.RuleGroup{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var f struct {
			Groups []monitoringv1.RuleGroup `json:"groups"`
		}
		if err := yaml.UnmarshalStrict(b, &f); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out[filepath.Base(p)] = f.Groups
	}
	return out
}

// selectorRecord is the recording rule of alerts/ that names the exporter's scrape job, the one place
// to change it (alerts.SelectorRecord; this module does not import the exporter's).
const selectorRecord = "huaweicloud_job_exporter:up"

// ruleScrapeJob returns the job of the up{job="..."} selectors of selectorRecord in alerts/*.rules.yml,
// failing the test when the rule is missing, has no selector or names two jobs.
func ruleScrapeJob(t *testing.T) string {
	t.Helper()
	re := regexp.MustCompile(`\bup\{job="([^"]+)"\}`)
	var job string
	var found bool
	for name, groups := range sourceRules(t) {
		for _, g := range groups {
			for _, r := range g.Rules {
				if r.Record != selectorRecord {
					continue
				}
				found = true
				for _, m := range re.FindAllStringSubmatch(r.Expr.String(), -1) {
					if job != "" && m[1] != job {
						t.Fatalf("alerts/%s: %s selects two scrape jobs, %q and %q", name, selectorRecord, job, m[1])
					}
					job = m[1]
				}
			}
		}
	}
	if !found || job == "" {
		t.Fatalf("alerts/*.rules.yml: no recording rule %s with an up{job=\"...\"} selector (found %v)", selectorRecord, found)
	}
	return job
}

// findRule returns the PrometheusRule made from the rules file name.
func findRule(rules []*monitoringv1.PrometheusRule, name string) *monitoringv1.PrometheusRule {
	suffix := "-" + strings.TrimSuffix(name, ".rules.yml")
	for _, r := range rules {
		if strings.HasSuffix(r.Name, suffix) {
			return r
		}
	}
	return nil
}

func dashboardConfigMaps(objs []rendered) []*corev1.ConfigMap {
	var out []*corev1.ConfigMap
	for _, cm := range all[*corev1.ConfigMap](objs) {
		for k := range cm.Data {
			if strings.HasSuffix(k, ".json") {
				out = append(out, cm)
				break
			}
		}
	}
	return out
}

func chartAppVersion(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(chartPath, "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		AppVersion string `json:"appVersion"`
	}
	if err := yaml.Unmarshal(b, &c); err != nil || c.AppVersion == "" {
		t.Fatalf("Chart.yaml appVersion: %q, %v", c.AppVersion, err)
	}
	return c.AppVersion
}

func envVar(c corev1.Container, name string) *corev1.EnvVar {
	for i := range c.Env {
		if c.Env[i].Name == name {
			return &c.Env[i]
		}
	}
	return nil
}

func isSubset(sub, of map[string]string) bool {
	if len(sub) == 0 {
		return false
	}
	for k, v := range sub {
		if of[k] != v {
			return false
		}
	}
	return true
}

func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

// TestNotes: NOTES.txt renders (an error in it fails `helm install` after the objects are rendered) and
// says what the user must do next. helm template does not render NOTES.txt and `helm install
// --dry-run` wants a cluster, so a copy of the chart gets a template that renders the notes into a
// ConfigMap through tpl, the same engine with the same values.
func TestNotes(t *testing.T) {
	chart := filepath.Join(t.TempDir(), "chart")
	if err := os.CopyFS(chart, os.DirFS(chartPath)); err != nil {
		t.Fatal(err)
	}
	notes, err := os.ReadFile(filepath.Join(chartPath, "templates", "NOTES.txt"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(chart, "notes-check.txt"), string(notes))
	writeFile(t, filepath.Join(chart, "templates", "notes-check.yaml"), `apiVersion: v1
kind: ConfigMap
metadata:
  name: notes-check
data:
  NOTES.txt: {{ tpl (.Files.Get "notes-check.txt") . | toJson }}
`)
	for _, tc := range []struct {
		name, values string
		want, absent []string
	}{
		{"defaults", defaultValues,
			[]string{"Deployment monitoring/hje-huaweicloud-job-exporter", "port-forward svc/hje-huaweicloud-job-exporter 19866",
				"create secret generic huaweicloud-job-exporter-credentials", "--from-literal=access_key=AK...",
				"WARNING: config.projects has the placeholder project_id", `scrape job named "huaweicloud-jobs"`},
			[]string{"shards", "agency"}},
		{"sharded metadata", shardedValues + metadataValues + "serviceMonitor: {enabled: true}\n",
			[]string{"StatefulSet monitoring/hje-huaweicloud-job-exporter, 3 shards", "port-forward pod/hje-huaweicloud-job-exporter-0 19866", "ECS agency"},
			[]string{"create secret", "WARNING", "scrape job named"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := helm(t, "template", release, chart, "--namespace", namespace, "--kube-version", kubeVersion,
				"--show-only", "templates/notes-check.yaml", "-f", valuesFile(t, tc.values))
			if err != nil {
				t.Fatal(err)
			}
			var cm corev1.ConfigMap
			if err := yaml.UnmarshalStrict([]byte(out), &cm); err != nil {
				t.Fatal(err)
			}
			text := cm.Data["NOTES.txt"]
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("NOTES lack %q:\n%s", w, text)
				}
			}
			for _, a := range tc.absent {
				if strings.Contains(text, a) {
					t.Errorf("NOTES say %q:\n%s", a, text)
				}
			}
		})
	}
}

package chartcheck

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// helmModule is the helm the tests run, built from the Go module proxy like every other dependency,
// so CI needs nothing installed. go run caches the executable: only the first run on a machine pays
// for the build (about 2 minutes on 2 CPUs), later runs start it in about a second. helm is not imported
// as a library: that would still compile much of the same code (engine, chart loader, lint, client-go's
// scheme) and tie this module's k8s.io versions to helm's, for a cold-cache saving not worth it here.
const helmModule = "helm.sh/helm/v3/cmd/helm@v3.22.0"

const (
	repoRoot  = "../../.."
	chartPath = repoRoot + "/" + ChartDir
	release   = "hje"
	namespace = "monitoring"
	// kubeVersion is the oldest Kubernetes the chart supports (Chart.yaml kubeVersion). helm built by go
	// run lacks the release build's ldflags and would assume v1.20.
	kubeVersion = "v1.25.0"
)

func TestMain(m *testing.M) {
	// Build helm before any test runs so that a missing module proxy shows as one clear error, and
	// the parallel tests do not all wait on the same build.
	if out, err := exec.Command("go", "run", helmModule, "version").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go run %s: %v\n%s", helmModule, err, out)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// helm runs helm with its state directories in a temporary directory, so a developer's helm config and
// repositories play no part.
func helm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	home := t.TempDir()
	cmd := exec.Command("go", append([]string{"run", helmModule}, args...)...)
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"),
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("helm %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// valuesFile writes values to a file for helm's -f.
func valuesFile(t *testing.T, values string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(path, []byte(values), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// render runs helm template on the chart with values.
func render(t *testing.T, values string) (string, error) {
	t.Helper()
	return helm(t, "template", release, chartPath, "--namespace", namespace, "--kube-version", kubeVersion, "-f", valuesFile(t, values))
}

// rendered is one object of the chart, decoded into its typed struct.
type rendered struct {
	Source string // helm's "# Source:" comment: the template it came from
	Obj    metav1.Object
}

// newTyped gives the typed struct of every kind the chart may render; any other kind is an error, so a
// new template needs a row here and its assertions.
var newTyped = map[string]func() metav1.Object{
	"apps/v1/Deployment":                      func() metav1.Object { return &appsv1.Deployment{} },
	"apps/v1/StatefulSet":                     func() metav1.Object { return &appsv1.StatefulSet{} },
	"v1/Service":                              func() metav1.Object { return &corev1.Service{} },
	"v1/ServiceAccount":                       func() metav1.Object { return &corev1.ServiceAccount{} },
	"v1/ConfigMap":                            func() metav1.Object { return &corev1.ConfigMap{} },
	"monitoring.coreos.com/v1/ServiceMonitor": func() metav1.Object { return &monitoringv1.ServiceMonitor{} },
	"monitoring.coreos.com/v1/PrometheusRule": func() metav1.Object { return &monitoringv1.PrometheusRule{} },
}

var (
	docSeparator  = regexp.MustCompile(`(?m)^---[ \t]*$`)
	sourceComment = regexp.MustCompile(`(?m)^# Source: (.*)$`)
)

// decodeAll splits helm's output into documents and strictly decodes each one: a field the typed struct
// does not know (a typo, a wrong indentation, a field of another API version) or a duplicate field fails
// the test, as the API server would reject or silently drop it.
func decodeAll(t *testing.T, manifest string) []rendered {
	t.Helper()
	var objs []rendered
	seen := map[string]string{}
	for _, doc := range docSeparator.Split(manifest, -1) {
		var body []string
		for line := range strings.SplitSeq(doc, "\n") {
			if !strings.HasPrefix(line, "#") {
				body = append(body, line)
			}
		}
		if strings.TrimSpace(strings.Join(body, "")) == "" {
			continue
		}
		source := "unknown template"
		if m := sourceComment.FindStringSubmatch(doc); m != nil {
			source = m[1]
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			t.Fatalf("%s: not YAML: %v\n%s", source, err, doc)
		}
		typed, ok := newTyped[tm.APIVersion+"/"+tm.Kind]
		if !ok {
			t.Fatalf("%s: kind %s/%s has no typed struct in newTyped", source, tm.APIVersion, tm.Kind)
		}
		obj := typed()
		if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			t.Fatalf("%s: strict decode into %T: %v\n%s", source, obj, err, doc)
		}
		if obj.GetName() == "" {
			t.Errorf("%s: %s without a name", source, tm.Kind)
		}
		if len(obj.GetName()) > 63 {
			t.Errorf("%s: name %q longer than 63 characters", source, obj.GetName())
		}
		id := tm.Kind + " " + obj.GetNamespace() + "/" + obj.GetName()
		if first, dup := seen[id]; dup {
			t.Errorf("%s: %s also rendered by %s", source, id, first)
		}
		seen[id] = source
		objs = append(objs, rendered{Source: source, Obj: obj})
	}
	return objs
}

// only returns the single object of type T, failing the test unless there is exactly one.
func only[T metav1.Object](t *testing.T, objs []rendered) T {
	t.Helper()
	all := all[T](objs)
	if len(all) != 1 {
		var zero T
		t.Fatalf("want one %T, rendered %d", zero, len(all))
	}
	return all[0]
}

func all[T metav1.Object](objs []rendered) []T {
	var out []T
	for _, o := range objs {
		if v, ok := o.Obj.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

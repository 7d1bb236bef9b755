// Package deploy_test builds the reference deployment's overlays with the
// kustomize API, as kubectl apply -k would, and checks what a cluster
// would refuse or run wrongly: every object decodes strictly into its
// Kubernetes type (an unknown or misspelt field fails), the KEDA objects
// carry the fields their scaler requires and name real streams,
// consumers and StatefulSets, every image is one of the platform's
// binaries, and every FORGE_ variable and argument a container gets is
// one its binary reads.
package deploy_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/catalyst-forge/forge/adapters/onprem/natsqueue"
	"github.com/catalyst-forge/forge/domain/identity"
	"github.com/catalyst-forge/forge/domain/job"
)

// object is one built resource: its kind, name and YAML.
type object struct {
	kind, name string
	yaml       []byte
}

// build runs kustomize on dir.
func build(t *testing.T, dir string) []object {
	t.Helper()
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	var out []object
	for _, r := range m.Resources() {
		y, err := r.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, object{kind: r.GetKind(), name: r.GetName(), yaml: y})
	}
	return out
}

// typed decodes an object strictly into its Kubernetes type; it returns
// the pod template of workloads.
func typed(t *testing.T, o object) *corev1.PodTemplateSpec {
	t.Helper()
	var target any
	var pod func() *corev1.PodTemplateSpec
	switch o.kind {
	case "Namespace":
		target = &corev1.Namespace{}
	case "ServiceAccount":
		target = &corev1.ServiceAccount{}
	case "ConfigMap":
		target = &corev1.ConfigMap{}
	case "Service":
		target = &corev1.Service{}
	case "Role":
		target = &rbacv1.Role{}
	case "RoleBinding":
		target = &rbacv1.RoleBinding{}
	case "NetworkPolicy":
		target = &networkingv1.NetworkPolicy{}
	case "HorizontalPodAutoscaler":
		target = &autoscalingv2.HorizontalPodAutoscaler{}
	case "PodDisruptionBudget":
		target = &policyv1.PodDisruptionBudget{}
	case "Deployment":
		d := &appsv1.Deployment{}
		target, pod = d, func() *corev1.PodTemplateSpec { return &d.Spec.Template }
	case "StatefulSet":
		s := &appsv1.StatefulSet{}
		target, pod = s, func() *corev1.PodTemplateSpec { return &s.Spec.Template }
	case "Job":
		j := &batchv1.Job{}
		target, pod = j, func() *corev1.PodTemplateSpec { return &j.Spec.Template }
	case "ScaledObject", "WorkflowTemplate":
		return nil // checked by checkScaledObject, checkWorkflowTemplate
	default:
		t.Errorf("%s %s: a kind the test does not know", o.kind, o.name)
		return nil
	}
	if err := yaml.UnmarshalStrict(o.yaml, target); err != nil {
		t.Errorf("%s %s does not decode strictly: %v", o.kind, o.name, err)
		return nil
	}
	if pod == nil {
		return nil
	}
	return pod()
}

// scaledObject is the part of KEDA's ScaledObject the platform uses.
type scaledObject struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string            `json:"name"`
		Namespace string            `json:"namespace"`
		Labels    map[string]string `json:"labels"`
	} `json:"metadata"`
	Spec struct {
		ScaleTargetRef struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Name       string `json:"name"`
		} `json:"scaleTargetRef"`
		MinReplicaCount *int `json:"minReplicaCount"`
		MaxReplicaCount *int `json:"maxReplicaCount"`
		CooldownPeriod  int  `json:"cooldownPeriod"`
		Triggers        []struct {
			Type     string            `json:"type"`
			Metadata map[string]string `json:"metadata"`
		} `json:"triggers"`
	} `json:"spec"`
}

// checkScaledObject checks what KEDA's nats-jetstream scaler requires and
// that the stream and consumer are natsqueue's for the worker's types.
func checkScaledObject(t *testing.T, o object, statefulSets map[string]*appsv1.StatefulSet) {
	t.Helper()
	var so scaledObject
	if err := yaml.UnmarshalStrict(o.yaml, &so); err != nil {
		t.Errorf("ScaledObject %s: %v", o.name, err)
		return
	}
	if so.APIVersion != "keda.sh/v1alpha1" || len(so.Spec.Triggers) == 0 || so.Spec.MaxReplicaCount == nil {
		t.Errorf("ScaledObject %s: %+v", o.name, so)
	}
	target, ok := statefulSets[so.Spec.ScaleTargetRef.Name]
	if !ok || so.Spec.ScaleTargetRef.Kind != "StatefulSet" {
		t.Errorf("ScaledObject %s scales %s %q, which the build does not have", o.name, so.Spec.ScaleTargetRef.Kind, so.Spec.ScaleTargetRef.Name)
		return
	}
	var types []string
	for _, e := range target.Spec.Template.Spec.Containers[0].Env {
		if e.Name == "FORGE_TYPES" {
			types = strings.Split(e.Value, ",")
		}
	}
	var want []string
	for _, ty := range types {
		stream, _, err := job.Type(ty).Stream()
		if err != nil {
			t.Errorf("StatefulSet %s takes %q: %v", target.Name, ty, err)
			continue
		}
		want = append(want, stream+"/"+natsqueue.ConsumerName(job.Type(ty)))
	}
	var got []string
	for _, tr := range so.Spec.Triggers {
		for _, k := range []string{"natsServerMonitoringEndpoint", "account", "stream", "consumer", "lagThreshold"} {
			if tr.Type != "nats-jetstream" || tr.Metadata[k] == "" {
				t.Errorf("ScaledObject %s: a %s trigger without %s", o.name, tr.Type, k)
			}
		}
		got = append(got, tr.Metadata["stream"]+"/"+tr.Metadata["consumer"])
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("ScaledObject %s watches %v; the worker's types %v are consumed from %v", o.name, got, types, want)
	}
}

// checkWorkflowTemplate checks that the WorkflowTemplate is, field for
// field, what forge-api workflow-template prints for its name, namespace,
// image, Secret and service account (so it is what the argo engine's
// workflows reference), that forge-api is told to use it, and that its
// image is forge-dispatcher's from the registry of forge-api's image.
func checkWorkflowTemplate(t *testing.T, o object, configMaps map[string]*corev1.ConfigMap, apiImage string) {
	t.Helper()
	var wt struct {
		Metadata struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
		Spec struct {
			ServiceAccountName string `json:"serviceAccountName"`
			Templates          []struct {
				Container *struct {
					Image   string `json:"image"`
					EnvFrom []struct {
						SecretRef struct {
							Name string `json:"name"`
						} `json:"secretRef"`
					} `json:"envFrom"`
				} `json:"container"`
			} `json:"templates"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(o.yaml, &wt); err != nil {
		t.Fatalf("WorkflowTemplate %s: %v", o.name, err)
	}
	image, secret := "", ""
	for _, tpl := range wt.Spec.Templates {
		if c := tpl.Container; c != nil {
			image = c.Image
			if len(c.EnvFrom) == 1 {
				secret = c.EnvFrom[0].SecretRef.Name
			}
		}
	}
	dir, err := binaries()
	if err != nil {
		t.Fatal(err)
	}
	want, err := exec.Command(filepath.Join(dir, "forge-api"), "workflow-template", wt.Metadata.Name, "--argo-namespace", wt.Metadata.Namespace,
		"--dispatcher-image", image, "--dispatcher-secret", secret, "--argo-service-account", wt.Spec.ServiceAccountName).Output()
	if err != nil {
		t.Fatalf("forge-api workflow-template: %v", err)
	}
	var got, printed any
	if err := yaml.Unmarshal(o.yaml, &got); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(want, &printed); err != nil {
		t.Fatal(err)
	}
	delete(got.(map[string]any)["metadata"].(map[string]any), "labels") // the base's part-of label
	if g, w := fmt.Sprint(got), fmt.Sprint(printed); g != w {
		t.Errorf("WorkflowTemplate %s is not what forge-api workflow-template prints (regenerate base/workflowtemplate.yaml):\n%s\n%s", o.name, g, w)
	}
	registry := func(image string) string { return image[:strings.LastIndex(image, "/")+1] }
	if binaryOf(image) != "forge-dispatcher" || registry(image) != registry(apiImage) {
		t.Errorf("WorkflowTemplate %s runs image %s, not forge-dispatcher from forge-api's registry (%s)", o.name, image, apiImage)
	}
	var api map[string]string
	for name, cm := range configMaps {
		if strings.HasPrefix(name, "forge-api-env") {
			api = cm.Data
		}
	}
	if api["FORGE_ARGO_WORKFLOW_TEMPLATE"] != wt.Metadata.Name || api["FORGE_ARGO_NAMESPACE"] != wt.Metadata.Namespace {
		t.Errorf("forge-api creates workflows from %q in %q; the template is %s in %s",
			api["FORGE_ARGO_WORKFLOW_TEMPLATE"], api["FORGE_ARGO_NAMESPACE"], wt.Metadata.Name, wt.Metadata.Namespace)
	}
	for _, k := range []string{"FORGE_DISPATCHER_IMAGE", "FORGE_DISPATCHER_SECRET", "FORGE_ARGO_SERVICE_ACCOUNT"} {
		if _, ok := api[k]; ok {
			t.Errorf("forge-api-env sets %s, which the template holds", k)
		}
	}
}

// binDir holds the binaries the tests build, removed when they end.
var binDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// binaries builds the platform's binaries once.
var binaries = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "forge-deploy-bins")
	if err != nil {
		return "", err
	}
	binDir = dir
	out, err := exec.Command("go", "build", "-o", dir+"/", "../cmd/forge-api", "../cmd/forge-worker", "../cmd/forge-dispatcher", "../cmd/forge-cmp").CombinedOutput()
	if err != nil {
		return "", &buildError{string(out)}
	}
	return dir, nil
})

type buildError struct{ out string }

func (e *buildError) Error() string { return "go build: " + e.out }

// binaryOf returns the binary an image runs: the image name's last path
// element, without tag or digest.
func binaryOf(image string) string {
	name := image[strings.LastIndex(image, "/")+1:]
	name, _, _ = strings.Cut(name, "@")
	name, _, _ = strings.Cut(name, ":")
	return name
}

// checkContainer checks a container's image, arguments and FORGE_
// variables (its own and its ConfigMaps') against its binary.
func checkContainer(t *testing.T, where string, c corev1.Container, configMaps map[string]*corev1.ConfigMap) {
	t.Helper()
	dir, err := binaries()
	if err != nil {
		t.Fatal(err)
	}
	name := binaryOf(c.Image)
	bin := filepath.Join(dir, name)
	content, err := os.ReadFile(bin)
	if err != nil {
		t.Errorf("%s runs image %s: no binary %s in reference/cmd", where, c.Image, name)
		return
	}
	help, _ := exec.Command(bin, "--help").CombinedOutput()
	for _, a := range c.Args {
		if strings.HasPrefix(a, "-") {
			flag, _, _ := strings.Cut(a, "=")
			if !bytes.Contains(help, []byte(flag)) {
				t.Errorf("%s passes %s, which %s --help does not list", where, flag, name)
			}
		} else if !bytes.Contains(help, []byte("  "+a+" ")) {
			t.Errorf("%s runs %s %s, a command %s --help does not list", where, name, a, name)
		}
	}
	vars := map[string]string{}
	for _, e := range c.Env {
		vars[e.Name] = e.Value
	}
	for _, ef := range c.EnvFrom {
		if ef.ConfigMapRef == nil {
			continue
		}
		cm, ok := configMaps[ef.ConfigMapRef.Name]
		if !ok {
			t.Errorf("%s takes its environment from ConfigMap %s, which the build does not have", where, ef.ConfigMapRef.Name)
			continue
		}
		for k, v := range cm.Data {
			vars[k] = v
		}
	}
	for k, v := range vars {
		if strings.HasPrefix(k, "FORGE_") && !bytes.Contains(content, []byte(k)) {
			t.Errorf("%s sets %s, which %s never reads", where, k, name)
		}
		if strings.HasSuffix(k, "_REF") && v != "" {
			var ref map[string]any
			if err := json.Unmarshal([]byte(v), &ref); err != nil || ref["provider"] == nil {
				t.Errorf("%s: %s is not a secret reference in JSON: %s", where, k, v)
			}
		}
	}
}

// checkBuild checks every object of an overlay's build.
func checkBuild(t *testing.T, objs []object) {
	configMaps := map[string]*corev1.ConfigMap{}
	statefulSets := map[string]*appsv1.StatefulSet{}
	apiImage := ""
	for _, o := range objs {
		switch o.kind {
		case "Deployment":
			var d appsv1.Deployment
			if yaml.Unmarshal(o.yaml, &d) == nil && o.name == "forge-api" {
				apiImage = d.Spec.Template.Spec.Containers[0].Image
			}
		case "ConfigMap":
			var cm corev1.ConfigMap
			if yaml.Unmarshal(o.yaml, &cm) == nil {
				configMaps[o.name] = &cm
			}
		case "StatefulSet":
			var s appsv1.StatefulSet
			if yaml.Unmarshal(o.yaml, &s) == nil {
				statefulSets[o.name] = &s
			}
		}
	}
	for _, o := range objs {
		if o.kind == "ScaledObject" {
			checkScaledObject(t, o, statefulSets)
			continue
		}
		if o.kind == "WorkflowTemplate" {
			checkWorkflowTemplate(t, o, configMaps, apiImage)
			continue
		}
		pod := typed(t, o)
		if pod == nil {
			continue
		}
		for _, c := range pod.Spec.Containers {
			checkContainer(t, o.kind+" "+o.name+" container "+c.Name, c, configMaps)
			if o.kind == "Deployment" || o.kind == "StatefulSet" {
				if c.ReadinessProbe == nil || c.LivenessProbe == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" || c.LivenessProbe.HTTPGet.Path != "/healthz" {
					t.Errorf("%s %s: container %s needs /readyz and /healthz probes", o.kind, o.name, c.Name)
				}
			}
		}
	}
}

// kindNames lists the objects of a build as kind/name.
func kindNames(objs []object) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.kind+"/"+o.name)
	}
	slices.Sort(out)
	return out
}

func TestOverlaysBuildAndHoldTogether(t *testing.T) {
	var sets [][]string
	for _, overlay := range []string{"overlays/aws", "overlays/onprem"} {
		t.Run(filepath.Base(overlay), func(t *testing.T) {
			objs := build(t, overlay)
			checkBuild(t, objs)
			names := kindNames(objs)
			for _, want := range []string{"Deployment/forge-api", "Job/forge-api-migrate", "StatefulSet/worker-discovery", "StatefulSet/worker-ci",
				"StatefulSet/worker-artifact", "StatefulSet/worker-release", "ScaledObject/worker-ci-scaler", "HorizontalPodAutoscaler/forge-api",
				"PodDisruptionBudget/forge-api", "NetworkPolicy/default-deny-ingress"} {
				if !slices.Contains(names, want) {
					t.Errorf("the build has no %s", want)
				}
			}
			sets = append(sets, names)
		})
	}
	// The profiles differ in adapter configuration only: the same objects
	// (ConfigMap names carry a hash of their content).
	strip := func(names []string) []string {
		var out []string
		for _, n := range names {
			if strings.HasPrefix(n, "ConfigMap/") {
				n = n[:strings.LastIndex(n, "-")]
			}
			out = append(out, n)
		}
		return out
	}
	if len(sets) == 2 && !slices.Equal(strip(sets[0]), strip(sets[1])) {
		t.Errorf("the overlays make different objects:\naws    %v\nonprem %v", sets[0], sets[1])
	}
}

func TestArgoCDSidecarComponent(t *testing.T) {
	objs := build(t, "testdata/argocd")
	var plugin string
	for _, o := range objs {
		if o.kind == "ConfigMap" && strings.HasPrefix(o.name, "forge-cmp-plugin") {
			var cm corev1.ConfigMap
			if err := yaml.UnmarshalStrict(o.yaml, &cm); err != nil {
				t.Fatal(err)
			}
			plugin = cm.Data["plugin.yaml"]
		}
		if o.kind == "Deployment" {
			var d appsv1.Deployment
			if err := yaml.UnmarshalStrict(o.yaml, &d); err != nil {
				t.Fatal(err)
			}
			if n := len(d.Spec.Template.Spec.Containers); n != 2 {
				t.Errorf("the repo-server has %d containers, want it and the forge-cmp sidecar", n)
			}
			for _, c := range d.Spec.Template.Spec.Containers {
				if c.Name == "forge-cmp" {
					checkContainer(t, "the forge-cmp sidecar", c, nil)
				}
			}
		}
	}
	dir, err := binaries()
	if err != nil {
		t.Fatal(err)
	}
	want, err := exec.Command(filepath.Join(dir, "forge-cmp"), "plugin-config").Output()
	if err != nil || plugin != string(want) {
		t.Errorf("plugin.yaml is not forge-cmp plugin-config's (%v):\n%s\nwant:\n%s", err, plugin, want)
	}
}

// TestKeycloakRealm: the realm export has the platform's four roles and
// the clients the docs name.
func TestKeycloakRealm(t *testing.T) {
	b, err := os.ReadFile("keycloak/forge-realm.json")
	if err != nil {
		t.Fatal(err)
	}
	var realm struct {
		Realm string `json:"realm"`
		Roles struct {
			Realm []struct{ Name string } `json:"realm"`
		} `json:"roles"`
		Clients []struct {
			ClientID string `json:"clientId"`
		} `json:"clients"`
		IdentityProviders []struct {
			Alias  string            `json:"alias"`
			Config map[string]string `json:"config"`
		} `json:"identityProviders"`
	}
	if err := json.Unmarshal(b, &realm); err != nil {
		t.Fatal(err)
	}
	var roles, clients []string
	for _, r := range realm.Roles.Realm {
		roles = append(roles, r.Name)
	}
	for _, c := range realm.Clients {
		clients = append(clients, c.ClientID)
	}
	for _, r := range identity.Roles {
		if !slices.Contains(roles, string(r)) {
			t.Errorf("the realm has no role %s", r)
		}
	}
	for _, c := range []string{"forge-api", "forge-cli", "forge-worker", "forge-github"} {
		if !slices.Contains(clients, c) {
			t.Errorf("the realm has no client %s", c)
		}
	}
	if len(realm.IdentityProviders) != 1 || realm.IdentityProviders[0].Config["issuer"] != "https://token.actions.githubusercontent.com" {
		t.Errorf("identity providers: %+v", realm.IdentityProviders)
	}
}

// TestEveryFlagIsDocumented: every flag of every deployed binary (and of
// forge-images) is in docs/operators.md, in the section of its command.
func TestEveryFlagIsDocumented(t *testing.T) {
	dir, err := binaries()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../../docs/operators.md")
	if err != nil {
		t.Fatal(err)
	}
	images := filepath.Join(t.TempDir(), "forge-images")
	if out, err := exec.Command("go", "build", "-o", images, "../cmd/forge-images").CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	flag := regexp.MustCompile(`(?m)^\s+(?:-\w, )?--([a-z0-9-]+)`)
	for _, c := range [][]string{{"forge-api", "serve"}, {"forge-api", "migrate"}, {"forge-api", "workflow-template"}, {"forge-worker"}, {"forge-dispatcher"}, {"forge-cmp", "generate"}, {"forge-images"}} {
		bin := filepath.Join(dir, c[0])
		if c[0] == "forge-images" {
			bin = images
		}
		help, err := exec.Command(bin, append(c[1:], "--help")...).CombinedOutput()
		if err != nil {
			t.Fatalf("%v --help: %v", c, err)
		}
		title := "### `" + strings.Join(c, " ") + "`"
		_, section, ok := strings.Cut(string(doc), title)
		if !ok {
			t.Errorf("docs/operators.md has no section %s", title)
			continue
		}
		section, _, _ = strings.Cut(section, "\n### ")
		for _, m := range flag.FindAllStringSubmatch(string(help), -1) {
			if m[1] != "help" && !strings.Contains(section, "`--"+m[1]+"`") {
				t.Errorf("%s --%s is not in docs/operators.md", strings.Join(c, " "), m[1])
			}
		}
	}
}

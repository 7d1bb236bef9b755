package crossplane_test

import (
	"fmt"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
)

// The fields the catalog sets on the kinds of other projects' CRDs, as
// their CRDs name them, decoded strictly.
type (
	// externalSecret is External Secrets Operator's ExternalSecret
	// (external-secrets.io/v1beta1).
	externalSecret struct {
		APIVersion string            `json:"apiVersion"`
		Kind       string            `json:"kind"`
		Metadata   metadataFields    `json:"metadata"`
		Spec       externalSecretSpc `json:"spec"`
	}
	externalSecretSpc struct {
		RefreshInterval string `json:"refreshInterval"`
		SecretStoreRef  struct {
			Kind string `json:"kind"`
			Name string `json:"name"`
		} `json:"secretStoreRef"`
		Target struct {
			Name           string `json:"name"`
			CreationPolicy string `json:"creationPolicy"`
		} `json:"target"`
		Data []struct {
			SecretKey string `json:"secretKey"`
			RemoteRef struct {
				Key      string `json:"key"`
				Property string `json:"property"`
			} `json:"remoteRef"`
		} `json:"data"`
		DataFrom []struct {
			Extract struct {
				Key string `json:"key"`
			} `json:"extract"`
		} `json:"dataFrom"`
	}
	// httpRoute is Gateway API's HTTPRoute (gateway.networking.k8s.io/v1).
	httpRoute struct {
		APIVersion string         `json:"apiVersion"`
		Kind       string         `json:"kind"`
		Metadata   metadataFields `json:"metadata"`
		Spec       struct {
			ParentRefs []struct {
				Name        string `json:"name"`
				Namespace   string `json:"namespace"`
				SectionName string `json:"sectionName"`
			} `json:"parentRefs"`
			Hostnames []string `json:"hostnames"`
			Rules     []struct {
				Matches []struct {
					Path struct {
						Type  string `json:"type"`
						Value string `json:"value"`
					} `json:"path"`
				} `json:"matches"`
				BackendRefs []struct {
					Name string `json:"name"`
					Port int32  `json:"port"`
				} `json:"backendRefs"`
			} `json:"rules"`
		} `json:"spec"`
	}
	// dnsEndpoint is External DNS's DNSEndpoint (externaldns.k8s.io/v1alpha1).
	dnsEndpoint struct {
		APIVersion string         `json:"apiVersion"`
		Kind       string         `json:"kind"`
		Metadata   metadataFields `json:"metadata"`
		Spec       struct {
			Endpoints []struct {
				DNSName    string   `json:"dnsName"`
				RecordType string   `json:"recordType"`
				RecordTTL  int64    `json:"recordTTL"`
				Targets    []string `json:"targets"`
			} `json:"endpoints"`
		} `json:"spec"`
	}
	// veleroSchedule is Velero's Schedule (velero.io/v1).
	veleroSchedule struct {
		APIVersion string         `json:"apiVersion"`
		Kind       string         `json:"kind"`
		Metadata   metadataFields `json:"metadata"`
		Spec       struct {
			Schedule string `json:"schedule"`
			Template struct {
				IncludedNamespaces []string `json:"includedNamespaces"`
				IncludedResources  []string `json:"includedResources"`
				LabelSelector      struct {
					MatchLabels map[string]string `json:"matchLabels"`
				} `json:"labelSelector"`
				SnapshotVolumes bool   `json:"snapshotVolumes"`
				TTL             string `json:"ttl"`
			} `json:"template"`
		} `json:"spec"`
	}
	// trafficPolicy is Envoy Gateway's BackendTrafficPolicy
	// (gateway.envoyproxy.io/v1alpha1), its local rate limit.
	trafficPolicy struct {
		APIVersion string         `json:"apiVersion"`
		Kind       string         `json:"kind"`
		Metadata   metadataFields `json:"metadata"`
		Spec       struct {
			TargetRefs []struct {
				Group string `json:"group"`
				Kind  string `json:"kind"`
				Name  string `json:"name"`
			} `json:"targetRefs"`
			RateLimit struct {
				Type  string `json:"type"`
				Local struct {
					Rules []struct {
						Limit struct {
							Requests int    `json:"requests"`
							Unit     string `json:"unit"`
						} `json:"limit"`
					} `json:"rules"`
				} `json:"local"`
			} `json:"rateLimit"`
		} `json:"spec"`
	}
	metadataFields struct {
		Name      string            `json:"name"`
		Namespace string            `json:"namespace"`
		Labels    map[string]string `json:"labels"`
	}
)

// made is every object the example's XRs composed, decoded, by
// namespace/name per kind.
type made struct {
	deployments  map[string]appsv1.Deployment
	statefulSets map[string]appsv1.StatefulSet
	services     map[string]corev1.Service
	secrets      map[string]map[string]bool // names whose keys are known: the keys
	configMaps   map[string]corev1.ConfigMap
	pvcs         map[string]corev1.PersistentVolumeClaim
	pdbs         map[string]policyv1.PodDisruptionBudget
	jobs         map[string]batchv1.Job
	cronJobs     map[string]batchv1.CronJob
	external     map[string]externalSecret
	routes       map[string]httpRoute
	dns          map[string]dnsEndpoint
	schedules    map[string]veleroSchedule
	policies     map[string]trafficPolicy
}

// decodeAll decodes every composed object strictly into its type.
func decodeAll(t *testing.T, renders map[string]rendered) made {
	t.Helper()
	m := made{
		deployments: map[string]appsv1.Deployment{}, statefulSets: map[string]appsv1.StatefulSet{},
		services: map[string]corev1.Service{}, secrets: map[string]map[string]bool{},
		configMaps: map[string]corev1.ConfigMap{}, pvcs: map[string]corev1.PersistentVolumeClaim{},
		pdbs: map[string]policyv1.PodDisruptionBudget{}, jobs: map[string]batchv1.Job{}, cronJobs: map[string]batchv1.CronJob{},
		external: map[string]externalSecret{}, routes: map[string]httpRoute{}, dns: map[string]dnsEndpoint{}, schedules: map[string]veleroSchedule{},
		policies: map[string]trafficPolicy{},
	}
	for claim, r := range renders {
		for res, o := range r.composed {
			where := claim + "/" + res
			mf := manifest(t, where, o)
			meta, _ := mf["metadata"].(map[string]any)
			key := fmt.Sprintf("%v/%v", meta["namespace"], meta["name"])
			if meta["name"] == nil || meta["namespace"] == nil {
				t.Errorf("%s: %v %v without a name and namespace", where, mf["apiVersion"], mf["kind"])
			}
			if l, _ := meta["labels"].(map[string]any); l["app.kubernetes.io/managed-by"] != "forge" {
				t.Errorf("%s: labels %v", where, l)
			}
			switch fmt.Sprintf("%v %v", mf["apiVersion"], mf["kind"]) {
			case "apps/v1 Deployment":
				put(t, where, mf, m.deployments, key)
			case "apps/v1 StatefulSet":
				put(t, where, mf, m.statefulSets, key)
			case "v1 Service":
				put(t, where, mf, m.services, key)
			case "v1 Secret":
				s := put(t, where, mf, map[string]corev1.Secret{}, key)
				keys := map[string]bool{}
				for k := range s.StringData {
					keys[k] = true
				}
				m.secrets[key] = keys
			case "v1 ConfigMap":
				put(t, where, mf, m.configMaps, key)
			case "v1 PersistentVolumeClaim":
				put(t, where, mf, m.pvcs, key)
			case "policy/v1 PodDisruptionBudget":
				put(t, where, mf, m.pdbs, key)
			case "batch/v1 Job":
				put(t, where, mf, m.jobs, key)
			case "batch/v1 CronJob":
				put(t, where, mf, m.cronJobs, key)
			case "external-secrets.io/v1beta1 ExternalSecret":
				e := put(t, where, mf, m.external, key)
				m.secrets[fmt.Sprintf("%v/%s", meta["namespace"], e.Spec.Target.Name)] = nil // keys come from the store
			case "gateway.networking.k8s.io/v1 HTTPRoute":
				put(t, where, mf, m.routes, key)
			case "externaldns.k8s.io/v1alpha1 DNSEndpoint":
				put(t, where, mf, m.dns, key)
			case "velero.io/v1 Schedule":
				put(t, where, mf, m.schedules, key)
			case "gateway.envoyproxy.io/v1alpha1 BackendTrafficPolicy":
				put(t, where, mf, m.policies, key)
			default:
				t.Errorf("%s: a %v %v the test does not know", where, mf["apiVersion"], mf["kind"])
			}
		}
	}
	return m
}

// put decodes a manifest strictly into its type and files it under key.
func put[T any](t *testing.T, where string, mf object, into map[string]T, key string) T {
	t.Helper()
	var v T
	strict(t, where, mf, &v)
	into[key] = v
	return v
}

// checkPod checks that every reference of a pod resolves to an object the
// catalog composed in the pod's namespace, with the key where it is known.
// claims are the volume claim templates beside the pod, whose names its
// mounts may use too.
func checkPod(t *testing.T, where, ns string, pod corev1.PodSpec, m made, claims ...string) {
	t.Helper()
	secret := func(name, key string) {
		keys, ok := m.secrets[ns+"/"+name]
		if !ok {
			t.Errorf("%s reads Secret %s, which nothing composes in %s", where, name, ns)
		} else if keys != nil && key != "" && !keys[key] {
			t.Errorf("%s reads key %s of Secret %s, which has %s", where, key, name, keysOf(keys))
		}
	}
	configMap := func(name, key string) {
		c, ok := m.configMaps[ns+"/"+name]
		if !ok {
			t.Errorf("%s reads ConfigMap %s, which nothing composes in %s", where, name, ns)
		} else if _, has := c.Data[key]; key != "" && !has {
			t.Errorf("%s reads key %s of ConfigMap %s, which has %s", where, key, name, keysOf(c.Data))
		}
	}
	for _, c := range pod.Containers {
		for _, e := range c.Env {
			if e.ValueFrom == nil {
				continue
			}
			if r := e.ValueFrom.SecretKeyRef; r != nil {
				secret(r.Name, r.Key)
			}
			if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
				configMap(r.Name, r.Key)
			}
		}
	}
	for _, v := range pod.Volumes {
		switch {
		case v.ConfigMap != nil:
			configMap(v.ConfigMap.Name, "")
			for _, it := range v.ConfigMap.Items {
				configMap(v.ConfigMap.Name, it.Key)
			}
		case v.Secret != nil:
			secret(v.Secret.SecretName, "")
			for _, it := range v.Secret.Items {
				secret(v.Secret.SecretName, it.Key)
			}
		default:
			t.Errorf("%s: volume %s has no source the catalog makes: %+v", where, v.Name, v.VolumeSource)
		}
	}
	volumes := map[string]bool{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = true
	}
	for _, c := range claims {
		volumes[c] = true
	}
	for _, c := range pod.Containers {
		for _, vm := range c.VolumeMounts {
			if !volumes[vm.Name] {
				t.Errorf("%s: container %s mounts %s, which is no volume of the pod", where, c.Name, vm.Name)
			}
		}
	}
}

func env(c corev1.Container) map[string]corev1.EnvVar {
	out := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		out[e.Name] = e
	}
	return out
}

// TestCompositionsRenderTheExample renders spec 08's example (and the
// claims of other namespaces it reads) through each profile's
// Compositions with the worked example's EnvironmentConfigs: every
// composed object decodes strictly into its type, every reference lands
// on an object the catalog composed, and the values follow spec 08's
// precedence and secret paths.
func TestCompositionsRenderTheExample(t *testing.T) {
	for _, p := range providers {
		t.Run(p.name, func(t *testing.T) {
			renders := renderAll(t, p, environments(t), "examples/myapp.yaml", "testdata/elsewhere.yaml")
			for claim, r := range renders {
				if len(r.conditions) > 0 {
					t.Errorf("%s: conditions %v", claim, r.conditions)
				}
				if len(r.composed) == 0 || r.outputs == nil {
					t.Errorf("%s composed %d objects, outputs %v", claim, len(r.composed), r.outputs)
				}
			}
			m := decodeAll(t, renders)
			const ns = "monorepo-myapp"

			web, ok := m.deployments[ns+"/myapp-web"]
			if !ok {
				t.Fatalf("no Deployment myapp-web: %s", keysOf(m.deployments))
			}
			if *web.Spec.Replicas != 5 {
				t.Errorf("myapp-web runs %d replicas; the per-project override says 5", *web.Spec.Replicas)
			}
			for k, v := range web.Spec.Selector.MatchLabels {
				if web.Spec.Template.Labels[k] != v {
					t.Errorf("myapp-web's selector %s=%s does not select its pods (%v)", k, v, web.Spec.Template.Labels)
				}
			}
			checkPod(t, "myapp-web", ns, web.Spec.Template.Spec, m)
			e := env(web.Spec.Template.Spec.Containers[0])
			for name, want := range map[string]string{
				"LOG_FORMAT":    "json",
				"ASSETS_SIZE":   "20Gi",          // outputs/ in the namespace
				"SHARED_VOLUME": "shared-assets", // another project's outputs
				"PLATFORM_API":  "https://api.prod.example.com",
			} {
				if e[name].Value != want || e[name].ValueFrom != nil {
					t.Errorf("%s = %+v, want the value %q", name, e[name], want)
				}
			}
			if r := e["DB_PASSWORD"].ValueFrom; r == nil || r.SecretKeyRef == nil || r.SecretKeyRef.Name != "myapp-secrets-database" || r.SecretKeyRef.Key != "password" {
				t.Errorf("DB_PASSWORD = %+v", e["DB_PASSWORD"])
			}
			if r := e["CACHE_ENDPOINT"].ValueFrom; r == nil || r.SecretKeyRef == nil || r.SecretKeyRef.Name != "myapp-cache-conn" || r.SecretKeyRef.Key != "endpoint" {
				t.Errorf("CACHE_ENDPOINT = %+v", e["CACHE_ENDPOINT"])
			}
			if c := web.Spec.Template.Spec.Containers[0]; len(c.VolumeMounts) != 1 || c.VolumeMounts[0].MountPath != "/etc/app" ||
				c.Resources.Limits.Memory().String() != "512Mi" || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
				t.Errorf("myapp-web container: %+v", c)
			}
			if _, ok := m.pdbs[ns+"/myapp-web"]; !ok {
				t.Errorf("prod asks for PodDisruptionBudgets and myapp-web runs 5 replicas; none composed")
			}
			if s, ok := m.services[ns+"/myapp-web"]; !ok || s.Spec.Ports[0].Port != 8080 {
				t.Errorf("myapp-web's Service: %+v", s.Spec)
			}

			cache := m.statefulSets[ns+"/myapp-cache"]
			if len(cache.Spec.VolumeClaimTemplates) != 1 || *cache.Spec.VolumeClaimTemplates[0].Spec.StorageClassName != "gp3" ||
				cache.Spec.ServiceName != "myapp-cache" || m.services[ns+"/myapp-cache"].Spec.ClusterIP != "None" {
				t.Errorf("myapp-cache: %+v", cache.Spec)
			}
			checkPod(t, "myapp-cache", ns, cache.Spec.Template.Spec, m, "data")
			if keys := m.secrets[ns+"/myapp-cache-conn"]; !keys["endpoint"] {
				t.Errorf("myapp-cache's connection details: %v", keys)
			}

			migrate := m.jobs[ns+"/myapp-migrate"]
			checkPod(t, "myapp-migrate", ns, migrate.Spec.Template.Spec, m)
			if *migrate.Spec.BackoffLimit != 3 || migrate.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyNever {
				t.Errorf("myapp-migrate: %+v", migrate.Spec)
			}
			report := m.cronJobs[ns+"/myapp-report"]
			if report.Spec.Suspend == nil || !*report.Spec.Suspend || report.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent || report.Spec.Schedule != "0 6 * * 1" {
				t.Errorf("myapp-report: suspend %v (the override says true), %+v", report.Spec.Suspend, report.Spec)
			}

			store := map[string]string{"aws": "aws-secrets-manager", "onprem": "vault"}[p.name]
			for name, path := range map[string]string{"myapp-secrets-database": "prod/myapp/database", "myapp-secrets-tls-cert": "global/certificates/wildcard"} {
				es := m.external[ns+"/"+name]
				if es.Spec.SecretStoreRef.Name != store || len(es.Spec.DataFrom) != 1 || es.Spec.DataFrom[0].Extract.Key != path {
					t.Errorf("ExternalSecret %s: %+v; want %s from %s", name, es.Spec, path, store)
				}
			}
			if c := m.configMaps[ns+"/app-settings-main"]; c.Data["app.yaml"] != "log_level: info\n" {
				t.Errorf("app-settings-main: %v", c.Data)
			}
			if pvc := m.pvcs[ns+"/assets"]; *pvc.Spec.StorageClassName != "gp3" || pvc.Spec.Resources.Requests.Storage().String() != "20Gi" {
				t.Errorf("assets: %+v", pvc.Spec)
			}
			sched := m.schedules["velero/monorepo-myapp-assets"]
			if sched.Spec.Schedule != "0 3 * * *" || sched.Spec.Template.TTL != "336h0m0s" || sched.Spec.Template.IncludedNamespaces[0] != ns {
				t.Errorf("assets' backup: %+v", sched.Spec)
			}

			route := m.routes[ns+"/myapp-network"]
			if len(route.Spec.Hostnames) != 1 || route.Spec.Hostnames[0] != "myapp.prod.example.com" || route.Spec.ParentRefs[0].SectionName != "https" {
				t.Errorf("myapp-network's route: %+v", route.Spec)
			}
			for _, rule := range route.Spec.Rules {
				for _, b := range rule.BackendRefs {
					s, ok := m.services[ns+"/"+b.Name]
					if !ok || s.Spec.Ports[0].Port != b.Port {
						t.Errorf("the route sends to %s:%d, which no Service composed serves", b.Name, b.Port)
					}
				}
			}
			if p := m.policies[ns+"/myapp-network"]; len(p.Spec.TargetRefs) != 1 || p.Spec.TargetRefs[0].Name != "myapp-network" ||
				p.Spec.RateLimit.Local.Rules[0].Limit.Requests != 50 {
				t.Errorf("myapp-network's rate limit: %+v", p.Spec)
			} else if _, ok := m.routes[ns+"/"+p.Spec.TargetRefs[0].Name]; !ok {
				t.Errorf("the rate limit targets route %s, which is not composed", p.Spec.TargetRefs[0].Name)
			}
			if d := m.dns[ns+"/myapp-network"]; d.Spec.Endpoints[0].DNSName != "myapp.prod.example.com" || d.Spec.Endpoints[0].Targets[0] != "gateway.prod.example.com" {
				t.Errorf("myapp-network's DNS: %+v", d.Spec)
			}
		})
	}
}

// TestCompositionDefaultsAndClusterDefaults: with no EnvironmentConfig a
// value is the composition's (one replica; the profile's storage class
// and secret prefix from the environment's name); with the cluster tier
// only, the cluster's default wins over the composition's and the XR's
// spec over both.
func TestCompositionDefaultsAndClusterDefaults(t *testing.T) {
	claims := "testdata/defaults.yaml"
	for _, p := range providers {
		t.Run(p.name, func(t *testing.T) {
			bare := decodeAll(t, renderAll(t, p, nil, claims))
			class := map[string]string{"aws": "gp3", "onprem": "standard"}[p.name]
			if d := bare.deployments["team-svc/plain"]; *d.Spec.Replicas != 1 {
				t.Errorf("no environment: %d replicas, want the composition's 1", *d.Spec.Replicas)
			}
			if pvc := bare.pvcs["team-svc/scratch"]; *pvc.Spec.StorageClassName != class {
				t.Errorf("no environment: storage class %s, want the %s profile's %s", *pvc.Spec.StorageClassName, p.name, class)
			}
			if es := bare.external["team-svc/keys-api"]; es.Spec.DataFrom[0].Extract.Key != "default/team/api" {
				t.Errorf("no environment: secret path %+v", es.Spec)
			}
			if len(bare.pdbs) != 0 {
				t.Errorf("no environment asks for PodDisruptionBudgets: %s", keysOf(bare.pdbs))
			}

			clusterOnly := decodeAll(t, renderAll(t, p, readObjects(t, "environments/prod/env.yml"), claims))
			if d := clusterOnly.deployments["team-svc/plain"]; *d.Spec.Replicas != 2 {
				t.Errorf("cluster tier: %d replicas, want its default 2", *d.Spec.Replicas)
			}
			if d := clusterOnly.deployments["team-svc/sized"]; *d.Spec.Replicas != 4 {
				t.Errorf("cluster tier: %d replicas, want the spec's 4", *d.Spec.Replicas)
			}
			if c := clusterOnly.deployments["team-svc/plain"].Spec.Template.Spec.Containers[0]; c.Resources.Requests.Cpu().String() != "100m" {
				t.Errorf("cluster tier: requests %v, want the cluster's default", c.Resources.Requests)
			}
			if pvc := clusterOnly.pvcs["team-svc/scratch"]; *pvc.Spec.StorageClassName != "gp3" {
				t.Errorf("cluster tier: storage class %s, want its convention gp3", *pvc.Spec.StorageClassName)
			}
			if es := clusterOnly.external["team-svc/keys-api"]; es.Spec.DataFrom[0].Extract.Key != "prod/team/api" {
				t.Errorf("cluster tier: secret path %+v", es.Spec)
			}
		})
	}
}

// TestAWorkloadWaitsForItsOutputs: a Deployment whose outputs/ reference
// names a producer not there yet is not created; the claim says what it
// waits for; one already running is kept as it was observed, not deleted.
func TestAWorkloadWaitsForItsOutputs(t *testing.T) {
	p := providers[0]
	claims := readObjects(t, "examples/myapp.yaml")
	var web object
	for _, c := range claims {
		if n, _ := fieldPath(c, "metadata.name"); n == "myapp-web" {
			web = c
		}
	}
	c := &cluster{envs: environments(t)}
	comp := compositionFor(t, p, "Deployment")
	r := c.render(t, comp, xrOf(web), nil)
	if _, ok := r.composed["deployment"]; ok {
		t.Error("the Deployment was composed before the outputs it reads exist")
	}
	if len(r.required) != 3*8 {
		t.Errorf("%d requirements, want one per catalog kind for each of the three producers: %s", len(r.required), keysOf(r.required))
	}
	if len(r.conditions) != 1 || r.conditions[0]["type"] != "OutputsResolved" || r.conditions[0]["status"] != "False" ||
		!strings.Contains(fmt.Sprint(r.conditions[0]["message"]), "platform::outputs/api/url") {
		t.Errorf("conditions %v", r.conditions)
	}

	running := object{"apiVersion": "kubernetes.crossplane.io/v1alpha2", "kind": "Object",
		"metadata": map[string]any{"name": "myapp-web-x7k2p-abcde", "uid": "0b6f"},
		"spec":     map[string]any{"forProvider": map[string]any{"manifest": map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": map[string]any{"name": "myapp-web"}}}},
		"status":   map[string]any{"conditions": []any{}}}
	r = c.render(t, comp, xrOf(web), map[string]object{"deployment": running})
	held, ok := r.composed["deployment"]
	if !ok || fmt.Sprint(held["spec"]) != fmt.Sprint(running["spec"]) || held["status"] != nil || held["metadata"] != nil {
		t.Errorf("the running Deployment was not kept as observed: %v", held)
	}
}

// TestCompositionsOnInputsBeyondTheExample: zero values are kept (a Job
// removed at once, no history kept), a port served over TCP and UDP gets
// two Service ports of distinct names, a connection detail mounted by key
// mounts that key, and a source no volume can come from (an output, a
// secret of another namespace, or no reference at all) holds the
// workload with a condition naming it instead of mounting an empty
// directory.
func TestCompositionsOnInputsBeyondTheExample(t *testing.T) {
	p := providers[1]
	c := &cluster{}
	claims := map[string]object{}
	for _, o := range readObjects(t, "testdata/edge.yaml") {
		n, _ := fieldPath(o, "metadata.name")
		claims[n.(string)] = o
	}
	render := func(name string) rendered {
		t.Helper()
		o, ok := claims[name]
		if !ok {
			t.Fatalf("no claim %s in testdata/edge.yaml", name)
		}
		return c.render(t, compositionFor(t, p, o["kind"].(string)), xrOf(o), nil)
	}

	m := decodeAll(t, map[string]rendered{"now": render("now"), "now-cron": render("now-cron"), "dns": render("dns"), "reader": render("reader")})
	if j := m.jobs["edge/now"]; j.Spec.TTLSecondsAfterFinished == nil || *j.Spec.TTLSecondsAfterFinished != 0 {
		t.Errorf("ttlSecondsAfterFinished 0 was dropped: %v", j.Spec.TTLSecondsAfterFinished)
	}
	if cj := m.cronJobs["edge/now-cron"]; cj.Spec.SuccessfulJobsHistoryLimit == nil || *cj.Spec.SuccessfulJobsHistoryLimit != 0 {
		t.Errorf("successfulJobsHistoryLimit 0 was dropped: %v", cj.Spec.SuccessfulJobsHistoryLimit)
	}
	names := map[string]bool{}
	for _, port := range m.services["edge/dns"].Spec.Ports {
		names[port.Name] = true
	}
	if len(names) != 2 {
		t.Errorf("DNS over TCP and UDP: Service ports %+v, want two of distinct names", m.services["edge/dns"].Spec.Ports)
	}
	reader := m.deployments["edge/reader"].Spec.Template.Spec
	if len(reader.Volumes) != 1 || reader.Volumes[0].Secret == nil || reader.Volumes[0].Secret.SecretName != "dns-conn" ||
		len(reader.Volumes[0].Secret.Items) != 1 || reader.Volumes[0].Secret.Items[0].Key != "endpoint" {
		t.Errorf("connections/dns/endpoint mounted as %+v", reader.Volumes)
	}

	for name, source := range map[string]string{"mounts-output": "outputs/dns/port", "foreign-secret": "other-app::secrets/keys/api/token", "no-reference": "files/app.yaml"} {
		r := render(name)
		if _, ok := r.composed["deployment"]; ok {
			t.Errorf("%s: the Deployment was composed with %s", name, source)
		}
		if len(r.conditions) != 1 || !strings.Contains(fmt.Sprint(r.conditions[0]["message"]), source) {
			t.Errorf("%s: conditions %v, want one naming %s", name, r.conditions, source)
		}
	}
}

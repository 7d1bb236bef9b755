package packaging_test

import (
	"fmt"
	"testing"

	"github.com/catalyst-forge/forge/application/packaging"
	"github.com/catalyst-forge/forge/application/rendering"
)

// BenchmarkBuild500 packages a rendered release of 500 resources (a third
// each Deployments, Services and ConfigMaps, as scripts/bench-render.sh
// renders them): the summary by kind and the deterministic image.
func BenchmarkBuild500(b *testing.B) {
	var resources []map[string]any
	for i := 1; i <= 500; i++ {
		switch i % 3 {
		case 0:
			resources = append(resources, map[string]any{"apiVersion": "apps/v1", "kind": "Deployment",
				"metadata": map[string]any{"name": fmt.Sprintf("app-%d", i)},
				"spec": map[string]any{"replicas": 2, "template": map[string]any{"spec": map[string]any{"containers": []any{
					map[string]any{"name": "app", "image": "registry.example.com/team/big@sha256:0123", "env": []any{map[string]any{"name": "INDEX", "value": fmt.Sprint(i)}}}}}}}})
		case 1:
			resources = append(resources, map[string]any{"apiVersion": "v1", "kind": "Service", "metadata": map[string]any{"name": fmt.Sprintf("svc-%d", i)},
				"spec": map[string]any{"ports": []any{map[string]any{"port": 80, "targetPort": 8080}}}})
		default:
			resources = append(resources, map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": fmt.Sprintf("config-%d", i)},
				"data": map[string]any{"index": fmt.Sprint(i)}})
		}
	}
	stream, err := rendering.YAML(resources)
	if err != nil {
		b.Fatal(err)
	}
	r := release()
	r.Resources = stream
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		r.Summary = packaging.Summarize(resources)
		if _, err := packaging.Build(r); err != nil {
			b.Fatal(err)
		}
	}
}

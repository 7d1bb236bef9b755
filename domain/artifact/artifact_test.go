package artifact_test

import (
	"reflect"
	"testing"

	"github.com/catalyst-forge/forge/domain/artifact"
)

func TestView(t *testing.T) {
	o := artifact.Output{Name: "web", Project: "hello", Type: "container",
		Producer: map[string]any{"digest": "sha256:a", "size": 10, "location_type": "oci-layout", "path": "/staging/image"},
		Publishers: map[string]artifact.Publication{
			"docker": {Type: "docker", Status: artifact.Present, Fields: map[string]any{"uri": "r/x@sha256:a"}},
			"broken": {Type: "docker", Status: artifact.Failed, Error: "denied"},
		},
		Tracking: &artifact.Tracking{URI: "t/hello/web:sha-1", Digest: "sha256:t"},
	}
	want := map[string]any{"digest": "sha256:a", "size": 10,
		"publishers": map[string]any{"docker": map[string]any{"uri": "r/x@sha256:a"}},
		"tracking":   map[string]any{"uri": "t/hello/web:sha-1", "digest": "sha256:t"}}
	if got := o.View(); !reflect.DeepEqual(got, want) {
		t.Errorf("View =\n%v\nwant\n%v", got, want)
	}
	if got := o.Failure(); got != "artifact web of hello failed to publish (publisher broken: denied)" {
		t.Errorf("Failure = %q", got)
	}
	o.Error = "the producer exited with code 2"
	if got := o.Failure(); got != "artifact web of hello failed: the producer exited with code 2" {
		t.Errorf("Failure = %q", got)
	}
	if got := (artifact.Output{Name: "x", Publishers: map[string]artifact.Publication{"a": {Status: artifact.Published}}}).Failure(); got != "" {
		t.Errorf("Failure of a good artifact = %q", got)
	}
}

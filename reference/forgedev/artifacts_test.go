package forgedev

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/catalyst-forge/forge/adapters/onprem/fsblob"
	"github.com/catalyst-forge/forge/adapters/onprem/ociregistry"
	"github.com/catalyst-forge/forge/application/publishing"
	"github.com/catalyst-forge/forge/domain/artifact"
	"github.com/catalyst-forge/forge/domain/oci"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/reference/internal/gittest"
	"github.com/catalyst-forge/forge/reference/internal/ocitest"
)

// TestArtifactsEndToEnd runs the example through forge dev run against a
// real registry that outlives the runs: its release-triggered project
// builds a container and a binary with script producers; the image is in
// the registry under its tag, both tracking images have the three layers
// of spec 01 and a signature that cosign accepts (when FORGE_TEST_COSIGN
// names a cosign binary; .ci/run builds one), and a second run of the
// same commit publishes nothing new.
func TestArtifactsEndToEnd(t *testing.T) {
	host := ocitest.Registry(t)
	dir := example(t)
	commit := gittest.CommitAll(t, dir)
	data := t.TempDir()
	ctx := context.Background()

	out, err := Run(ctx, Options{Dir: dir, Data: data, Registry: host})
	if err != nil {
		t.Fatal(err)
	}
	if out.Run.Status != pipeline.StatusSuccess || len(out.Artifacts) != 3 {
		t.Fatalf("run %s (%s) with %d artifacts", out.Run.Status, out.Run.Reason, len(out.Artifacts))
	}
	cli, image := out.Artifacts[0], out.Artifacts[1]
	if cli.Name != "cli" || cli.Producer["executable"] != "hello-api" || image.Name != "image" {
		t.Fatalf("artifacts = %+v", out.Artifacts)
	}
	pub := image.Publishers["registry"]
	if pub.Status != artifact.Published || pub.Fields["uri"] != host+"/examples/image@"+image.Producer["digest"].(string) {
		t.Errorf("image publication = %+v", pub)
	}
	reg, err := ociregistry.New(ociregistry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d, err := reg.Resolve(ctx, host+"/examples/image:latest"); err != nil || string(d.Digest) != image.Producer["digest"] {
		t.Errorf("examples/image:latest = %v, %v", d.Digest, err)
	}
	// The site went to the docs bucket, which is a directory on one machine.
	docs, err := fsblob.New(filepath.Join(data, "docs", "example-docs"))
	if err != nil {
		t.Fatal(err)
	}
	defer docs.Close()
	if rc, _, err := docs.Get(ctx, "hello-web/site/index.html", 0); err != nil {
		t.Errorf("the site is not in the docs bucket: %v", err)
	} else {
		page, _ := io.ReadAll(rc)
		rc.Close()
		if !strings.Contains(string(page), "<title>hello</title>") {
			t.Errorf("index.html = %q", page)
		}
	}
	for _, a := range out.Artifacts {
		if a.Tracking == nil || a.Tracking.URI != host+"/tracking/local/monorepo/"+a.Project+"/"+a.Name+":sha-"+commit {
			t.Fatalf("%s tracking = %+v", a.Name, a.Tracking)
		}
		raw, _, err := reg.Manifest(ctx, a.Tracking.URI)
		if err != nil {
			t.Fatal(err)
		}
		var m oci.Manifest
		_ = json.Unmarshal(raw.Bytes, &m)
		if len(m.Layers) != 3 || m.Layers[0].MediaType != publishing.MediaTypeTrackingMeta || m.Layers[1].MediaType != publishing.MediaTypeSPDX || m.Layers[2].MediaType != publishing.MediaTypeInToto {
			t.Errorf("%s tracking layers = %+v", a.Name, m.Layers)
		}
		repo, _, _ := strings.Cut(a.Tracking.URI, ":sha-")
		if _, err := reg.Resolve(ctx, repo+":"+publishing.SignatureTag(oci.Digest(a.Tracking.Digest))); err != nil {
			t.Errorf("%s has no signature: %v", a.Name, err)
		}
		cosignVerify(t, filepath.Join(data, publicKeyFile), a.Tracking.URI+"@"+a.Tracking.Digest)
	}

	// Running the same commit again in the same data directory finds the
	// same finished run; a fresh data directory (with the same signing
	// key) runs it again.
	fresh := t.TempDir()
	for _, f := range []string{signingKeyFile, publicKeyFile} {
		b, _ := os.ReadFile(filepath.Join(data, f))
		if err := os.WriteFile(filepath.Join(fresh, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	sigRef := host + "/tracking/local/monorepo/hello-api/image:" + publishing.SignatureTag(oci.Digest(image.Tracking.Digest))
	before, _ := reg.Resolve(ctx, sigRef)
	again, err := Run(ctx, Options{Dir: dir, Data: fresh, Registry: host})
	if err != nil || again.Run.Status != pipeline.StatusSuccess {
		t.Fatalf("second run: %v %v", again, err)
	}
	if got := again.Artifacts[1].Publishers["registry"].Status; got != artifact.Present {
		t.Errorf("second run: the image was %s, want present (nothing pushed)", got)
	}
	for i := range again.Artifacts {
		if again.Run.ID == out.Run.ID || again.Artifacts[i].Tracking.Digest != out.Artifacts[i].Tracking.Digest {
			t.Errorf("second run %s: tracking image of %s changed", again.Run.ID, again.Artifacts[i].Name)
		}
	}
	if after, _ := reg.Resolve(ctx, sigRef); after.Digest != before.Digest || before.Digest == "" {
		t.Errorf("second run: the signature %s became %s; a valid one by the same key is kept", before.Digest, after.Digest)
	}
}

// cosignVerify runs `cosign verify --key` on image when FORGE_TEST_COSIGN
// names a cosign binary. The transparency log (Rekor) cannot be reached
// from these machines, so it is told to ignore it.
func cosignVerify(t *testing.T, key, image string) {
	t.Helper()
	bin := os.Getenv("FORGE_TEST_COSIGN")
	if bin == "" {
		t.Log("FORGE_TEST_COSIGN is not set: the signature is checked by our own verifier only")
		return
	}
	cmd := exec.Command(bin, "verify", "--key", key, "--insecure-ignore-tlog=true", "--allow-http-registry", image)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "The signatures were verified against the specified public key") {
		t.Errorf("cosign verify %s: %v\n%s", image, err, out)
	}
}

// TestFailingPublisherFailsItsArtifact: a publisher that cannot publish
// fails its artifact and the run, with the publisher named.
func TestFailingPublisherFailsItsArtifact(t *testing.T) {
	dir := example(t)
	edit(t, filepath.Join(dir, "services/hello-api/.forge/project.cue"), `publishers: registry: tags: ["latest"]`, `publishers: registry: tags: ["not a tag"]`)
	out, err := Run(context.Background(), Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	want := "artifact image of hello-api failed to publish (publisher registry: tag not a tag is not a valid image tag"
	if out.Run.Status != pipeline.StatusFailed || !strings.HasPrefix(out.Run.Reason, want) {
		t.Errorf("run %s: %q, want it to start %q", out.Run.Status, out.Run.Reason, want)
	}
}

// TestEarthlyProducerThroughAStandIn builds the example's binary with an
// earthly producer, run by a stand-in earthly executable on PATH (NOT
// Earthly: BuildKit cannot run here) that checks the command line the
// real CLI takes (earthly --ci --artifact +target/* DEST [build args])
// and copies what the target would save into DEST.
func TestEarthlyProducerThroughAStandIn(t *testing.T) {
	bin := t.TempDir()
	standIn := `#!/bin/sh
set -eu
[ "$1" = --ci ] && [ "$2" = --artifact ] || { echo "stand-in earthly: unexpected flags: $*" >&2; exit 64; }
case "$3" in +cli/\*) ;; *) echo "stand-in earthly: unexpected artifact $3" >&2; exit 64;; esac
dest=$4; shift 4
[ "$*" = "--VERSION=1.2" ] || { echo "stand-in earthly: unexpected build args: $*" >&2; exit 64; }
cat ../../libs/greeting/greeting.sh server.sh > "$dest/hello-api"
echo "stand-in earthly: saved +cli/hello-api to $dest"
`
	if err := os.WriteFile(filepath.Join(bin, "earthly"), []byte(standIn), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	dir := example(t)
	edit(t, filepath.Join(dir, "services/hello-api/.forge/project.cue"), `producer: script: run: """
			cat ../../libs/greeting/greeting.sh server.sh > "$FORGE_STAGING_DIR/hello-api"
			chmod +x "$FORGE_STAGING_DIR/hello-api"
			"""`, `producer: earthly: {target: "+cli", args: ["--VERSION=1.2"]}`)
	out, err := Run(context.Background(), Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if out.Run.Status != pipeline.StatusSuccess || out.Artifacts[0].Name != "cli" || out.Artifacts[0].Producer["executable"] != "hello-api" {
		t.Fatalf("run %s (%s): %+v", out.Run.Status, out.Run.Reason, out.Artifacts)
	}
}

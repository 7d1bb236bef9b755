package forgedev

import (
	"archive/tar"
	"bytes"
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
	"github.com/catalyst-forge/forge/application/packaging"
	"github.com/catalyst-forge/forge/application/publishing"
	"github.com/catalyst-forge/forge/application/signing"
	"github.com/catalyst-forge/forge/domain/artifact"
	"github.com/catalyst-forge/forge/domain/oci"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/ports"
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
		if _, err := reg.Resolve(ctx, repo+":"+signing.SignatureTag(oci.Digest(a.Tracking.Digest))); err != nil {
			t.Errorf("%s has no signature: %v", a.Name, err)
		}
		cosignVerify(t, filepath.Join(data, publicKeyFile), a.Tracking.URI+"@"+a.Tracking.Digest)
	}

	checkReleases(t, reg, host, commit, out)
	checkDeployments(t, reg, out)
	cosignVerify(t, filepath.Join(data, publicKeyFile), out.Releases[0].OCIURI+"@"+out.Releases[0].OCIDigest)

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
	sigRef := host + "/tracking/local/monorepo/hello-api/image:" + signing.SignatureTag(oci.Digest(image.Tracking.Digest))
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
	// The release images are reproducible: the second run, with a
	// database of its own, numbers the releases alike and builds the same
	// images, which the registry holds already.
	for i, r := range again.Releases {
		if r.OCIDigest == "" || r.OCIDigest != out.Releases[i].OCIDigest || r.OCIURI != out.Releases[i].OCIURI {
			t.Errorf("second run: release of %s is %s@%s, was %s@%s", r.Project, r.OCIURI, r.OCIDigest, out.Releases[i].OCIURI, out.Releases[i].OCIDigest)
		}
	}
}

// checkReleases checks the releases of the example's run: one per
// release-triggered project, numbered 1 with the branch alias, each
// image in the registry with the layers of spec 01, its metadata naming
// the commit and the tracking images, and hello-api's resources holding
// the URI its image was published at.
func checkReleases(t *testing.T, reg ports.Registry, host, commit string, out *Outcome) {
	t.Helper()
	ctx := context.Background()
	if len(out.Releases) != 2 || out.Releases[0].Project != "hello-api" || out.Releases[1].Project != "hello-web" {
		t.Fatalf("releases = %+v", out.Releases)
	}
	for _, r := range out.Releases {
		if r.Number != 1 || len(r.Aliases) != 2 || r.Aliases[1].Alias != "main-1" || r.PipelineRunID == nil || *r.PipelineRunID != out.Run.ID {
			t.Errorf("release of %s = %+v", r.Project, r)
		}
		if r.OCIURI != host+"/local/monorepo/"+r.Project+":"+commit {
			t.Errorf("release of %s is at %s", r.Project, r.OCIURI)
		}
		raw, d, err := reg.Manifest(ctx, r.OCIURI)
		if err != nil || string(d.Digest) != r.OCIDigest {
			t.Fatalf("%s: %v (digest %s, recorded %s)", r.OCIURI, err, d.Digest, r.OCIDigest)
		}
		var m oci.Manifest
		_ = json.Unmarshal(raw.Bytes, &m)
		if m.ArtifactType != packaging.ArtifactTypeRelease || len(m.Layers) != 2 ||
			m.Layers[0].MediaType != packaging.MediaTypeReleaseMeta || m.Layers[0].Annotations[packaging.AnnotationLayerType] != "metadata" ||
			m.Layers[1].MediaType != packaging.MediaTypeReleaseResource || m.Layers[1].Annotations[packaging.AnnotationLayerType] != "resources" {
			t.Fatalf("%s manifest = %s", r.OCIURI, raw.Bytes)
		}
		repo, _, _ := strings.Cut(r.OCIURI, ":"+commit)
		var meta packaging.Release
		if err := json.Unmarshal(blob(t, reg, repo, m.Layers[0].Digest), &meta); err != nil {
			t.Fatal(err)
		}
		if meta.Number != 1 || meta.Source.Commit != commit || meta.Source.Message == "" || meta.Trigger.Branch == "" || len(meta.Artifacts) != len(r.Artifacts) {
			t.Errorf("%s metadata = %+v", r.Project, meta)
		}
		for i, a := range meta.Artifacts {
			if a.TrackingURI != r.Artifacts[i].TrackingOCIURI || a.TrackingDigest != r.Artifacts[i].TrackingOCIDigest || a.TrackingDigest == "" {
				t.Errorf("%s metadata artifact %+v, recorded %+v", r.Project, a, r.Artifacts[i])
			}
		}
		tr := tar.NewReader(bytes.NewReader(blob(t, reg, repo, m.Layers[1].Digest)))
		h, err := tr.Next()
		if err != nil || h.Name != packaging.ResourcesFile {
			t.Fatalf("%s resources layer: %+v %v", r.Project, h, err)
		}
		yaml, _ := io.ReadAll(tr)
		if r.Project == "hello-api" {
			image := out.Artifacts[1].Publishers["registry"].Fields["uri"].(string)
			if !strings.Contains(string(yaml), "image: "+image) || !strings.Contains(string(yaml), "kind: Deployment") {
				t.Errorf("hello-api resources do not hold its image %s:\n%s", image, yaml)
			}
		}
	}
}

// checkDeployments: each release was deployed to dev (the default
// policy's auto-deploy) by a commit of the GitOps repository, and the
// Argo CD plugin, run in a clone, printed exactly its resources.
func checkDeployments(t *testing.T, reg ports.Registry, out *Outcome) {
	t.Helper()
	if len(out.Deployments) != 2 || !strings.HasPrefix(out.GitOps, "file://") {
		t.Fatalf("deployments = %+v (GitOps %s)", out.Deployments, out.GitOps)
	}
	for i, d := range out.Deployments {
		r := out.Releases[i]
		if d.Project != r.Project || d.Environment != "dev" || d.Status != "active" || len(d.Commit) != 40 || d.GenerateError != "" ||
			d.Pointer != "environments/dev/local/monorepo/"+r.Project+"/release.yaml" {
			t.Errorf("deployment of %s = %+v", r.Project, d)
		}
		img, err := packaging.Read(context.Background(), reg, r.OCIURI[:strings.LastIndex(r.OCIURI, ":")]+"@"+r.OCIDigest)
		if err != nil {
			t.Fatal(err)
		}
		if d.Generated != string(img.Release.Resources) {
			t.Errorf("forge-cmp generate printed for %s:\n%s\nwant its resources:\n%s", r.Project, d.Generated, img.Release.Resources)
		}
	}
}

// blob reads a blob of repo from reg.
func blob(t *testing.T, reg ports.Registry, repo string, d oci.Digest) []byte {
	t.Helper()
	rc, err := reg.Blob(context.Background(), repo, d)
	if err != nil {
		t.Fatalf("blob %s of %s: %v", d, repo, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
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

package registrytest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/oci"
	"github.com/catalyst-forge/forge/ports"
)

// Factory returns a client, the host (with port) of a registry it can
// write to, and a cleanup func (may be nil), called when the spec ends.
type Factory func() (reg ports.Registry, host string, cleanup func())

var repoCounter atomic.Int64

// image is a small artifact: a config, layers, and its manifest.
type image struct {
	blobs    []ports.Blob
	manifest ports.RawManifest
	desc     oci.Descriptor
	layers   [][]byte
}

func newImage(artifactType string, layers ...[]byte) image {
	cfg := ports.BytesBlob(oci.MediaTypeEmptyJSON, []byte("{}"))
	img := image{blobs: []ports.Blob{cfg}, layers: layers}
	m := oci.Manifest{SchemaVersion: 2, MediaType: oci.MediaTypeImageManifest, ArtifactType: artifactType, Config: cfg.Descriptor,
		Layers: []oci.Descriptor{}, Annotations: map[string]string{"org.opencontainers.image.title": artifactType}}
	for _, l := range layers {
		b := ports.BytesBlob("application/vnd.catalyst-forge.test.layer", l)
		img.blobs = append(img.blobs, b)
		m.Layers = append(m.Layers, b.Descriptor)
	}
	raw, err := json.Marshal(m)
	Expect(err).NotTo(HaveOccurred())
	img.manifest = ports.RawManifest{MediaType: oci.MediaTypeImageManifest, Bytes: raw}
	img.desc = oci.DescriptorOf(oci.MediaTypeImageManifest, raw)
	return img
}

func random(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func read(rc io.ReadCloser, err error) []byte {
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	defer rc.Close()
	b, err := io.ReadAll(rc)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return b
}

// Describe declares the Registry conformance specs for the adapter called
// name, each on a fresh client from factory and its own repository.
func Describe(name string, factory Factory) bool {
	return ginkgo.Describe("Registry conformance: "+name, func() {
		var (
			reg  ports.Registry
			repo string
			ctx  context.Context
		)
		ginkgo.BeforeEach(func() {
			var host string
			var cleanup func()
			reg, host, cleanup = factory()
			if cleanup != nil {
				ginkgo.DeferCleanup(cleanup)
			}
			repo = fmt.Sprintf("%s/conformance/repo-%d-%x", host, repoCounter.Add(1), random(3))
			ctx = context.Background()
		})
		push := func(img image, ref string) oci.Descriptor {
			for _, b := range img.blobs {
				ExpectWithOffset(1, reg.PushBlob(ctx, repo, b)).To(Succeed())
			}
			d, err := reg.PushManifest(ctx, ref, img.manifest)
			ExpectWithOffset(1, err).NotTo(HaveOccurred())
			return d
		}

		ginkgo.It("pushes an artifact under a tag and reads it back byte for byte", func() {
			img := newImage("application/vnd.catalyst-forge.test", []byte("layer one"), random(64<<10))
			d := push(img, repo+":v1")
			Expect(d.Digest).To(Equal(img.desc.Digest))
			Expect(d.MediaType).To(Equal(oci.MediaTypeImageManifest))
			Expect(d.Size).To(Equal(img.desc.Size))

			got, gd, err := reg.Manifest(ctx, repo+":v1")
			Expect(err).NotTo(HaveOccurred())
			Expect(got.Bytes).To(Equal(img.manifest.Bytes))
			Expect(got.MediaType).To(Equal(oci.MediaTypeImageManifest))
			Expect(gd.Digest).To(Equal(img.desc.Digest))

			byDigest, _, err := reg.Manifest(ctx, repo+"@"+string(img.desc.Digest))
			Expect(err).NotTo(HaveOccurred())
			Expect(byDigest.Bytes).To(Equal(img.manifest.Bytes))

			rd, err := reg.Resolve(ctx, repo+":v1")
			Expect(err).NotTo(HaveOccurred())
			Expect(rd.Digest).To(Equal(img.desc.Digest))
			Expect(rd.Size).To(Equal(img.desc.Size))

			for i, l := range img.layers {
				Expect(read(reg.Blob(ctx, repo, img.blobs[i+1].Digest))).To(Equal(l))
			}
		})

		ginkgo.It("takes the same content again without complaint and gives the same digest", func() {
			img := newImage("application/vnd.catalyst-forge.test", []byte("same"))
			first := push(img, repo+":a")
			second := push(img, repo+":a")
			Expect(second).To(Equal(first))
			third := push(img, repo+"@"+string(img.desc.Digest))
			Expect(third.Digest).To(Equal(first.Digest))
		})

		ginkgo.It("moves a tag to new content", func() {
			a, b := newImage("a", []byte("a")), newImage("b", []byte("b"))
			push(a, repo+":latest")
			push(b, repo+":latest")
			d, err := reg.Resolve(ctx, repo+":latest")
			Expect(err).NotTo(HaveOccurred())
			Expect(d.Digest).To(Equal(b.desc.Digest))
			_, err = reg.Resolve(ctx, repo+"@"+string(a.desc.Digest))
			Expect(err).NotTo(HaveOccurred(), "the old manifest stays reachable by digest")
		})

		ginkgo.It("lists tags sorted, and none for a repository that does not exist", func() {
			img := newImage("t", []byte("t"))
			for _, tag := range []string{"sha-b", "v1.0.0", "sha-a", "main-3"} {
				push(img, repo+":"+tag)
			}
			tags, err := reg.Tags(ctx, repo)
			Expect(err).NotTo(HaveOccurred())
			Expect(tags).To(Equal([]string{"main-3", "sha-a", "sha-b", "v1.0.0"}))
			tags, err = reg.Tags(ctx, repo+"-never-pushed")
			Expect(err).NotTo(HaveOccurred())
			Expect(tags).To(BeEmpty())
		})

		ginkgo.It("pushes an index over manifests it names", func() {
			a, b := newImage("a", []byte("amd64")), newImage("b", []byte("arm64"))
			push(a, repo+"@"+string(a.desc.Digest))
			push(b, repo+"@"+string(b.desc.Digest))
			ad, bd := a.desc, b.desc
			ad.Platform = &oci.Platform{Architecture: "amd64", OS: "linux"}
			bd.Platform = &oci.Platform{Architecture: "arm64", OS: "linux"}
			raw, err := json.Marshal(oci.Index{SchemaVersion: 2, MediaType: oci.MediaTypeImageIndex, Manifests: []oci.Descriptor{ad, bd}})
			Expect(err).NotTo(HaveOccurred())
			d, err := reg.PushManifest(ctx, repo+":multi", ports.RawManifest{MediaType: oci.MediaTypeImageIndex, Bytes: raw})
			Expect(err).NotTo(HaveOccurred())
			Expect(d.Digest).To(Equal(oci.DigestOf(raw)))
			got, gd, err := reg.Manifest(ctx, repo+":multi")
			Expect(err).NotTo(HaveOccurred())
			Expect(gd.MediaType).To(Equal(oci.MediaTypeImageIndex))
			Expect(got.Bytes).To(Equal(raw))
		})

		ginkgo.It("answers NotFound for a tag, a digest, a repository or a blob it does not have", func() {
			push(newImage("x", []byte("x")), repo+":here")
			missing := oci.DigestOf([]byte("never pushed"))
			for _, ref := range []string{repo + ":absent", repo + "@" + string(missing), repo + "-absent:here"} {
				_, err := reg.Resolve(ctx, ref)
				Expect(fault.KindOf(err)).To(Equal(fault.NotFound), "Resolve(%s): %v", ref, err)
				_, _, err = reg.Manifest(ctx, ref)
				Expect(fault.KindOf(err)).To(Equal(fault.NotFound), "Manifest(%s): %v", ref, err)
			}
			_, err := reg.Blob(ctx, repo, missing)
			Expect(fault.KindOf(err)).To(Equal(fault.NotFound), "Blob: %v", err)
		})

		ginkgo.It("refuses a blob whose content does not match its digest, and stores nothing under that digest", func() {
			b := ports.BytesBlob("application/octet-stream", []byte("what was promised"))
			b.Open = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader([]byte("something else!!!"))), nil }
			err := reg.PushBlob(ctx, repo, b)
			Expect(fault.KindOf(err)).To(Equal(fault.Validation), "error: %v", err)
			_, err = reg.Blob(ctx, repo, b.Digest)
			Expect(fault.KindOf(err)).To(Equal(fault.NotFound), "error: %v", err)
		})

		ginkgo.It("refuses a manifest that names content the repository lacks", func() {
			img := newImage("x", []byte("layer never pushed"))
			_, err := reg.PushManifest(ctx, repo+":broken", img.manifest)
			Expect(fault.KindOf(err)).To(Equal(fault.Validation), "error: %v", err)
		})

		ginkgo.It("refuses references that are not references, and a digest that is not the manifest's", func() {
			img := newImage("x", []byte("x"))
			for _, ref := range []string{"", "no-host", repo + ":bad tag", repo + "@sha256:123", "UPPER.example.com/Repo:x"} {
				_, err := reg.PushManifest(ctx, ref, img.manifest)
				Expect(fault.KindOf(err)).To(Equal(fault.Validation), "PushManifest(%q): %v", ref, err)
				_, err = reg.Resolve(ctx, ref)
				Expect(fault.KindOf(err)).To(Equal(fault.Validation), "Resolve(%q): %v", ref, err)
			}
			for _, b := range img.blobs {
				Expect(reg.PushBlob(ctx, repo, b)).To(Succeed())
			}
			_, err := reg.PushManifest(ctx, repo+"@"+string(oci.DigestOf([]byte("other"))), img.manifest)
			Expect(fault.KindOf(err)).To(Equal(fault.Validation), "error: %v", err)
			_, err = reg.Tags(ctx, "not a repository")
			Expect(fault.KindOf(err)).To(Equal(fault.Validation), "error: %v", err)
		})

		ginkgo.It("stops when its context is cancelled", func() {
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			err := reg.PushBlob(cctx, repo, ports.BytesBlob("application/octet-stream", random(1024)))
			Expect(errors.Is(err, context.Canceled)).To(BeTrue(), "PushBlob: %v", err)
			_, err = reg.Resolve(cctx, repo+":x")
			Expect(errors.Is(err, context.Canceled)).To(BeTrue(), "Resolve: %v", err)
		})

		ginkgo.It("is safe for concurrent use, pushing to one repository from many goroutines", func() {
			shared := newImage("shared", []byte("shared layer"))
			var wg sync.WaitGroup
			errs := make(chan error, 16)
			for i := range 16 {
				wg.Go(func() {
					img := shared
					if i%2 == 1 {
						img = newImage(fmt.Sprintf("own-%d", i), random(4096))
					}
					for _, b := range img.blobs {
						if err := reg.PushBlob(ctx, repo, b); err != nil {
							errs <- err
							return
						}
					}
					_, err := reg.PushManifest(ctx, fmt.Sprintf("%s:t%02d", repo, i), img.manifest)
					errs <- err
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				Expect(err).NotTo(HaveOccurred())
			}
			tags, err := reg.Tags(ctx, repo)
			Expect(err).NotTo(HaveOccurred())
			Expect(tags).To(HaveLen(16))
		})
	})
}

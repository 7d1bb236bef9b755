package storetest

import (
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/release"
)

func describeReleases(h *harness) {
	ginkgo.Describe("releases", func() {
		ginkgo.Describe("CreateRelease", func() {
			ginkgo.It("numbers the first release of a project 1 and the next 2", func() {
				first := h.mustRelease(repoName, webProject, commitSHA("c1"))
				Expect(uuid.Parse(first.ID)).Error().NotTo(HaveOccurred(), "ID %q is not a UUID", first.ID)
				Expect(first.Number).To(Equal(1))
				second := h.mustRelease(repoName, webProject, commitSHA("c2"))
				Expect(second.Number).To(Equal(2))
				Expect(second.ID).NotTo(Equal(first.ID))
			})

			ginkgo.It("numbers each repository/project on its own", func() {
				Expect(h.mustRelease(repoName, webProject, commitSHA("c1")).Number).To(Equal(1))
				Expect(h.mustRelease(repoName, apiProject, commitSHA("c1")).Number).To(Equal(1))
				Expect(h.mustRelease(otherRepoName, webProject, commitSHA("c1")).Number).To(Equal(1))
				Expect(h.mustRelease(repoName, webProject, commitSHA("c2")).Number).To(Equal(2))
				Expect(h.mustRelease(repoName, apiProject, commitSHA("c3")).Number).To(Equal(2))
			})

			ginkgo.It("gives 50 concurrent creations the numbers 1 to 50, without gaps or duplicates", func() {
				h.mustRepository(repoName)
				const n = 50
				numbers := make([]int, n)
				errs := make([]error, n)
				start := make(chan struct{})
				var wg sync.WaitGroup
				for i := range n {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						got, _, err := h.store.CreateRelease(h.ctx, newRelease(repoName, webProject, commitSHA(fmt.Sprint("concurrent ", i))))
						errs[i] = err
						if err == nil {
							numbers[i] = got.Number
						}
					}()
				}
				close(start)
				wg.Wait()

				for i, err := range errs {
					Expect(err).NotTo(HaveOccurred(), "creation %d", i)
				}
				sort.Ints(numbers)
				want := make([]int, n)
				for i := range want {
					want[i] = i + 1
				}
				Expect(numbers).To(Equal(want))

				listed, total, err := h.store.ListReleases(h.ctx, repoName, webProject, page(100, 0))
				Expect(err).NotTo(HaveOccurred())
				Expect(total).To(Equal(n))
				Expect(listed).To(HaveLen(n))
				Expect(h.mustRelease(repoName, webProject, commitSHA("after")).Number).To(Equal(n + 1))
			})

			ginkgo.It("is idempotent on the triplet: the release comes back unchanged and no number is used", func() {
				first := h.mustRelease(repoName, webProject, commitSHA("c1"))

				again := newRelease(repoName, webProject, commitSHA("c1"))
				again.OCIURI = "registry.acme.example/changed"
				again.CreatedBy = "mallory@acme.example"
				again.Aliases = []release.Alias{{Alias: "ignored", Type: release.AliasTag}}
				got, created, err := h.store.CreateRelease(h.ctx, again)
				Expect(err).NotTo(HaveOccurred())
				Expect(created).To(BeFalse())
				Expect(got.ID).To(Equal(first.ID))
				Expect(got.Number).To(Equal(1))
				Expect(got.OCIURI).To(Equal(first.OCIURI))
				Expect(got.CreatedBy).To(Equal("release-bot@acme.example"))

				_, err = h.store.FindRelease(repoName, webProject).ByAlias(h.ctx, "ignored")
				Expect(err).To(haveKind(fault.NotFound), "the aliases of an ignored release are not saved")
				Expect(h.mustRelease(repoName, webProject, commitSHA("c2")).Number).To(Equal(2))
			})

			ginkgo.It("gives every release its numeric alias", func() {
				h.mustRelease(repoName, webProject, commitSHA("c1"))
				second := h.mustRelease(repoName, webProject, commitSHA("c2"))
				Expect(aliasNames(second.Aliases)).To(ConsistOf("2 (numeric)"))

				stored, err := h.store.GetRelease(h.ctx, second.ID)
				Expect(err).NotTo(HaveOccurred())
				Expect(aliasNames(stored.Aliases)).To(ConsistOf("2 (numeric)"))
				found, err := h.store.FindRelease(repoName, webProject).ByAlias(h.ctx, "2")
				Expect(err).NotTo(HaveOccurred())
				Expect(found).To(HaveLen(1), "releases with the alias")
				Expect(found[0].ID).To(Equal(second.ID))
			})

			ginkgo.It("saves the aliases given with the release", func() {
				got := h.mustRelease(repoName, webProject, commitSHA("c1"),
					release.Alias{Alias: "v1.2.3", Type: release.AliasTag},
					release.BranchAlias("main", 1))
				Expect(aliasNames(got.Aliases)).To(ConsistOf("1 (numeric)", "v1.2.3 (tag)", "main-1 (branch)"))

				stored, err := h.store.GetRelease(h.ctx, got.ID)
				Expect(err).NotTo(HaveOccurred())
				Expect(aliasNames(stored.Aliases)).To(ConsistOf("1 (numeric)", "v1.2.3 (tag)", "main-1 (branch)"))
				for _, a := range []string{"v1.2.3", "main-1"} {
					found, err := h.store.FindRelease(repoName, webProject).ByAlias(h.ctx, a)
					Expect(err).NotTo(HaveOccurred())
					Expect(found).To(HaveLen(1), "releases with the alias")
					Expect(found[0].ID).To(Equal(got.ID))
				}
			})

			ginkgo.It("refuses an alias another release of the project has as the same kind (Conflict), saving nothing and using no number", func() {
				h.mustRelease(repoName, webProject, commitSHA("c1"), release.Alias{Alias: "v1.0.0", Type: release.AliasTag})

				taken := newRelease(repoName, webProject, commitSHA("c2"))
				taken.Aliases = []release.Alias{{Alias: "v1.0.0", Type: release.AliasTag}}
				_, _, err := h.store.CreateRelease(h.ctx, taken)
				Expect(err).To(haveKind(fault.Conflict))

				_, total, err := h.store.ListReleases(h.ctx, repoName, webProject, page(0, 0))
				Expect(err).NotTo(HaveOccurred())
				Expect(total).To(Equal(1))
				_, err = release.Resolve(h.ctx, h.store.FindRelease(repoName, webProject), commitSHA("c2"))
				Expect(err).To(haveKind(fault.NotFound))
				Expect(h.mustRelease(repoName, webProject, commitSHA("c3")).Number).To(Equal(2))
			})

			// A tag that looks like a branch alias used to block every later
			// release of the branch: aliases are unique per kind, and an
			// identifier resolves by release.AliasPrecedence.
			ginkgo.It("lets a tag alias and a later branch alias share their text; the tag resolves first", func() {
				tag := h.mustRelease(repoName, webProject, commitSHA("c1"), release.Alias{Alias: "main-3", Type: release.AliasTag})
				h.mustRelease(repoName, webProject, commitSHA("c2"), release.BranchAlias("main", 2))
				third := h.mustRelease(repoName, webProject, commitSHA("c3"), release.BranchAlias("main", 3))
				Expect(third.Number).To(Equal(3))
				Expect(aliasNames(third.Aliases)).To(ConsistOf("3 (numeric)", "main-3 (branch)"))
				Expect(h.mustRelease(repoName, webProject, commitSHA("c4"), release.BranchAlias("main", 4)).Number).To(Equal(4))

				found, err := h.store.FindRelease(repoName, webProject).ByAlias(h.ctx, "main-3")
				Expect(err).NotTo(HaveOccurred())
				Expect(releaseIDs(found)).To(ConsistOf(tag.ID, third.ID))
				got, err := release.Resolve(h.ctx, h.store.FindRelease(repoName, webProject), "main-3")
				Expect(err).NotTo(HaveOccurred())
				Expect(got.ID).To(Equal(tag.ID), "the tag alias comes before the branch alias")
				got, err = release.Resolve(h.ctx, h.store.FindRelease(repoName, webProject), "3")
				Expect(err).NotTo(HaveOccurred())
				Expect(got.ID).To(Equal(third.ID))
			})

			ginkgo.It("lets a tag alias take the text of an earlier branch alias; the tag resolves first", func() {
				branch := h.mustRelease(repoName, webProject, commitSHA("c1"), release.BranchAlias("main", 1))
				tag := h.mustRelease(repoName, webProject, commitSHA("c2"), release.Alias{Alias: "main-1", Type: release.AliasTag})
				Expect(aliasNames(tag.Aliases)).To(ConsistOf("2 (numeric)", "main-1 (tag)"))
				got, err := release.Resolve(h.ctx, h.store.FindRelease(repoName, webProject), "main-1")
				Expect(err).NotTo(HaveOccurred())
				Expect(got.ID).To(Equal(tag.ID))
				got, err = release.Resolve(h.ctx, h.store.FindRelease(repoName, webProject), "1")
				Expect(err).NotTo(HaveOccurred())
				Expect(got.ID).To(Equal(branch.ID))
			})

			ginkgo.It("allows the same alias on another project", func() {
				web := h.mustRelease(repoName, webProject, commitSHA("c1"), release.Alias{Alias: "v1.0.0", Type: release.AliasTag})
				api := h.mustRelease(repoName, apiProject, commitSHA("c1"), release.Alias{Alias: "v1.0.0", Type: release.AliasTag})
				other := h.mustRelease(otherRepoName, webProject, commitSHA("c1"), release.Alias{Alias: "v1.0.0", Type: release.AliasTag})

				for _, want := range []struct{ repo, project, id string }{
					{repoName, webProject, web.ID}, {repoName, apiProject, api.ID}, {otherRepoName, webProject, other.ID},
				} {
					found, err := h.store.FindRelease(want.repo, want.project).ByAlias(h.ctx, "v1.0.0")
					Expect(err).NotTo(HaveOccurred())
					Expect(found).To(HaveLen(1), "releases with the alias")
					Expect(found[0].ID).To(Equal(want.id))
				}
			})

			ginkgo.It("round-trips the run, OCI image, trigger and artifacts", func() {
				run := h.mustRun(repoName, "main", commitSHA("c1"), at(0))
				in := newRelease(repoName, webProject, commitSHA("c1"))
				in.PipelineRunID = ptr(run.ID)
				in.Trigger = &release.Trigger{
					Type:        release.TriggerTag,
					Branch:      "main",
					Tag:         "v1.2.3",
					TriggeredBy: "alice@acme.example",
					TriggeredAt: at(30 * time.Minute),
				}
				in.Artifacts = []release.Artifact{
					{Name: "api-server", Type: "container", TrackingOCIURI: "tracking.acme.example/monorepo/web/api-server:sha-1",
						TrackingOCIDigest: "sha256:" + commitSHA("t1") + commitSHA("t2")[:24], PrimaryPublishedURI: "registry.acme.example/web/api-server:v1.2.3",
						CreatedAt: at(20 * time.Minute)},
					{Name: "cli", Type: "binary", TrackingOCIURI: "tracking.acme.example/monorepo/web/cli:sha-1",
						PrimaryPublishedURI: "https://downloads.acme.example/cli/v1.2.3", CreatedAt: at(21 * time.Minute)},
				}
				created, _, err := h.store.CreateRelease(h.ctx, in)
				Expect(err).NotTo(HaveOccurred())

				got, err := h.store.GetRelease(h.ctx, created.ID)
				Expect(err).NotTo(HaveOccurred())
				Expect(got.ID).To(Equal(created.ID))
				Expect(got.Repository).To(Equal(repoName))
				Expect(got.Project).To(Equal(webProject))
				Expect(got.CommitSHA).To(Equal(commitSHA("c1")))
				Expect(got.Number).To(Equal(1))
				Expect(got.PipelineRunID).To(Equal(ptr(run.ID)))
				Expect(got.OCIURI).To(Equal(in.OCIURI))
				Expect(got.OCIDigest).To(Equal(in.OCIDigest))
				Expect(got.CreatedAt).To(beAround(at(time.Hour)))
				Expect(got.CreatedBy).To(Equal("release-bot@acme.example"))

				Expect(got.Trigger).NotTo(BeNil())
				Expect(got.Trigger.Type).To(Equal(release.TriggerTag))
				Expect(got.Trigger.Branch).To(Equal("main"))
				Expect(got.Trigger.Tag).To(Equal("v1.2.3"))
				Expect(got.Trigger.TriggeredBy).To(Equal("alice@acme.example"))
				Expect(got.Trigger.TriggeredAt).To(beAround(at(30 * time.Minute)))

				Expect(got.Artifacts).To(HaveLen(2))
				byName := map[string]release.Artifact{}
				for _, a := range got.Artifacts {
					Expect(a.ID).NotTo(BeEmpty())
					byName[a.Name] = a
				}
				for _, want := range in.Artifacts {
					a, ok := byName[want.Name]
					Expect(ok).To(BeTrue(), "artifact %s is missing", want.Name)
					Expect(a.Type).To(Equal(want.Type))
					Expect(a.TrackingOCIURI).To(Equal(want.TrackingOCIURI))
					Expect(a.TrackingOCIDigest).To(Equal(want.TrackingOCIDigest))
					Expect(a.PrimaryPublishedURI).To(Equal(want.PrimaryPublishedURI))
					Expect(a.CreatedAt).To(beAround(want.CreatedAt))
				}
			})

			ginkgo.It("saves a release made by hand: no run, no trigger, no artifacts", func() {
				created := h.mustRelease(repoName, webProject, commitSHA("c1"))
				got, err := h.store.GetRelease(h.ctx, created.ID)
				Expect(err).NotTo(HaveOccurred())
				Expect(got.PipelineRunID).To(BeNil())
				Expect(got.Trigger).To(BeNil())
				Expect(got.Artifacts).To(BeEmpty())
			})

			ginkgo.It("keeps its own copy: changing the given or a returned release changes nothing stored", func() {
				h.mustRepository(repoName)
				in := newRelease(repoName, webProject, commitSHA("c1"))
				in.Aliases = []release.Alias{{Alias: "v1", Type: release.AliasTag}}
				in.Trigger = &release.Trigger{Type: release.TriggerTag, Tag: "v1", TriggeredBy: "alice@acme.example", TriggeredAt: at(0)}
				in.Artifacts = []release.Artifact{{Name: "image", Type: "container", TrackingOCIURI: "tracking.acme.example/web/image:1",
					PrimaryPublishedURI: "registry.acme.example/web:1", CreatedAt: at(0)}}
				created, _, err := h.store.CreateRelease(h.ctx, in)
				Expect(err).NotTo(HaveOccurred())

				for _, r := range []*release.Release{in, created} {
					r.Aliases[0].Alias = "changed"
					r.Trigger.Tag = "changed"
					r.Artifacts[0].Name = "changed"
					r.Number = 42
				}
				got, err := h.store.GetRelease(h.ctx, created.ID)
				Expect(err).NotTo(HaveOccurred())
				Expect(got.Number).To(Equal(1))
				Expect(aliasNames(got.Aliases)).To(ConsistOf("1 (numeric)", "v1 (tag)"))
				Expect(got.Trigger.Tag).To(Equal("v1"))
				Expect(got.Artifacts[0].Name).To(Equal("image"))
			})
		})

		ginkgo.It("GetRelease returns NotFound for an unknown release", func() {
			h.mustRelease(repoName, webProject, commitSHA("c1"))
			_, err := h.store.GetRelease(h.ctx, uuid.NewString())
			Expect(err).To(haveKind(fault.NotFound))
		})

		ginkgo.Describe("ListReleases", func() {
			ginkgo.BeforeEach(func() {
				for i := 1; i <= 3; i++ {
					r := newRelease(repoName, webProject, commitSHA(fmt.Sprint("web ", i)))
					r.Aliases = []release.Alias{release.BranchAlias("main", i)}
					r.Artifacts = []release.Artifact{{Name: "image", Type: "container",
						TrackingOCIURI: fmt.Sprint("tracking.acme.example/web/image:", i), PrimaryPublishedURI: fmt.Sprint("registry.acme.example/web:", i),
						CreatedAt: at(time.Duration(i) * time.Minute)}}
					h.mustRepository(repoName)
					_, _, err := h.store.CreateRelease(h.ctx, r)
					Expect(err).NotTo(HaveOccurred())
				}
				h.mustRelease(repoName, apiProject, commitSHA("api 1"))
				h.mustRelease(otherRepoName, webProject, commitSHA("other web 1"))
			})

			ginkgo.It("lists a project's releases newest number first, with aliases and artifacts, and the total", func() {
				got, total, err := h.store.ListReleases(h.ctx, repoName, webProject, page(0, 0))
				Expect(err).NotTo(HaveOccurred())
				Expect(total).To(Equal(3))
				Expect(releaseNumbers(got)).To(Equal([]int{3, 2, 1}))
				for _, r := range got {
					Expect(r.Project).To(Equal(webProject))
					Expect(r.Repository).To(Equal(repoName))
					Expect(aliasNames(r.Aliases)).To(ConsistOf(fmt.Sprintf("%d (numeric)", r.Number), fmt.Sprintf("main-%d (branch)", r.Number)))
					Expect(r.Artifacts).To(HaveLen(1))
					Expect(r.Artifacts[0].TrackingOCIURI).To(Equal(fmt.Sprint("tracking.acme.example/web/image:", r.Number)))
				}
			})

			ginkgo.It("pages, the total counting every release of the project", func() {
				got, total, err := h.store.ListReleases(h.ctx, repoName, webProject, page(2, 1))
				Expect(err).NotTo(HaveOccurred())
				Expect(total).To(Equal(3))
				Expect(releaseNumbers(got)).To(Equal([]int{2, 1}))

				got, total, err = h.store.ListReleases(h.ctx, repoName, webProject, page(1, 0))
				Expect(err).NotTo(HaveOccurred())
				Expect(total).To(Equal(3))
				Expect(releaseNumbers(got)).To(Equal([]int{3}))
			})

			ginkgo.It("returns nothing for a project without releases", func() {
				got, total, err := h.store.ListReleases(h.ctx, repoName, "worker", page(0, 0))
				Expect(err).NotTo(HaveOccurred())
				Expect(total).To(Equal(0))
				Expect(got).To(BeEmpty())
			})
		})

		ginkgo.Describe("SetReleaseImage", func() {
			var unpushed *release.Release
			digest := "sha256:" + commitSHA("image") + commitSHA("image2")[:24]
			ginkgo.BeforeEach(func() {
				h.mustRepository(repoName)
				r := newRelease(repoName, webProject, commitSHA("c1"))
				r.OCIDigest = ""
				var err error
				unpushed, _, err = h.store.CreateRelease(h.ctx, r)
				Expect(err).NotTo(HaveOccurred())
				Expect(unpushed.OCIDigest).To(BeEmpty(), "a release registered before its image")
			})

			ginkgo.It("records the digest once, and again the same digest changes nothing", func() {
				got, err := h.store.SetReleaseImage(h.ctx, unpushed.ID, digest)
				Expect(err).NotTo(HaveOccurred())
				Expect(got.OCIDigest).To(Equal(digest))
				Expect(got.Number).To(Equal(unpushed.Number))
				got, err = h.store.SetReleaseImage(h.ctx, unpushed.ID, digest)
				Expect(err).NotTo(HaveOccurred())
				Expect(got.OCIDigest).To(Equal(digest))
				read, err := h.store.GetRelease(h.ctx, unpushed.ID)
				Expect(err).NotTo(HaveOccurred())
				Expect(read.OCIDigest).To(Equal(digest))
			})

			ginkgo.It("refuses another digest once one is set (Conflict), and keeps the first", func() {
				_, err := h.store.SetReleaseImage(h.ctx, unpushed.ID, digest)
				Expect(err).NotTo(HaveOccurred())
				other := "sha256:" + commitSHA("other") + commitSHA("other2")[:24]
				_, err = h.store.SetReleaseImage(h.ctx, unpushed.ID, other)
				Expect(err).To(haveKind(fault.Conflict))
				read, err := h.store.GetRelease(h.ctx, unpushed.ID)
				Expect(err).NotTo(HaveOccurred())
				Expect(read.OCIDigest).To(Equal(digest))
			})

			ginkgo.It("refuses what is not a sha256 digest (Validation) and an unknown release (NotFound)", func() {
				for _, bad := range []string{"", "sha256:abc", "md5:" + commitSHA("x"), "sha256:" + commitSHA("u") + "ABCDEF" + commitSHA("v")[:18]} {
					_, err := h.store.SetReleaseImage(h.ctx, unpushed.ID, bad)
					Expect(err).To(haveKind(fault.Validation), "digest %q", bad)
				}
				_, err := h.store.SetReleaseImage(h.ctx, uuid.NewString(), digest)
				Expect(err).To(haveKind(fault.NotFound))
				read, err := h.store.GetRelease(h.ctx, unpushed.ID)
				Expect(err).NotTo(HaveOccurred())
				Expect(read.OCIDigest).To(BeEmpty())
			})

			ginkgo.It("lets exactly one of 10 concurrent writers of different digests win", func() {
				const n = 10
				errs := make([]error, n)
				var wg sync.WaitGroup
				for i := range n {
					wg.Go(func() {
						_, errs[i] = h.store.SetReleaseImage(h.ctx, unpushed.ID, "sha256:"+commitSHA(fmt.Sprint("w", i))+commitSHA(fmt.Sprint("v", i))[:24])
					})
				}
				wg.Wait()
				won := 0
				for _, err := range errs {
					if err == nil {
						won++
					} else {
						Expect(err).To(haveKind(fault.Conflict))
					}
				}
				Expect(won).To(Equal(1))
			})
		})

		ginkgo.Describe("RunReleases", func() {
			ginkgo.It("returns the releases a run created, by project, and nothing of other runs", func() {
				run := h.mustRun(repoName, "main", commitSHA("c1"), at(0))
				other := h.mustRun(repoName, "main", commitSHA("c2"), at(time.Minute))
				for _, p := range []string{webProject, apiProject} {
					r := newRelease(repoName, p, commitSHA("c1"))
					r.PipelineRunID = &run.ID
					_, _, err := h.store.CreateRelease(h.ctx, r)
					Expect(err).NotTo(HaveOccurred())
				}
				r := newRelease(repoName, webProject, commitSHA("c2"))
				r.PipelineRunID = &other.ID
				_, _, err := h.store.CreateRelease(h.ctx, r)
				Expect(err).NotTo(HaveOccurred())
				h.mustRelease(repoName, apiProject, commitSHA("c3"))

				got, err := h.store.RunReleases(h.ctx, run.ID)
				Expect(err).NotTo(HaveOccurred())
				Expect(got).To(HaveLen(2))
				Expect([]string{got[0].Project, got[1].Project}).To(Equal([]string{apiProject, webProject}))
				Expect(aliasNames(got[0].Aliases)).To(ContainElement("1 (numeric)"))
				none, err := h.store.RunReleases(h.ctx, uuid.NewString())
				Expect(err).NotTo(HaveOccurred())
				Expect(none).To(BeEmpty())
			})
		})

		ginkgo.Describe("AddAlias", func() {
			var first, second *release.Release
			ginkgo.BeforeEach(func() {
				first = h.mustRelease(repoName, webProject, commitSHA("c1"))
				second = h.mustRelease(repoName, webProject, commitSHA("c2"))
			})

			ginkgo.It("gives a release one more alias", func() {
				Expect(h.store.AddAlias(h.ctx, second.ID, release.Alias{Alias: "stable", Type: release.AliasCustom})).To(Succeed())
				got, err := h.store.GetRelease(h.ctx, second.ID)
				Expect(err).NotTo(HaveOccurred())
				Expect(aliasNames(got.Aliases)).To(ConsistOf("2 (numeric)", "stable (custom)"))
				found, err := h.store.FindRelease(repoName, webProject).ByAlias(h.ctx, "stable")
				Expect(err).NotTo(HaveOccurred())
				Expect(found).To(HaveLen(1), "releases with the alias")
				Expect(found[0].ID).To(Equal(second.ID))
			})

			ginkgo.It("is idempotent for the same release", func() {
				a := release.Alias{Alias: "v2.0.0", Type: release.AliasTag}
				Expect(h.store.AddAlias(h.ctx, second.ID, a)).To(Succeed())
				Expect(h.store.AddAlias(h.ctx, second.ID, a)).To(Succeed())
				got, err := h.store.GetRelease(h.ctx, second.ID)
				Expect(err).NotTo(HaveOccurred())
				Expect(aliasNames(got.Aliases)).To(ConsistOf("2 (numeric)", "v2.0.0 (tag)"))
			})

			ginkgo.It("refuses an alias another release of the project has as the same kind (Conflict)", func() {
				Expect(h.store.AddAlias(h.ctx, first.ID, release.Alias{Alias: "stable", Type: release.AliasCustom})).To(Succeed())
				Expect(h.store.AddAlias(h.ctx, second.ID, release.Alias{Alias: "stable", Type: release.AliasCustom})).To(haveKind(fault.Conflict))
				Expect(h.store.AddAlias(h.ctx, second.ID, release.Alias{Alias: "1", Type: release.AliasCustom})).To(haveKind(fault.Validation))

				found, err := h.store.FindRelease(repoName, webProject).ByAlias(h.ctx, "stable")
				Expect(err).NotTo(HaveOccurred())
				Expect(found).To(HaveLen(1), "releases with the alias")
				Expect(found[0].ID).To(Equal(first.ID))
				got, err := h.store.GetRelease(h.ctx, second.ID)
				Expect(err).NotTo(HaveOccurred())
				Expect(aliasNames(got.Aliases)).To(ConsistOf("2 (numeric)"))
			})

			ginkgo.It("allows an alias that another release of the project has as another kind", func() {
				Expect(h.store.AddAlias(h.ctx, first.ID, release.Alias{Alias: "stable", Type: release.AliasCustom})).To(Succeed())
				Expect(h.store.AddAlias(h.ctx, second.ID, release.Alias{Alias: "stable", Type: release.AliasTag})).To(Succeed())
				found, err := h.store.FindRelease(repoName, webProject).ByAlias(h.ctx, "stable")
				Expect(err).NotTo(HaveOccurred())
				Expect(releaseIDs(found)).To(ConsistOf(first.ID, second.ID))
				got, err := release.Resolve(h.ctx, h.store.FindRelease(repoName, webProject), "stable")
				Expect(err).NotTo(HaveOccurred())
				Expect(got.ID).To(Equal(second.ID), "a tag alias comes before a custom alias")
			})

			ginkgo.It("refuses one release the same text as a second kind of alias (Conflict)", func() {
				Expect(h.store.AddAlias(h.ctx, second.ID, release.Alias{Alias: "stable", Type: release.AliasCustom})).To(Succeed())
				Expect(h.store.AddAlias(h.ctx, second.ID, release.Alias{Alias: "stable", Type: release.AliasTag})).To(haveKind(fault.Conflict))
				got, err := h.store.GetRelease(h.ctx, second.ID)
				Expect(err).NotTo(HaveOccurred())
				Expect(aliasNames(got.Aliases)).To(ConsistOf("2 (numeric)", "stable (custom)"))
			})

			ginkgo.It("refuses a numeric alias that is not the release's number (Validation)", func() {
				Expect(h.store.AddAlias(h.ctx, first.ID, release.NumericAlias(2))).To(haveKind(fault.Validation))
				Expect(h.store.AddAlias(h.ctx, first.ID, release.NumericAlias(1))).To(Succeed())
				got, err := release.Resolve(h.ctx, h.store.FindRelease(repoName, webProject), "2")
				Expect(err).NotTo(HaveOccurred())
				Expect(got.ID).To(Equal(second.ID))
			})

			ginkgo.It("allows an alias that a release of another project has", func() {
				api := h.mustRelease(repoName, apiProject, commitSHA("c1"))
				Expect(h.store.AddAlias(h.ctx, first.ID, release.Alias{Alias: "stable", Type: release.AliasCustom})).To(Succeed())
				Expect(h.store.AddAlias(h.ctx, api.ID, release.Alias{Alias: "stable", Type: release.AliasCustom})).To(Succeed())
				found, err := h.store.FindRelease(repoName, apiProject).ByAlias(h.ctx, "stable")
				Expect(err).NotTo(HaveOccurred())
				Expect(found).To(HaveLen(1), "releases with the alias")
				Expect(found[0].ID).To(Equal(api.ID))
			})

			ginkgo.It("returns NotFound for an unknown release", func() {
				err := h.store.AddAlias(h.ctx, uuid.NewString(), release.Alias{Alias: "stable", Type: release.AliasCustom})
				Expect(err).To(haveKind(fault.NotFound))
			})
		})
	})
}

// releaseIDs returns the IDs of rs.
func releaseIDs(rs []*release.Release) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

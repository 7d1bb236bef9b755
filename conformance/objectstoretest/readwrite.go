package objectstoretest

import (
	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
)

const octetStream = "application/octet-stream"

func describeReadWrite(h *harness) {
	ginkgo.Describe("Put and Get", func() {
		ginkgo.It("round-trips binary content, every byte value included", func() {
			content := make([]byte, 0, 4*256)
			for range 4 {
				for b := range 256 {
					content = append(content, byte(b))
				}
			}
			info := h.put("blobs/binary.bin", content, "")
			Expect(info.Key).To(Equal("blobs/binary.bin"))
			Expect(info.Size).To(Equal(int64(len(content))))
			Expect(info.ContentType).To(Equal(octetStream))

			body, got := h.get("blobs/binary.bin", 0)
			Expect(body).To(Equal(content))
			Expect(got.Key).To(Equal("blobs/binary.bin"))
			Expect(got.Size).To(Equal(int64(len(content))))
		})

		ginkgo.It("round-trips a few megabytes from a reader of unknown length", func() {
			content := randomBytes(1, 3<<20+12345)
			info := h.put("blobs/large.bin", content, "")
			Expect(info.Size).To(Equal(int64(len(content))))

			body, got := h.get("blobs/large.bin", 0)
			Expect(body).To(equalBytes(content))
			Expect(got.Size).To(Equal(int64(len(content))))
		})

		ginkgo.It("stores an empty object", func() {
			info := h.put("blobs/empty", nil, "")
			Expect(info.Size).To(BeZero())

			body, got := h.get("blobs/empty", 0)
			Expect(body).To(BeEmpty())
			Expect(got.Size).To(BeZero())
			st, err := h.store.Stat(h.ctx, "blobs/empty")
			Expect(err).NotTo(HaveOccurred())
			Expect(st.Size).To(BeZero())
			Expect(h.keys("blobs/")).To(Equal([]string{"blobs/empty"}))
		})

		ginkgo.It("keeps the content type, application/octet-stream by default", func() {
			h.put("docs/readme.txt", []byte("hello"), "text/plain; charset=utf-8")
			h.put("docs/raw", []byte("raw"), "")

			_, got := h.get("docs/readme.txt", 0)
			Expect(got.ContentType).To(Equal("text/plain; charset=utf-8"))
			st, err := h.store.Stat(h.ctx, "docs/readme.txt")
			Expect(err).NotTo(HaveOccurred())
			Expect(st.ContentType).To(Equal("text/plain; charset=utf-8"))

			_, got = h.get("docs/raw", 0)
			Expect(got.ContentType).To(Equal(octetStream))
			st, err = h.store.Stat(h.ctx, "docs/raw")
			Expect(err).NotTo(HaveOccurred())
			Expect(st.ContentType).To(Equal(octetStream))
		})

		ginkgo.It("replaces an object, content type and size included", func() {
			h.put("runs/r1/result.json", []byte("the first, longer version of the object"), "text/plain")
			info := h.put("runs/r1/result.json", []byte(`{"v":2}`), "application/json")
			Expect(info.Size).To(Equal(int64(7)))
			Expect(info.ContentType).To(Equal("application/json"))

			body, got := h.get("runs/r1/result.json", 0)
			Expect(string(body)).To(Equal(`{"v":2}`))
			Expect(got.Size).To(Equal(int64(7)))
			Expect(got.ContentType).To(Equal("application/json"))
			Expect(h.keys("runs/")).To(Equal([]string{"runs/r1/result.json"}))
		})

		ginkgo.It("is idempotent: the same Put twice leaves the same object", func() {
			h.put("runs/r1/log", []byte("line 1\n"), "text/plain")
			h.put("runs/r1/log", []byte("line 1\n"), "text/plain")
			body, got := h.get("runs/r1/log", 0)
			Expect(string(body)).To(Equal("line 1\n"))
			Expect(got.ContentType).To(Equal("text/plain"))
			Expect(h.keys("")).To(Equal([]string{"runs/r1/log"}))
		})

		ginkgo.It("reads from an offset: the middle, exactly the end and past the end", func() {
			content := []byte("0123456789abcdefghijklmnopqrstuvwxyz")
			size := int64(len(content))
			h.put("logs/step.log", content, "text/plain")

			body, got := h.get("logs/step.log", 10)
			Expect(string(body)).To(Equal("abcdefghijklmnopqrstuvwxyz"))
			Expect(got.Size).To(Equal(size), "Size describes the object, not the part read")
			Expect(got.ContentType).To(Equal("text/plain"))

			body, got = h.get("logs/step.log", size-1)
			Expect(string(body)).To(Equal("z"))
			Expect(got.Size).To(Equal(size))

			body, got = h.get("logs/step.log", size)
			Expect(body).To(BeEmpty())
			Expect(got.Size).To(Equal(size))

			body, got = h.get("logs/step.log", size+1000)
			Expect(body).To(BeEmpty())
			Expect(got.Size).To(Equal(size))
		})

		ginkgo.It("reads an offset of a large object", func() {
			content := randomBytes(2, 1<<20+77)
			h.put("logs/large.log", content, "")
			body, _ := h.get("logs/large.log", 1<<19+3)
			Expect(body).To(equalBytes(content[1<<19+3:]))
		})

		ginkgo.It("reads an empty object from an offset past its end", func() {
			h.put("logs/empty.log", nil, "")
			body, got := h.get("logs/empty.log", 5)
			Expect(body).To(BeEmpty())
			Expect(got.Size).To(BeZero())
		})

		ginkgo.It("refuses a negative offset as a Validation error", func() {
			h.put("logs/step.log", []byte("x"), "")
			rc, _, err := h.store.Get(h.ctx, "logs/step.log", -1)
			Expect(err).To(haveKind(fault.Validation))
			Expect(rc).To(BeNil())
		})
	})

	ginkgo.Describe("Stat", func() {
		ginkgo.It("describes an object: key, size, content type and a recent modification time", func() {
			info := h.put("artifacts/api/sbom.json", []byte(`{"sbom":true}`), "application/json")
			Expect(info.ModTime).To(beRecent())

			st, err := h.store.Stat(h.ctx, "artifacts/api/sbom.json")
			Expect(err).NotTo(HaveOccurred())
			Expect(st.Key).To(Equal("artifacts/api/sbom.json"))
			Expect(st.Size).To(Equal(int64(13)))
			Expect(st.ContentType).To(Equal("application/json"))
			Expect(st.ModTime).To(beRecent())
		})
	})

	ginkgo.Describe("missing objects", func() {
		ginkgo.It("answers NotFound from Get and Stat", func() {
			rc, _, err := h.store.Get(h.ctx, "nothing/here", 0)
			Expect(err).To(haveKind(fault.NotFound))
			Expect(rc).To(BeNil())
			_, err = h.store.Stat(h.ctx, "nothing/here")
			Expect(err).To(haveKind(fault.NotFound))
		})

		ginkgo.It("answers NotFound for a key that is only a prefix of other keys", func() {
			h.put("a/b/c", []byte("c"), "")
			for _, key := range []string{"a", "a/b"} {
				_, _, err := h.store.Get(h.ctx, key, 0)
				Expect(err).To(haveKind(fault.NotFound), "Get %q", key)
				_, err = h.store.Stat(h.ctx, key)
				Expect(err).To(haveKind(fault.NotFound), "Stat %q", key)
			}
		})

		ginkgo.It("answers NotFound for a key below an object", func() {
			h.put("a/b", []byte("b"), "")
			_, _, err := h.store.Get(h.ctx, "a/b/c", 0)
			Expect(err).To(haveKind(fault.NotFound))
			_, err = h.store.Stat(h.ctx, "a/b/c")
			Expect(err).To(haveKind(fault.NotFound))
		})
	})

	ginkgo.Describe("Delete", func() {
		ginkgo.It("removes an object, and is idempotent", func() {
			h.put("tmp/obj", []byte("x"), "")
			Expect(h.store.Delete(h.ctx, "tmp/obj")).To(Succeed())
			_, err := h.store.Stat(h.ctx, "tmp/obj")
			Expect(err).To(haveKind(fault.NotFound))
			_, _, err = h.store.Get(h.ctx, "tmp/obj", 0)
			Expect(err).To(haveKind(fault.NotFound))
			Expect(h.keys("")).To(BeEmpty())

			Expect(h.store.Delete(h.ctx, "tmp/obj")).To(Succeed(), "deleting again")
			Expect(h.store.Delete(h.ctx, "never/was")).To(Succeed(), "deleting a key never stored")
		})

		ginkgo.It("removes only the object at the key, not its neighbours", func() {
			h.put("d/one", []byte("1"), "")
			h.put("d/one-more", []byte("2"), "")
			h.put("d/x/one", []byte("3"), "")
			Expect(h.store.Delete(h.ctx, "d/one")).To(Succeed())
			Expect(h.keys("")).To(Equal([]string{"d/one-more", "d/x/one"}))
			Expect(h.store.Delete(h.ctx, "d/x")).To(Succeed(), "a prefix of a key is not an object")
			Expect(h.keys("")).To(Equal([]string{"d/one-more", "d/x/one"}))
		})

		ginkgo.It("lets the key be stored again", func() {
			h.put("re/used", []byte("old"), "text/plain")
			Expect(h.store.Delete(h.ctx, "re/used")).To(Succeed())
			h.put("re/used", []byte("new"), "")
			body, got := h.get("re/used", 0)
			Expect(string(body)).To(Equal("new"))
			Expect(got.ContentType).To(Equal(octetStream))
		})
	})

	ginkgo.Describe("failed writes", func() {
		ginkgo.It("leaves the old object whole when the reader fails midway", func() {
			old := randomBytes(3, 300<<10)
			h.put("w/obj", old, "application/x-old")

			failing := failAfter(randomBytes(4, 1<<20), 200<<10)
			_, err := h.store.Put(h.ctx, "w/obj", failing, ports.PutOptions{ContentType: "application/x-new"})
			Expect(err).To(HaveOccurred())

			body, got := h.get("w/obj", 0)
			Expect(body).To(equalBytes(old))
			Expect(got.ContentType).To(Equal("application/x-old"))
			Expect(h.keys("")).To(Equal([]string{"w/obj"}))
		})

		ginkgo.It("stores nothing when the reader of a new key fails", func() {
			_, err := h.store.Put(h.ctx, "w/new", failAfter(randomBytes(5, 64<<10), 10<<10), ports.PutOptions{})
			Expect(err).To(HaveOccurred())
			_, err = h.store.Stat(h.ctx, "w/new")
			Expect(err).To(haveKind(fault.NotFound))
			Expect(h.keys("")).To(BeEmpty())
		})

		ginkgo.It("stores nothing when the context is already cancelled", func() {
			ctx, cancel := contextCancelled(h.ctx)
			defer cancel()
			_, err := h.store.Put(ctx, "w/cancelled", opaque([]byte("x")), ports.PutOptions{})
			Expect(err).To(HaveOccurred())
			_, err = h.store.Stat(h.ctx, "w/cancelled")
			Expect(err).To(haveKind(fault.NotFound))
		})
	})
}

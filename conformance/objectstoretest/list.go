package objectstoretest

import (
	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/catalyst-forge/forge/ports"
)

// listKeys share prefixes in ways that catch a walk of directories in
// name order: "a/b!" sorts before "a/b/c" ('!' < '/') and "a/b0" after it
// ('0' > '/'). No key is a prefix-directory of another (see nestedKeys).
var listKeys = []string{"b/x", "a/é", "ab", "a/c/d", "a/bc", "a/b0", "a/b!", "a/b/d", "a/b/c", "a-b"}

// listOrder is listKeys in byte-wise key order.
var listOrder = []string{"a-b", "a/b!", "a/b/c", "a/b/d", "a/b0", "a/bc", "a/c/d", "a/é", "ab", "b/x"}

func describeList(h *harness) {
	ginkgo.Describe("List", func() {
		fill := func() {
			for _, k := range listKeys {
				h.put(k, []byte("content of "+k), "text/plain")
			}
		}

		list := func(prefix, after string, limit int) ([]string, bool) {
			ginkgo.GinkgoHelper()
			objs, more, err := h.store.List(h.ctx, prefix, after, limit)
			Expect(err).NotTo(HaveOccurred(), "List(%q, %q, %d)", prefix, after, limit)
			return keysOf(objs), more
		}

		ginkgo.It("lists nothing in an empty store", func() {
			got, more := list("", "", 0)
			Expect(got).To(BeEmpty())
			Expect(more).To(BeFalse())
		})

		ginkgo.It("lists every object in byte-wise key order, with its size", func() {
			fill()
			objs, more, err := h.store.List(h.ctx, "", "", 0)
			Expect(err).NotTo(HaveOccurred())
			Expect(more).To(BeFalse())
			Expect(keysOf(objs)).To(Equal(listOrder))
			for _, o := range objs {
				Expect(o.Size).To(Equal(int64(len("content of "+o.Key))), "size of %q", o.Key)
				Expect(o.ModTime).To(beRecent(), "modification time of %q", o.Key)
			}
		})

		ginkgo.DescribeTable("selects by prefix, at a slash boundary or not",
			func(prefix string, want []string) {
				fill()
				got, more := list(prefix, "", 0)
				Expect(got).To(Equal(want))
				Expect(more).To(BeFalse())
			},
			ginkgo.Entry("a prefix inside a segment", "a/b", []string{"a/b!", "a/b/c", "a/b/d", "a/b0", "a/bc"}),
			ginkgo.Entry("a prefix ending at a slash", "a/b/", []string{"a/b/c", "a/b/d"}),
			ginkgo.Entry("a one-letter prefix", "a", []string{"a-b", "a/b!", "a/b/c", "a/b/d", "a/b0", "a/bc", "a/c/d", "a/é", "ab"}),
			ginkgo.Entry("a directory-like prefix", "a/", []string{"a/b!", "a/b/c", "a/b/d", "a/b0", "a/bc", "a/c/d", "a/é"}),
			ginkgo.Entry("a whole key", "a/b/c", []string{"a/b/c"}),
			ginkgo.Entry("a prefix nothing has", "zzz", []string(nil)),
			ginkgo.Entry("a prefix below an object", "a/b/c/", []string(nil)),
		)

		ginkgo.DescribeTable("starts after a key, exclusive, whether or not it is stored",
			func(prefix, after string, want []string) {
				fill()
				got, more := list(prefix, after, 0)
				Expect(got).To(Equal(want))
				Expect(more).To(BeFalse())
			},
			ginkgo.Entry("a stored key", "", "a/b/c", []string{"a/b/d", "a/b0", "a/bc", "a/c/d", "a/é", "ab", "b/x"}),
			ginkgo.Entry("a directory-like key", "", "a/b/", []string{"a/b/c", "a/b/d", "a/b0", "a/bc", "a/c/d", "a/é", "ab", "b/x"}),
			ginkgo.Entry("a key that is not stored", "", "a/b", []string{"a/b!", "a/b/c", "a/b/d", "a/b0", "a/bc", "a/c/d", "a/é", "ab", "b/x"}),
			ginkgo.Entry("a key inside the prefix", "a/b", "a/b/c", []string{"a/b/d", "a/b0", "a/bc"}),
			ginkgo.Entry("a key before the prefix", "b", "0", []string{"b/x"}),
			ginkgo.Entry("a key after the prefix", "a/b", "a/c", []string(nil)),
			ginkgo.Entry("the last key", "", "b/x", []string(nil)),
			ginkgo.Entry("a key after every key", "", "zzz", []string(nil)),
		)

		ginkgo.DescribeTable("pages through the objects with at most limit per page",
			func(prefix string, limit int, wantPages [][]string) {
				fill()
				var pages [][]string
				after := ""
				for range len(wantPages) + 1 {
					got, more := list(prefix, after, limit)
					Expect(len(got)).To(BeNumerically("<=", limit), "page %d", len(pages)+1)
					pages = append(pages, got)
					if !more {
						break
					}
					Expect(got).NotTo(BeEmpty(), "an empty page with more to come")
					after = got[len(got)-1]
				}
				Expect(pages).To(Equal(wantPages))
			},
			ginkgo.Entry("limit 3, a short last page", "", 3, [][]string{
				{"a-b", "a/b!", "a/b/c"}, {"a/b/d", "a/b0", "a/bc"}, {"a/c/d", "a/é", "ab"}, {"b/x"}}),
			ginkgo.Entry("limit 5, the last page full and no more", "", 5, [][]string{
				{"a-b", "a/b!", "a/b/c", "a/b/d", "a/b0"}, {"a/bc", "a/c/d", "a/é", "ab", "b/x"}}),
			ginkgo.Entry("limit 1", "a/b", 1, [][]string{{"a/b!"}, {"a/b/c"}, {"a/b/d"}, {"a/b0"}, {"a/bc"}}),
			ginkgo.Entry("limit 2 under a prefix", "a/", 2, [][]string{
				{"a/b!", "a/b/c"}, {"a/b/d", "a/b0"}, {"a/bc", "a/c/d"}, {"a/é"}}),
			ginkgo.Entry("a limit above the count", "", 100, [][]string{listOrder}),
		)

		ginkgo.It("reads limit 0 as 1000", func() {
			fill()
			got, more := list("", "", 0)
			Expect(got).To(Equal(listOrder))
			Expect(more).To(BeFalse())
		})

		ginkgo.It("stops listing deleted objects and lists replaced ones once", func() {
			fill()
			Expect(h.store.Delete(h.ctx, "a/b/c")).To(Succeed())
			Expect(h.store.Delete(h.ctx, "b/x")).To(Succeed())
			h.put("a/bc", []byte("replaced"), "")
			got, _ := list("", "", 0)
			Expect(got).To(Equal([]string{"a-b", "a/b!", "a/b/d", "a/b0", "a/bc", "a/c/d", "a/é", "ab"}))
		})
	})
}

// nestedKeys hold an object at a key and objects below it ("a/b" and
// "a/b/c"), which filesystem-backed S3 servers cannot store.
var nestedKeys = []string{"a/b/c/d", "a", "a/b", "a/bc", "a/b!", "a/b/c"}

// nestedOrder is nestedKeys in byte-wise key order.
var nestedOrder = []string{"a", "a/b", "a/b!", "a/b/c", "a/b/c/d", "a/bc"}

func describeNested(h *harness) {
	ginkgo.Describe("nested keys", func() {
		ginkgo.BeforeEach(func() {
			for _, k := range nestedKeys {
				h.putNested(k, []byte("content of "+k))
			}
		})

		ginkgo.It("keeps an object and the objects below its key side by side", func() {
			for _, k := range nestedKeys {
				body, _ := h.get(k, 0)
				Expect(string(body)).To(Equal("content of "+k), "Get %q", k)
			}
		})

		ginkgo.It("lists them in key order, by prefix and after a key", func() {
			Expect(h.keys("")).To(Equal(nestedOrder))
			Expect(h.keys("a/b")).To(Equal([]string{"a/b", "a/b!", "a/b/c", "a/b/c/d", "a/bc"}))
			Expect(h.keys("a/b/")).To(Equal([]string{"a/b/c", "a/b/c/d"}))

			objs, more, err := h.store.List(h.ctx, "a/b", "a/b", 2)
			Expect(err).NotTo(HaveOccurred())
			Expect(keysOf(objs)).To(Equal([]string{"a/b!", "a/b/c"}))
			Expect(more).To(BeTrue())
			objs, more, err = h.store.List(h.ctx, "a/b", "a/b/c", 2)
			Expect(err).NotTo(HaveOccurred())
			Expect(keysOf(objs)).To(Equal([]string{"a/b/c/d", "a/bc"}))
			Expect(more).To(BeFalse())
		})

		ginkgo.It("pages through them one at a time", func() {
			var got []string
			after := ""
			for range len(nestedOrder) + 1 {
				objs, more, err := h.store.List(h.ctx, "", after, 1)
				Expect(err).NotTo(HaveOccurred())
				Expect(len(objs)).To(BeNumerically("<=", 1))
				got = append(got, keysOf(objs)...)
				if !more {
					break
				}
				after = objs[0].Key
			}
			Expect(got).To(Equal(nestedOrder))
		})

		ginkgo.It("deletes the outer object without touching the inner ones, and the reverse", func() {
			Expect(h.store.Delete(h.ctx, "a/b")).To(Succeed())
			Expect(h.keys("")).To(Equal([]string{"a", "a/b!", "a/b/c", "a/b/c/d", "a/bc"}))
			Expect(h.store.Delete(h.ctx, "a/b/c")).To(Succeed())
			Expect(h.store.Delete(h.ctx, "a/b/c/d")).To(Succeed())
			Expect(h.keys("")).To(Equal([]string{"a", "a/b!", "a/bc"}))
			h.put("a/b", []byte("again"), "")
			body, _ := h.get("a/b", 0)
			Expect(string(body)).To(Equal("again"))
		})
	})
}

func keysOf(objs []ports.ObjectInfo) []string {
	var keys []string
	for _, o := range objs {
		keys = append(keys, o.Key)
	}
	return keys
}

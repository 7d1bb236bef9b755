package objectstoretest

import (
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
)

// longKey is a valid key of 903 bytes in nine segments: long, but short
// enough for a store that adds its own prefix and keeps segments as file
// names.
var longKey = strings.Repeat(strings.Repeat("s", 99)+"/", 9) + "end"

func describeKeys(h *harness) {
	ginkgo.Describe("key validation", func() {
		ginkgo.DescribeTable("answers Validation from every method, and stores nothing, for",
			func(key string) {
				_, err := h.store.Put(h.ctx, key, opaque([]byte("x")), ports.PutOptions{})
				Expect(err).To(haveKind(fault.Validation), "Put")
				rc, _, err := h.store.Get(h.ctx, key, 0)
				Expect(err).To(haveKind(fault.Validation), "Get")
				Expect(rc).To(BeNil(), "Get")
				_, err = h.store.Stat(h.ctx, key)
				Expect(err).To(haveKind(fault.Validation), "Stat")
				Expect(h.store.Delete(h.ctx, key)).To(haveKind(fault.Validation), "Delete")
				url, err := h.store.PresignGet(h.ctx, key, time.Minute)
				Expect(err).To(haveKind(fault.Validation), "PresignGet")
				Expect(url).To(BeEmpty(), "PresignGet")
				Expect(h.keys("")).To(BeEmpty())
			},
			ginkgo.Entry("an empty key", ""),
			ginkgo.Entry("a leading slash", "/a/b"),
			ginkgo.Entry("a lone slash", "/"),
			ginkgo.Entry("a trailing slash (an empty last segment)", "a/b/"),
			ginkgo.Entry("an empty segment", "a//b"),
			ginkgo.Entry("a '..' segment", "a/../b"),
			ginkgo.Entry("a leading '..' segment", "../etc/passwd"),
			ginkgo.Entry("a trailing '..' segment", "a/.."),
			ginkgo.Entry("the key '..'", ".."),
			ginkgo.Entry("a '.' segment", "a/./b"),
			ginkgo.Entry("the key '.'", "."),
			ginkgo.Entry("a backslash", `a\b`),
			ginkgo.Entry("a backslash path", `..\..\etc\passwd`),
			ginkgo.Entry("a NUL byte", "a\x00b"),
			ginkgo.Entry("1025 bytes in one segment", strings.Repeat("k", 1025)),
			ginkgo.Entry("1025 bytes in many segments", strings.Repeat("abc/", 256)+"x"),
		)
	})

	ginkgo.Describe("valid keys", func() {
		ginkgo.It("stores, reads, lists and deletes keys with unusual but valid names", func() {
			keys := []string{
				".hidden",
				"a/.b/..c/...",
				"a..b/c.",
				"dots.d/name.o",
				"name.o",
				"name.ho",
				"name.tmp",
				"spaces and symbols/%41+?#&=;,@!$'()*[]~",
				"ünïcödé/日本語/ключ",
				"pipeline-runs/0b6c7f7e-1d2a-4a55-9c3e-2f1f0f6a8d11/logs/test/services/api/unit.log",
				longKey,
			}
			for _, key := range keys {
				h.put(key, []byte("content of "+key), "text/plain")
			}
			for _, key := range keys {
				body, info := h.get(key, 0)
				Expect(string(body)).To(Equal("content of "+key), "Get %q", key)
				Expect(info.Key).To(Equal(key))
				st, err := h.store.Stat(h.ctx, key)
				Expect(err).NotTo(HaveOccurred(), "Stat %q", key)
				Expect(st.Size).To(Equal(int64(len("content of " + key))))
				objs, _, err := h.store.List(h.ctx, key, "", 1)
				Expect(err).NotTo(HaveOccurred(), "List %q", key)
				Expect(objs).To(HaveLen(1), "List %q", key)
				Expect(objs[0].Key).To(Equal(key))
				url, err := h.store.PresignGet(h.ctx, key, time.Minute)
				Expect(err).NotTo(HaveOccurred(), "PresignGet %q", key)
				Expect(url).NotTo(BeEmpty())
			}
			Expect(h.keys("")).To(ConsistOf(keys))
			for _, key := range keys {
				Expect(h.store.Delete(h.ctx, key)).To(Succeed(), "Delete %q", key)
			}
			Expect(h.keys("")).To(BeEmpty())
		})
	})
}

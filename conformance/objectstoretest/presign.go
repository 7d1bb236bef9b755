package objectstoretest

import (
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// download fetches url with a plain client and no credentials.
func download(url string) (status int, body []byte, header http.Header) {
	ginkgo.GinkgoHelper()
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Get(url)
	Expect(err).NotTo(HaveOccurred(), "GET %s", url)
	defer func() { _ = resp.Body.Close() }()
	body, err = io.ReadAll(resp.Body)
	Expect(err).NotTo(HaveOccurred(), "reading GET %s", url)
	return resp.StatusCode, body, resp.Header
}

func describePresign(h *harness) {
	ginkgo.Describe("PresignGet", func() {
		ginkgo.It("returns a URL that downloads the object without credentials", func() {
			content := randomBytes(300, 200<<10)
			h.put("artifacts/api/image.tar", content, "application/x-tar")

			url, err := h.store.PresignGet(h.ctx, "artifacts/api/image.tar", time.Minute)
			Expect(err).NotTo(HaveOccurred())
			status, body, header := download(url)
			Expect(status).To(Equal(http.StatusOK))
			Expect(body).To(equalBytes(content))
			Expect(header.Get("Content-Type")).To(Equal("application/x-tar"))
			Expect(header.Get("Content-Length")).To(Equal("204800"))
		})

		ginkgo.It("works for keys with spaces, symbols and non-ASCII letters", func() {
			key := "reports/ünï cödé/a b+c%20d?e#f&g=h.txt"
			h.put(key, []byte("report"), "text/plain")
			url, err := h.store.PresignGet(h.ctx, key, time.Minute)
			Expect(err).NotTo(HaveOccurred())
			status, body, _ := download(url)
			Expect(status).To(Equal(http.StatusOK))
			Expect(string(body)).To(Equal("report"))
		})

		ginkgo.It("serves the object as it is when the link is used, not when it was made", func() {
			h.put("logs/live.log", []byte("first"), "text/plain")
			url, err := h.store.PresignGet(h.ctx, "logs/live.log", time.Minute)
			Expect(err).NotTo(HaveOccurred())
			h.put("logs/live.log", []byte("second"), "text/plain")
			status, body, _ := download(url)
			Expect(status).To(Equal(http.StatusOK))
			Expect(string(body)).To(Equal("second"))
		})

		ginkgo.It("gives a link to a missing object that does not download", func() {
			url, err := h.store.PresignGet(h.ctx, "not/stored", time.Minute)
			Expect(err).NotTo(HaveOccurred())
			status, _, _ := download(url)
			Expect(status).To(BeNumerically(">=", 400))
		})

		ginkgo.It("gives a link that cannot be pointed at another key", func() {
			h.put("presign/one", []byte("one"), "")
			h.put("presign/two", []byte("two"), "")
			url, err := h.store.PresignGet(h.ctx, "presign/one", time.Minute)
			Expect(err).NotTo(HaveOccurred())
			if !strings.Contains(url, "presign/one") {
				ginkgo.Skip("the link does not name its key in clear, so it cannot be edited to another")
			}
			status, body, _ := download(strings.Replace(url, "presign/one", "presign/two", 1))
			Expect(status).To(BeNumerically(">=", 400))
			Expect(string(body)).NotTo(Equal("two"))
		})

		ginkgo.It("gives a link that stops working after its ttl", func() {
			h.put("presign/short", []byte("short-lived"), "")
			url, err := h.store.PresignGet(h.ctx, "presign/short", time.Second)
			Expect(err).NotTo(HaveOccurred())
			// Links carry their expiry in whole seconds, so a 1 s link
			// may live up to 2 s; S3's lives at most 1 s.
			time.Sleep(2500 * time.Millisecond)
			status, body, _ := download(url)
			Expect(status).To(BeNumerically(">=", 400), "the link still works after its ttl")
			Expect(string(body)).NotTo(Equal("short-lived"))
		})
	})
}

package objectstoretest

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/catalyst-forge/forge/ports"
)

func describeConcurrency(h *harness) {
	ginkgo.Describe("concurrent use", func() {
		ginkgo.It("leaves one writer's whole object, content type included, after concurrent Puts to one key", func() {
			const writers, size = 20, 256 << 10
			contents := make([][]byte, writers)
			versions := map[[32]byte]int{}
			for i := range contents {
				contents[i] = randomBytes(uint64(100+i), size)
				versions[digest(contents[i])] = i
			}

			var wg sync.WaitGroup
			errs := make(chan error, writers)
			start := make(chan struct{})
			for i := range writers {
				wg.Add(1)
				go func() {
					defer ginkgo.GinkgoRecover()
					defer wg.Done()
					<-start
					_, err := h.store.Put(h.ctx, "race/obj", opaque(contents[i]), ports.PutOptions{ContentType: writerType(i)})
					if err != nil {
						errs <- fmt.Errorf("writer %d: %w", i, err)
					}
				}()
			}
			close(start)
			wg.Wait()
			close(errs)
			for err := range errs {
				Expect(err).NotTo(HaveOccurred())
			}

			body, info := h.get("race/obj", 0)
			i, ok := versions[digest(body)]
			Expect(ok).To(BeTrue(), "the object (%d bytes) is no writer's content: a mix or a part", len(body))
			Expect(info.Size).To(Equal(int64(size)))
			Expect(info.ContentType).To(Equal(writerType(i)), "the content type comes from another writer than the content")
			st, err := h.store.Stat(h.ctx, "race/obj")
			Expect(err).NotTo(HaveOccurred())
			Expect(st.ContentType).To(Equal(writerType(i)))
			Expect(h.keys("")).To(Equal([]string{"race/obj"}))
		})

		ginkgo.It("shows readers the old or the new object whole while a slow Put runs", func() {
			old := randomBytes(200, 384<<10)
			updated := randomBytes(201, 640<<10)
			kinds := map[[32]byte]string{digest(old): "application/x-old", digest(updated): "application/x-new"}
			h.put("race/read", old, "application/x-old")

			done := make(chan struct{})
			var wg sync.WaitGroup
			var reads atomic.Int64
			errs := make(chan error, 8)
			for r := range 4 {
				wg.Add(1)
				go func() {
					defer ginkgo.GinkgoRecover()
					defer wg.Done()
					for {
						if err := readWhole(h, "race/read", kinds); err != nil {
							errs <- fmt.Errorf("reader %d: %w", r, err)
							return
						}
						reads.Add(1)
						select {
						case <-done:
							return
						default:
						}
					}
				}()
			}

			for i := range 3 {
				content, ct := updated, "application/x-new"
				if i%2 == 1 {
					content, ct = old, "application/x-old"
				}
				_, err := h.store.Put(h.ctx, "race/read", slowReader(content, 32<<10, 3*time.Millisecond), ports.PutOptions{ContentType: ct})
				Expect(err).NotTo(HaveOccurred(), "Put %d", i)
			}
			close(done)
			wg.Wait()
			close(errs)
			for err := range errs {
				Expect(err).NotTo(HaveOccurred())
			}
			Expect(reads.Load()).To(BeNumerically(">=", 4), "the readers read")

			body, info := h.get("race/read", 0)
			Expect(body).To(equalBytes(updated))
			Expect(info.ContentType).To(Equal("application/x-new"))
		})
	})
}

func writerType(i int) string { return fmt.Sprintf("application/x-writer-%d", i) }

// readWhole reads key once and checks that it is one of the known versions,
// with that version's content type and size.
func readWhole(h *harness, key string, kinds map[[32]byte]string) error {
	rc, info, err := h.store.Get(h.ctx, key, 0)
	if err != nil {
		return err
	}
	defer func() { _ = rc.Close() }()
	body, err := io.ReadAll(rc)
	if err != nil {
		return err
	}
	ct, ok := kinds[digest(body)]
	switch {
	case !ok:
		return fmt.Errorf("read %d bytes that are neither the old nor the new object", len(body))
	case info.ContentType != ct:
		return fmt.Errorf("content of %s with content type %s", ct, info.ContentType)
	case info.Size != int64(len(body)):
		return fmt.Errorf("Size %d for a body of %d bytes", info.Size, len(body))
	}
	return nil
}

// slowReader yields content in chunks with a pause before each, as an
// upload over a slow network, and hides its length.
func slowReader(content []byte, chunk int, pause time.Duration) io.Reader {
	return &slow{r: bytes.NewReader(content), chunk: chunk, pause: pause}
}

type slow struct {
	r     *bytes.Reader
	chunk int
	pause time.Duration
}

func (s *slow) Read(p []byte) (int, error) {
	if s.r.Len() == 0 {
		return 0, io.EOF
	}
	time.Sleep(s.pause)
	if len(p) > s.chunk {
		p = p[:s.chunk]
	}
	return s.r.Read(p)
}

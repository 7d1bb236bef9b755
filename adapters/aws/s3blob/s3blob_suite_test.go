package s3blob_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/catalyst-forge/forge/adapters/aws/s3blob"
	"github.com/catalyst-forge/forge/conformance/objectstoretest"
	"github.com/catalyst-forge/forge/ports"
)

func TestS3BlobConformance(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "s3blob")
}

// With a server: one fresh bucket for the run, made in BeforeSuite and
// emptied and deleted after it; each spec gets a store on its own prefix
// of that bucket, emptied when the spec ends.
var _ = func() bool {
	if !haveServer() {
		return Describe("ObjectStore conformance: s3blob", func() {
			It("runs against an S3-compatible server", func() { Skip(skipServer) }) // set FORGE_TEST_S3_ENDPOINT
		})
	}
	return objectstoretest.Describe("s3blob", conformanceStore,
		objectstoretest.NestedKeysMayConflict("S3 servers that keep objects as files, such as versitygw's POSIX backend and MinIO, cannot hold a/b and a/b/c together"))
}()

var suiteBucket string

var _ = BeforeSuite(func() {
	if !haveServer() {
		return
	}
	bucket, drop, err := createTestBucket(context.Background())
	Expect(err).NotTo(HaveOccurred(), "creating the run's bucket")
	suiteBucket = bucket
	DeferCleanup(func() {
		Expect(drop()).To(Succeed(), "emptying and deleting bucket %s", bucket)
	})
})

var specNumber atomic.Int64

func conformanceStore() (ports.ObjectStore, func()) {
	Expect(suiteBucket).NotTo(BeEmpty(), "BeforeSuite made no bucket")
	cfg := serverConfig(suiteBucket)
	cfg.Prefix = fmt.Sprintf("spec-%d/", specNumber.Add(1))
	s, err := s3blob.New(context.Background(), cfg)
	Expect(err).NotTo(HaveOccurred())
	return s, func() {
		Expect(emptyStore(context.Background(), s)).To(Succeed(), "emptying %s", cfg.Prefix)
	}
}

// emptyStore deletes every object of s.
func emptyStore(ctx context.Context, s *s3blob.Store) error {
	for {
		objs, _, err := s.List(ctx, "", "", 0)
		if err != nil || len(objs) == 0 {
			return err
		}
		for _, o := range objs {
			if err := s.Delete(ctx, o.Key); err != nil {
				return err
			}
		}
	}
}

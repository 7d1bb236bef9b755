package memqueue_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/catalyst-forge/forge/adapters/memory/memqueue"
	"github.com/catalyst-forge/forge/conformance/jobqueuetest"
	"github.com/catalyst-forge/forge/ports"
)

func TestMemqueue(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "memqueue")
}

var _ = jobqueuetest.Describe("memqueue", func() (ports.JobQueue, func()) {
	q := memqueue.New()
	return q, q.Close
})

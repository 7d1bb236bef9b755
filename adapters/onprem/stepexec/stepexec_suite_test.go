package stepexec_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// TestConformance runs the StepExecutor conformance suite twice: on the
// script action (script_suite_test.go) and on the earthly action against a
// stand-in earthly executable (earthly_standin_suite_test.go). Ginkgo runs
// one suite per process, so both runners share this entry point.
func TestConformance(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "stepexec: StepExecutor conformance (script, earthly stand-in)")
}

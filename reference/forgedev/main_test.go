package forgedev

import (
	"os"
	"testing"

	"github.com/catalyst-forge/forge/reference/internal/discoverchild"
)

// TestMain lets this test binary serve as the child process the
// in-process worker discovers in: it re-executes the running binary,
// which here is the test binary.
func TestMain(m *testing.M) {
	discoverchild.Serve()
	os.Exit(m.Run())
}

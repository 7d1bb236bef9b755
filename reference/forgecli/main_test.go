package forgecli

import (
	"os"
	"testing"

	"github.com/catalyst-forge/forge/reference/internal/discoverchild"
)

// TestMain lets this test binary serve as the child process that 'forge
// validate' and 'forge discover' evaluate configuration in: the commands
// re-execute the running binary, which here is the test binary.
func TestMain(m *testing.M) {
	discoverchild.Serve()
	os.Exit(m.Run())
}

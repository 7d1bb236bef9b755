package forgedev

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/catalyst-forge/forge/reference/internal/discoverchild"
)

// Environment of the test binary when it plays 'forge dev up' in a child
// process (TestKilledDevUpLeavesNoStepBehind).
const (
	childUpDataEnv   = "FORGE_DEV_TEST_UP_DATA"
	childUpRemoteEnv = "FORGE_DEV_TEST_UP_REMOTE"
)

// TestMain lets this test binary serve as the child process the
// in-process worker discovers in: it re-executes the running binary,
// which here is the test binary. With childUpDataEnv set, it runs Up on
// that data directory instead, printing "addr HOST:PORT" once the API
// listens, until it is killed.
func TestMain(m *testing.M) {
	discoverchild.Serve()
	if data := os.Getenv(childUpDataEnv); data != "" {
		err := Up(context.Background(), UpOptions{Data: data, Addr: "127.0.0.1:0", Remote: os.Getenv(childUpRemoteEnv),
			Progress: os.Stderr, Ready: func(addr string) { fmt.Printf("addr %s\n", addr) }})
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

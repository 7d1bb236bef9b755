package stepexec_test

import (
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/gomega"

	"github.com/catalyst-forge/forge/adapters/onprem/stepexec"
	"github.com/catalyst-forge/forge/conformance/steprunnertest"
	"github.com/catalyst-forge/forge/ports"
)

// The earthly action, run against a STAND-IN earthly executable, not
// Earthly: Earthly needs BuildKit, which cannot run on these machines. The
// stand-in is a shell script put first on the executor's PATH; it records
// how the executor called it and reads its target as an instruction
// (earthlyStandInSteps). This checks the executor's side of the boundary
// (lookup, arguments, environment, output, process group), not Earthly.
var _ = steprunnertest.Describe("stepexec/earthly against a stand-in earthly executable (not Earthly)",
	func() (ports.StepExecutor, func()) {
		dir, err := os.MkdirTemp("", "earthly-standin-")
		Expect(err).NotTo(HaveOccurred())
		Expect(writeEarthlyStandIn(dir)).To(Succeed())
		return newStandInExecutor(dir), func() { _ = os.RemoveAll(dir) }
	},
	earthlyStandInSteps{})

// newStandInExecutor returns an executor whose PATH starts with dir, where
// writeEarthlyStandIn put the stand-in.
func newStandInExecutor(dir string, opts ...stepexec.Option) *stepexec.Executor {
	env := stepexec.DefaultEnv()
	env["PATH"] = dir + string(os.PathListSeparator) + env["PATH"]
	return stepexec.New(append([]stepexec.Option{stepexec.WithEnv(env), stepexec.WithGracePeriod(testGrace)}, opts...)...)
}

// earthlyStandInScript is the stand-in earthly executable. %[1]s is the
// directory where it records its arguments (args, NUL-separated) and its
// environment (environ, as /proc shows it) on every call. The last
// argument is the target, read as an instruction:
//
//	+succeed              exit 0
//	+fail-N               exit N
//	+print-HEX            print the decoded text to stdout, then to stderr
//	+sleep-MS             sleep MS milliseconds
//	+env-NAME             print $NAME
//	+spawn-MS-HEXPATH     start a child sleeping MS milliseconds, write
//	                      "<own pid>\n<child pid>\n" to the decoded path,
//	                      wait for the child
const earthlyStandInScript = `#!/bin/sh
# Stand-in for the earthly CLI, written by the stepexec tests. Not Earthly.
set -eu
rec=%[1]s
printf '%%s\0' "$@" > "$rec/args"
cat "/proc/$$/environ" > "$rec/environ"

unhex() {
	h=$1
	while [ -n "$h" ]; do
		rest=${h#??}
		printf '%%b' "\\0$(printf '%%03o' "$((0x${h%%"$rest"}))")"
		h=$rest
	done
}
seconds() { printf '%%d.%%03d' "$(($1 / 1000))" "$(($1 %% 1000))"; }

for target in "$@"; do :; done
case $target in
+succeed) exit 0 ;;
+fail-*) exit "${target#+fail-}" ;;
+print-*)
	unhex "${target#+print-}"; echo
	unhex "${target#+print-}" >&2; echo >&2 ;;
+sleep-*) sleep "$(seconds "${target#+sleep-}")" ;;
+env-*)
	name=${target#+env-}
	case $name in ''|*[!A-Za-z0-9_]*) echo "earthly stand-in: bad name $name" >&2; exit 64 ;; esac
	eval "printf '%%s\n' \"\${$name-}\"" ;;
+spawn-*)
	spec=${target#+spawn-}
	file=$(unhex "${spec#*-}")
	sleep "$(seconds "${spec%%%%-*}")" &
	child=$!
	printf '%%s\n%%s\n' "$$" "$child" > "$file.tmp"
	mv -f "$file.tmp" "$file"
	wait "$child" ;;
*) echo "earthly stand-in: unknown target $target" >&2; exit 64 ;;
esac
`

// writeEarthlyStandIn writes the stand-in earthly executable into dir and
// makes it record its calls there.
func writeEarthlyStandIn(dir string) error {
	script := fmt.Sprintf(earthlyStandInScript, shellQuote(dir))
	return os.WriteFile(filepath.Join(dir, "earthly"), []byte(script), 0o755)
}

// standInCall is what the stand-in recorded about its last call.
type standInCall struct {
	args    []string
	environ []string
}

// readStandInCall reads what the stand-in in dir recorded.
func readStandInCall(dir string) (standInCall, error) {
	args, err := os.ReadFile(filepath.Join(dir, "args"))
	if err != nil {
		return standInCall{}, err
	}
	environ, err := os.ReadFile(filepath.Join(dir, "environ"))
	if err != nil {
		return standInCall{}, err
	}
	split := func(b []byte) []string {
		s := strings.TrimSuffix(string(b), "\x00")
		if s == "" {
			return nil
		}
		return strings.Split(s, "\x00")
	}
	return standInCall{args: split(args), environ: split(environ)}, nil
}

// earthlyStandInSteps makes earthly steps whose targets the stand-in
// interprets.
type earthlyStandInSteps struct{}

func (earthlyStandInSteps) Succeed() ports.StepRequest { return earthly("+succeed") }

func (earthlyStandInSteps) Fail(code int) ports.StepRequest {
	return earthly(fmt.Sprintf("+fail-%d", code))
}

func (earthlyStandInSteps) Print(text string) ports.StepRequest {
	return earthly("+print-" + hex.EncodeToString([]byte(text)))
}

func (earthlyStandInSteps) Sleep(d time.Duration) ports.StepRequest {
	return earthly(fmt.Sprintf("+sleep-%d", d.Milliseconds()))
}

func (earthlyStandInSteps) PrintEnv(name string) ports.StepRequest { return earthly("+env-" + name) }

func (earthlyStandInSteps) SpawnChildThatSleeps(d time.Duration, pidFile string) ports.StepRequest {
	return earthly(fmt.Sprintf("+spawn-%d-%s", d.Milliseconds(), hex.EncodeToString([]byte(pidFile))))
}

// earthly returns an earthly step for target.
func earthly(target string) ports.StepRequest {
	return ports.StepRequest{Action: "earthly", Target: target}
}

package stepexec_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/catalyst-forge/forge/adapters/onprem/stepexec"
	"github.com/catalyst-forge/forge/conformance/steprunnertest"
	"github.com/catalyst-forge/forge/ports"
)

// testGrace is the grace period between SIGTERM and SIGKILL in these tests.
const testGrace = 300 * time.Millisecond

// The script action, run by the real shell of this machine.
var _ = steprunnertest.Describe("stepexec/script",
	func() (ports.StepExecutor, func()) {
		return stepexec.New(stepexec.WithGracePeriod(testGrace)), nil
	},
	scriptSteps{})

// scriptSteps makes script steps for the conformance suite; they run in
// the default shell ("sh -e").
type scriptSteps struct{}

func (scriptSteps) Succeed() ports.StepRequest { return script("true") }

func (scriptSteps) Fail(code int) ports.StepRequest { return script(fmt.Sprintf("exit %d", code)) }

func (scriptSteps) Print(text string) ports.StepRequest {
	return script(fmt.Sprintf("printf '%%s\\n' %s\nprintf '%%s\\n' %[1]s >&2", shellQuote(text)))
}

func (scriptSteps) Sleep(d time.Duration) ports.StepRequest {
	return script("sleep " + seconds(d))
}

func (scriptSteps) PrintEnv(name string) ports.StepRequest {
	return script(fmt.Sprintf(`printf '%%s\n' "${%s-}"`, name))
}

func (scriptSteps) SpawnChildThatSleeps(d time.Duration, pidFile string) ports.StepRequest {
	return script(fmt.Sprintf(`sleep %s &
child=$!
printf '%%s\n%%s\n' "$$" "$child" > %s
mv -f %[2]s %s
wait "$child"`, seconds(d), shellQuote(pidFile+".tmp"), shellQuote(pidFile)))
}

// script returns a script step that runs run in the default shell.
func script(run string) ports.StepRequest {
	return ports.StepRequest{Action: "script", Run: run}
}

// seconds formats d for sleep(1).
func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// shellQuote quotes s for sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

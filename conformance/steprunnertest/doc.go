// Package steprunnertest is the conformance suite of the StepExecutor port
// (ports.StepExecutor). It is in the conformance layer: it imports only
// ports/, domain/, the standard library, Ginkgo and Gomega, and owns the
// executable form of the step-running contract — exit codes, combined
// output, environment and secrets, working directory, timeouts,
// cancellation and the killing of the whole process group — whatever runs
// the step.
//
// Executors of different kinds are driven differently (a script executor
// runs shell code, an Earthly executor runs targets), so the suite takes,
// besides a factory, a Steps value that makes a request of the executor's
// kind for each behaviour the specs need. An adapter's test package runs
// it from a Ginkgo suite file:
//
//	func TestConformance(t *testing.T) {
//		RegisterFailHandler(Fail)
//		RunSpecs(t, "stepexec")
//	}
//
//	var _ = steprunnertest.Describe("stepexec/script",
//		func() (ports.StepExecutor, func()) {
//			return stepexec.New(stepexec.WithGracePeriod(300*time.Millisecond)), nil
//		},
//		scriptSteps{})
//
// Every spec gets a new executor from the factory and a new temporary
// directory as StepRequest.Dir. The suite is for Linux hosts: it reads
// /proc to check that secret values stay out of command lines and that
// the processes a step started are gone after a timeout or a
// cancellation. A process counts as gone when kill(pid, 0) fails with
// ESRCH or when it is a zombie: an orphan that has exited waits for PID 1
// to reap it, and the PID 1 of some containers (and of the development
// machines) reaps only now and then. The whole suite takes a few seconds
// when the executor's grace period between SIGTERM and SIGKILL is short;
// Factory says how short.
package steprunnertest

// Package orchestrating is the use case that drives one pipeline run from
// its commit to its end (spec 03): a discovery job, the plan of phases,
// tasks and steps it yields, then each phase group in order with every
// task of the group dispatched to workers at once. The first failure ends
// the run (fail-fast): nothing more is dispatched, what never started is
// marked skipped, and workers stop their running steps when they see the
// run has ended.
//
// The stages (Discover, RunGroup, Complete) can each be run again: the
// Argo engine runs them as separate dispatcher steps, and LocalEngine
// drives whole runs in this process, resuming those a restart left
// behind. It is in the application layer.
package orchestrating

// Package pipeline holds the entities of one CI run — PipelineRun,
// PhaseExecution, TaskExecution and StepExecution — with their statuses and
// the transitions between them. It is in the domain layer.
package pipeline

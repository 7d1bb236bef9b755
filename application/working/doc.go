// Package working is the use case of a worker: it takes discovery and CI
// jobs from the queue, checks the commit out, and either discovers the
// repository or runs one task's steps in priority batches, reporting
// statuses to the platform and streaming each step's log to the object
// store. It is in the application layer.
package working

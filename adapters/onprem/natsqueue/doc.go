// Package natsqueue is the JobQueue (ports.JobQueue) of the on-premises
// and AWS profiles, and of the local profile on an embedded server
// (natsembed): jobs travel over NATS JetStream work-queue streams and
// results come back by request-reply, as spec 03 describes. It is in the
// adapters layer (adapters/onprem) and owns the streams of spec 03, the
// durable pull consumers of the workers, and the wire format of jobs and
// results.
//
// # Streams and subjects
//
// New creates or updates the four job streams of spec 03
// (pipeline-discovery, pipeline-tasks, pipeline-artifacts,
// pipeline-releases: work-queue retention, so an acknowledged job leaves
// the stream) and one more, pipeline-results, which keeps each job's
// result for a while (WithResultTTL). A job is published to
// pipeline.<x>.<job id>. Deployment jobs share pipeline-releases with
// release jobs but are published to pipeline.releases.deployment.<job id>:
// a work-queue stream refuses two consumers whose filters overlap, so each
// type needs subjects of its own. WithPrefix puts every stream name and
// subject under a prefix (t123-pipeline-tasks, t123.pipeline.tasks.*), so
// tests on a shared server use their own streams. A job ID that is not a
// plain subject token (letters, digits, - _ : @ + =) is carried base64url
// encoded, behind a "~".
//
// # Dispatch and how a retried dispatch gets its result
//
// Every Queue keeps one wildcard subscription for replies (like nats.go's
// request mux), so a dispatch costs no subscription of its own. Dispatch
// takes an inbox under it, then publishes the job with Nats-Msg-Id set to
// the job ID, so the stream drops a second copy within its duplicate
// window (WithDuplicateWindow), Forge-Reply-To naming the inbox, and a
// W3C traceparent with the dispatching context's trace ID (or the run's,
// ports.RunTraceID), which the handler's context carries again. A
// worker sends the result to that inbox, then publishes it through
// JetStream to the job's result subject, pipeline.results.<job id>, where
// the pipeline-results stream keeps it for the result TTL
// (WithResultTTL), but only if no result for the job is stored yet
// (Nats-Expected-Last-Subject-Sequence: 0): the first result wins. A
// retried dispatch whose publish the stream reports as a duplicate (the
// queued copy names the first dispatcher's inbox, not the retry's)
// subscribes to the job's result subject, reads the stored result if
// there is one, and otherwise waits for the live one, reading the store
// again now and then, since the stored copy can lag the live message by a
// moment. So a retry gets the one execution's result whether the first
// dispatch is still queued, running, or done, for as long as the result
// is kept.
//
// # Results
//
// A result travels as the message body, with its attempt in the header
// Forge-Attempt; a handler's error travels as text with Forge-Status:
// error. A result too large for one message (over 1 MiB, or over the
// server's max payload less room for headers) is written to the
// ObjectStore given with WithObjectStore, under jobs/<job id>/result, and
// the message carries the key in Forge-Result-Key; the dispatcher reads it
// back. Without an object store such a result becomes an error result
// that says so.
//
// # Consume, leases and redelivery
//
// Each job type has a durable pull consumer, <type>-consumer, with
// explicit acks, at most 3 deliveries and the type's AckWait
// (WithAckWait). A worker fetches no more jobs than it has free handler
// slots, so a job never waits inside a busy worker. While a handler runs,
// the worker holds the job's lease: it tells the server the job is in
// progress every third of the AckWait, for as long as the handler has
// called Progress within the job's Timeout. A handler that stays silent
// for its Timeout loses the job: its context is cancelled, the job is
// handed back (Nak) and redelivered to another worker at once, and
// whatever the lost handler returns later is dropped. So the handler's
// context has no fixed deadline (Progress moves it); the end of Consume's
// context does not cancel it either. A worker that dies stops the
// keep-alives, and the server redelivers its jobs after the AckWait.
//
// The worker replies before it acknowledges, so a crash between the two
// runs the job again rather than losing its result. It holds the ack
// until its next job arrives, 20 ms at most: a file-backed work-queue
// stream that empties replaces its block file (a file created and one
// deleted on the server), which would otherwise happen after every job
// when jobs come one at a time.
//
// A job whose third delivery is lost gets the error result "job abandoned
// after 3 deliveries": from the worker that lost it, or, when that worker
// died, from a worker of the type that receives the server's
// max-deliveries advisory (sent when a worker next asks for jobs).
package natsqueue

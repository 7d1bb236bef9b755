// Package natsembed runs a NATS server with JetStream inside the process:
// the JobQueue broker of the local profile, where the whole platform runs on
// one machine without a NATS deployment, and the broker that the natsqueue
// tests run against. It is in the adapters layer (adapters/onprem) and owns
// the embedded server's lifecycle: start on a loopback port (or on no port
// at all, for in-process connections only), connect, and shut down.
// JetStream keeps its data in files under the configured directory, so
// starting again on the same directory finds the same streams and the jobs
// still queued in them.
package natsembed

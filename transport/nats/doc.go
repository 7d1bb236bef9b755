// Package natstransport serves the API's endpoint set (transport/endpoints)
// over NATS request-reply with go-kit's NATS transport, and is its Go
// client. Each endpoint listens on forge.api.v1.<resource>.<action>
// (forge.api.v1.runs.create) in the queue group "forge-api", so that
// several API replicas share the load. A request is the endpoint's request
// as one JSON object, decoded as strictly as an HTTP body and bounded by
// the same size; the caller's bearer token travels in the Authorization
// header and is verified exactly as over HTTP; a status report's run key
// in X-Forge-Report-Key; the caller's remaining time in Forge-Timeout-Ms,
// which bounds the call on the server too (go-kit's NATS defaults carry no
// deadline).
//
// A successful answer carries Forge-Outcome (ok, created, accepted,
// no_content) and the value as JSON; a failed one carries Forge-Error with
// the error's code (the fault kind, as in the HTTP error body) and the
// same error body as HTTP. The client implements endpoints.API, like the
// HTTP client; step logs, streamed, are served over HTTP only.
//
// It is in the transport layer: encodings, error mapping and the client,
// no business logic.
package natstransport

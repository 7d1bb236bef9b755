// Package endpoints is the API's one go-kit endpoint set (spec 06): the
// request and response types, one endpoint per use case built from the
// application services, the bearer-token check, and the strict JSON
// decoding every transport applies to what it receives. transport/http and
// transport/nats serve this set and hold only encodings, error mapping and
// their clients; neither holds business logic.
//
// An endpoint takes its request type (a value, not a pointer) with the
// caller's principal in the context (WithPrincipal) and the run's report
// key, for status reports, in ports.WithReportKey; it answers a Reply whose
// Outcome each transport maps to its own code (an HTTP status, a NATS
// header).
package endpoints

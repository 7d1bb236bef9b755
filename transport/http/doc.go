// Package httptransport is the platform's REST API (spec 06) over HTTP and
// its Go client: go-kit endpoints built from the application services, one
// table from fault kinds to HTTP statuses shared by the server and the
// client, bearer-token authentication through a ports.TokenVerifier, and
// strict, size-limited JSON decoding. It is in the transport layer.
package httptransport

// Package httptransport serves the API's endpoint set (transport/endpoints)
// over HTTP as spec 06's REST API, and is its Go client: routes that read
// each endpoint's request from the path, the query and the body, one table
// from fault kinds to HTTP statuses shared by the server and the client,
// bearer-token authentication before routing, step logs streamed as plain
// text, and the local object store's presigned links. It is in the
// transport layer and holds no business logic.
package httptransport

// Package memstore is the in-memory adapter of the Store port
// (ports.Store). It is in the adapters layer and owns nothing but process
// memory: state lives as long as the *Store, so it suits application tests
// and demonstrations, never a deployment that must survive a restart.
//
// It keeps the whole contract of the port, as the conformance suite in
// conformance/storetest checks: idempotent creation, release numbering
// without gaps, alias uniqueness per project, status transitions through
// the domain's transition functions, exactly one active deployment per
// environment and project, and transactions that commit or roll back as a
// whole. Entities are copied on the way in and out, so callers never share
// memory with the store. One mutex serialises every operation.
package memstore

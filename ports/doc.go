// Package ports declares the driven ports of Catalyst Forge: Go interfaces
// for everything outside the process, named for the capability. Ports
// import only the domain and the standard library. Adapters in adapters/
// implement them and pass the conformance suite for their port in
// conformance/. Every method takes a context first; each method's doc names
// the fault kinds it returns, whether it is idempotent, and every
// implementation is safe for concurrent use unless its doc says otherwise.
package ports

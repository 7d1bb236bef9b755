// Package rendering turns a project's deployment resources into the YAML
// a release carries (spec 05, Rendering): every @artifact("name.field")
// reference is filled with that artifact's output (the producer's fields
// and publishers.<name>.<fields>, as domain/artifact.Output.View gives
// them), each resource is checked for apiVersion, kind and metadata.name,
// and the resources are written as a YAML stream in a stable order. It is
// in the application layer.
package rendering

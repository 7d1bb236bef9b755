// Package config holds the domain model of a forge repository's
// configuration: the repository settings of `.forge/repo.cue`, the project
// settings of `.forge/project.cue`, and the rules that relate them (phase
// participation, publisher names, project names, schema versions). It is in
// the domain layer: it imports only the standard library, and the CUE
// evaluation that fills these types lives in the application layer.
package config

// Package forgecli is the `forge` command line: validate, discover and
// init work on a checkout directly; later commands talk to the platform
// API. It is in the reference layer: it wires application services to the
// terminal, and keeps each command's flags in one options struct.
package forgecli

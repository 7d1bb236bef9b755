package natstransport

import (
	"strings"

	"github.com/catalyst-forge/forge/domain/fault"
)

// The headers of the wire format, beyond endpoints.AuthorizationHeader and
// endpoints.ReportKeyHeader.
const (
	// OutcomeHeader names how a call succeeded (endpoints.Outcome.String).
	OutcomeHeader = "Forge-Outcome"
	// ErrorHeader carries a failed call's error code, the fault kind.
	ErrorHeader = "Forge-Error"
	// TimeoutHeader carries, in milliseconds, how long the caller waits.
	TimeoutHeader = "Forge-Timeout-Ms"
	// RetryAfterHeader says, in seconds, when a rate-limited call may be
	// made again.
	RetryAfterHeader = "Retry-After"
)

// SubjectPrefix is the prefix of every endpoint's subject: runs.create
// is served on forge.api.v1.runs.create.
const SubjectPrefix = "forge.api.v1."

// QueueGroup is the queue group every API replica serves in.
const QueueGroup = "forge-api"

// fallbackMessage is the message of an error that has none: its kind in
// words.
func fallbackMessage(k fault.Kind) string { return strings.ReplaceAll(string(k), "_", " ") }

package pipeline

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// ReportKey is the key that proves a status report comes from a worker of
// run runID: an HMAC of the run's ID under the platform's report secret.
// The orchestrator puts it in the run's jobs; the API accepts task and
// step statuses of the run only with it, so that no other holder of a
// service-account token can move them.
func ReportKey(secret []byte, runID string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("forge-report:" + runID))
	return hex.EncodeToString(m.Sum(nil))
}

// ValidReportKey reports whether key is run runID's report key, in
// constant time.
func ValidReportKey(secret []byte, runID, key string) bool {
	return hmac.Equal([]byte(ReportKey(secret, runID)), []byte(key))
}

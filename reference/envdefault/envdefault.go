// Package envdefault gives the reference commands' flags their defaults
// from FORGE_* environment variables: every flag has one, and the
// variable, when set to a readable value, is the flag's default.
package envdefault

import (
	"os"
	"strconv"
	"time"
)

// String returns the variable's value, or def when it is unset or empty.
func String(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// Int returns the variable as an integer, or def when it is unset or not
// one.
func Int(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
	}
	return def
}

// Duration returns the variable as a duration ("90s", "1m"), or def when
// it is unset or not one.
func Duration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil {
		return d
	}
	return def
}

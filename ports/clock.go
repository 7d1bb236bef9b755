package ports

import "time"

// Clock tells the time. Services take one so tests can move time (approval
// expiry, rate limits); a nil Clock is the system clock. Times are UTC.
type Clock func() time.Time

// Now returns the current time in UTC.
func (c Clock) Now() time.Time {
	if c == nil {
		return time.Now().UTC()
	}
	return c().UTC()
}

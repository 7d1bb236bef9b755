// Package redact hides the credentials of URLs (user:password@ of a NATS
// server list, a token in a git remote) before they reach a log line or an
// error message.
package redact

import (
	"net/url"
	"regexp"
	"strings"
)

var userinfo = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*://)[^@/]*@`)

// URLs returns the comma-separated URLs with their user information
// replaced by xxxxx; the rest (scheme, host, path, template braces) is
// kept as given.
func URLs(servers string) string {
	parts := strings.Split(servers, ",")
	for i, p := range parts {
		parts[i] = userinfo.ReplaceAllString(strings.TrimSpace(p), "${1}xxxxx@")
	}
	return strings.Join(parts, ",")
}

// Scrub removes the user names and passwords of the servers' URLs from msg
// (an error that quotes them).
func Scrub(msg, servers string) string {
	for _, p := range strings.Split(servers, ",") {
		u, err := url.Parse(strings.TrimSpace(p))
		if err != nil || u.User == nil {
			continue
		}
		if pw, ok := u.User.Password(); ok && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "xxxxx")
		}
		if name := u.User.Username(); name != "" {
			msg = strings.ReplaceAll(msg, name, "xxxxx")
		}
	}
	return msg
}

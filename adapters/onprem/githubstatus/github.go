package githubstatus

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/catalyst-forge/forge/domain/fault"
)

// DefaultAPI is github.com's API.
const DefaultAPI = "https://api.github.com"

// maxAnswer bounds how much of an answer is read.
const maxAnswer = 4 << 20

// retryable is a failure worth trying again: GitHub unreachable, 5xx, 429
// or a rate limit.
type retryable struct {
	err   error
	after time.Duration // the server's Retry-After, when it gave one
}

func (r *retryable) Error() string { return r.err.Error() }
func (r *retryable) Unwrap() error { return r.err }

// client sends requests to GitHub's REST API with retries.
type client struct {
	api      string
	http     *http.Client
	token    func(ctx context.Context) (string, error)
	attempts int
	backoff  time.Duration
	maxWait  time.Duration
}

// call sends method path with body (JSON, or none when nil) and decodes a
// JSON answer into out (when not nil), retrying what retryable allows. It
// returns the answer's Link header, for paging.
func (c *client) call(ctx context.Context, method, path string, body, out any) (string, error) {
	wait := c.backoff
	var last error
	for attempt := 1; attempt <= c.attempts; attempt++ {
		link, err := c.once(ctx, method, path, body, out)
		if err == nil {
			return link, nil
		}
		last = err
		var r *retryable
		if !errors.As(err, &r) || attempt == c.attempts {
			break
		}
		pause := max(wait, r.after)
		// GitHub's wait is honoured whole, or not at all: retrying before
		// a rate limit resets only fails again.
		if deadline, ok := ctx.Deadline(); ok && time.Now().Add(pause).After(deadline) {
			return "", fault.Wrap(fault.Unavailable, r.err, "GitHub %s %s: GitHub asks to wait %s, more than this report has left", method, path, pause.Round(time.Second))
		}
		select {
		case <-ctx.Done():
			return "", fault.Wrap(fault.Unavailable, ctx.Err(), "%s %s: gave up waiting to retry (%v)", method, path, last)
		case <-time.After(pause):
		}
		wait = min(2*wait, c.maxWait)
	}
	var r *retryable
	if errors.As(last, &r) {
		return "", fault.Wrap(fault.Unavailable, r.err, "GitHub %s %s, after %d attempts", method, path, c.attempts)
	}
	return "", last
}

func (c *client) once(ctx context.Context, method, path string, body, out any) (string, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return "", fault.Wrap(fault.Internal, err, "encoding the request to GitHub")
		}
		rd = bytes.NewReader(b)
	}
	url := path
	if !strings.HasPrefix(path, "https://") && !strings.HasPrefix(path, "http://") {
		url = c.api + path
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return "", fault.Wrap(fault.Validation, err, "GitHub request %s %s", method, path)
	}
	token, err := c.token(ctx)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "", fault.Wrap(fault.Unavailable, ctx.Err(), "GitHub %s %s", method, path)
		}
		return "", &retryable{err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return "", &retryable{err: err}
	}
	if resp.StatusCode >= 300 {
		return "", answerError(resp, data, method, path)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return "", fault.Wrap(fault.Internal, err, "GitHub's answer to %s %s is not the expected JSON", method, path)
		}
	}
	return resp.Header.Get("Link"), nil
}

// answerError maps a GitHub error answer: 5xx, 429 and rate limits are
// retryable; 401 is Unauthenticated, 403 PermissionDenied, 404 NotFound,
// 422 Validation.
func answerError(resp *http.Response, data []byte, method, path string) error {
	var body struct {
		Message string `json:"message"`
	}
	_ = json.Unmarshal(data, &body)
	msg := fmt.Sprintf("GitHub answered %s %s with %d", method, path, resp.StatusCode)
	if body.Message != "" {
		msg += ": " + body.Message
	}
	after := time.Duration(0)
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
		after = time.Duration(s) * time.Second
	} else if reset, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64); err == nil && resp.Header.Get("X-RateLimit-Remaining") == "0" {
		after = max(time.Until(time.Unix(reset, 0)), 0)
	}
	limited := resp.Header.Get("X-RateLimit-Remaining") == "0" || resp.Header.Get("Retry-After") != ""
	switch {
	case resp.StatusCode >= 500, resp.StatusCode == http.StatusTooManyRequests,
		resp.StatusCode == http.StatusForbidden && limited:
		return &retryable{err: errors.New(msg), after: after}
	case resp.StatusCode == http.StatusUnauthorized:
		return fault.New(fault.Unauthenticated, "%s (check the GitHub token or App)", msg)
	case resp.StatusCode == http.StatusForbidden:
		return fault.New(fault.PermissionDenied, "%s (the token needs the statuses and pull request permissions)", msg)
	case resp.StatusCode == http.StatusNotFound:
		return fault.New(fault.NotFound, "%s", msg)
	}
	return fault.New(fault.Validation, "%s", msg)
}

// nextPage reads the rel="next" URL of a Link header, "" when none.
func nextPage(link string) string {
	for _, part := range strings.Split(link, ",") {
		url, rel, ok := strings.Cut(part, ";")
		if ok && strings.Contains(rel, `rel="next"`) {
			return strings.Trim(strings.TrimSpace(url), "<>")
		}
	}
	return ""
}

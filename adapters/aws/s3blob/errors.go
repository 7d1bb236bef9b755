package s3blob

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/aws/smithy-go"

	"github.com/catalyst-forge/forge/domain/fault"
)

// Error codes of servers that keep objects as files and cannot hold "a/b"
// and "a/b/c" together: versitygw's POSIX backend and MinIO.
var nestingCodes = map[string]bool{
	"ObjectParentIsFile":            true,
	"ExistingObjectIsDirectory":     true,
	"XMinioParentIsObject":          true,
	"XMinioObjectExistsAsDirectory": true,
}

// Error codes that mean the credentials were refused.
var deniedCodes = map[string]bool{
	"AccessDenied":          true,
	"InvalidAccessKeyId":    true,
	"SignatureDoesNotMatch": true,
	"ExpiredToken":          true,
	"InvalidToken":          true,
	"TokenRefreshRequired":  true,
	"AllAccessDisabled":     true,
	"AccountProblem":        true,
}

// errorCode returns the S3 error code of err ("NoSuchKey"), or "".
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// statusCode returns the HTTP status of the response that failed, or 0
// when there was none (a network error).
func statusCode(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// objectError maps an error of an S3 call (op: put, get, stat, delete,
// list, presign) on key to a fault kind.
func (s *Store) objectError(err error, op, key string) error {
	code, status := errorCode(err), statusCode(err)
	switch {
	case code == "NoSuchKey" || (status == http.StatusNotFound && (code == "" || code == "NotFound")):
		return fault.Wrap(fault.NotFound, err, "object %q not found", key)
	case nestingCodes[code]:
		return fault.Wrap(fault.Conflict, err, "s3blob: %s %q: the S3 server at %s keeps objects as files and cannot hold an object and another below its key (as a/b and a/b/c)", op, key, s.where)
	case code == "KeyTooLongError":
		return fault.Wrap(fault.Validation, err, "s3blob: %s %q: the key with the store's prefix is too long for the server", op, key)
	}
	return s.serviceError(err, op+" "+strconv.Quote(key))
}

// bucketError maps an error of a call on the bucket itself.
func (s *Store) bucketError(err error) error {
	code, status := errorCode(err), statusCode(err)
	if code == "NoSuchBucket" || status == http.StatusNotFound {
		return fault.Wrap(fault.Unavailable, err, "s3blob: bucket %q does not exist at %s", s.bucket, s.where)
	}
	return s.serviceError(err, "bucket "+strconv.Quote(s.bucket))
}

// serviceError maps what is left: refused credentials, a missing bucket,
// the network, throttling and server errors are Unavailable; other
// refusals mean a request the server does not take, which is a bug here.
func (s *Store) serviceError(err error, what string) error {
	code, status := errorCode(err), statusCode(err)
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return fault.Wrap(fault.Unavailable, err, "s3blob: %s", what)
	case code == "NoSuchBucket":
		return fault.Wrap(fault.Unavailable, err, "s3blob: %s: bucket %q does not exist at %s", what, s.bucket, s.where)
	case status == http.StatusForbidden || status == http.StatusUnauthorized || deniedCodes[code]:
		return fault.Wrap(fault.Unavailable, err, "s3blob: %s: access to bucket %q at %s denied: check the credentials and the bucket policy", what, s.bucket, s.where)
	case status == 0:
		return fault.Wrap(fault.Unavailable, err, "s3blob: %s: cannot reach %s", what, s.where)
	case status >= 500 || status == http.StatusTooManyRequests || code == "SlowDown" || code == "RequestTimeout":
		return fault.Wrap(fault.Unavailable, err, "s3blob: %s: %s is unavailable", what, s.where)
	}
	return fault.Wrap(fault.Internal, err, "s3blob: %s: the server refused the request", what)
}

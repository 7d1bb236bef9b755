package s3blob

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
)

// The tests in this file run the adapter against an httptest server that
// speaks S3 at its protocol boundary: it answers the calls with S3-style
// XML errors and listings, as Amazon S3 and S3-compatible servers do, so
// that the mapping to fault kinds is checked without a real server.

// s3Error is the body of an S3 error response.
func s3Error(code string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>` +
		`<Error><Code>` + code + `</Code><Message>message of ` + code + `</Message><RequestId>R1</RequestId></Error>`
}

// fakeS3 answers HeadBucket with 200 and every object call with reply.
func fakeS3(t *testing.T, reply http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead && r.URL.Path == "/bucket" {
			return
		}
		reply(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// errorReply answers with status and, but for HEAD (which has no body), an
// S3 error of code.
func errorReply(status int, code string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		if r.Method != http.MethodHead && code != "" {
			_, _ = io.WriteString(w, s3Error(code))
		}
	}
}

func fakeStore(t *testing.T, endpoint string) *Store {
	t.Helper()
	s, err := New(context.Background(), Config{
		Bucket: "bucket", Prefix: "p", Endpoint: endpoint, PathStyle: true,
		AccessKeyID: "AKIDTEST", SecretAccessKey: "fake-secret-value", MaxAttempts: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// call runs one method of the port on s and returns its error.
type call func(s *Store) error

var (
	callGet = func(s *Store) error {
		rc, _, err := s.Get(context.Background(), "k", 0)
		if rc != nil {
			_ = rc.Close()
		}
		return err
	}
	callStat = func(s *Store) error { _, err := s.Stat(context.Background(), "k"); return err }
	callPut  = func(s *Store) error {
		_, err := s.Put(context.Background(), "k", strings.NewReader("x"), ports.PutOptions{})
		return err
	}
	callDelete = func(s *Store) error { return s.Delete(context.Background(), "k") }
	callList   = func(s *Store) error { _, _, err := s.List(context.Background(), "", "", 0); return err }
)

func TestErrorMappingWithS3StyleHTTPServer(t *testing.T) {
	tests := []struct {
		name   string
		reply  http.HandlerFunc
		call   call
		kind   fault.Kind
		saying string
	}{
		{"GetObject NoSuchKey", errorReply(404, "NoSuchKey"), callGet, fault.NotFound, `object "k" not found`},
		{"HeadObject 404 without a body", errorReply(404, ""), callStat, fault.NotFound, `object "k" not found`},
		{"GetObject AccessDenied", errorReply(403, "AccessDenied"), callGet, fault.Unavailable, "check the credentials and the bucket policy"},
		{"HeadObject 403 without a body", errorReply(403, ""), callStat, fault.Unavailable, "check the credentials"},
		{"PutObject SignatureDoesNotMatch", errorReply(403, "SignatureDoesNotMatch"), callPut, fault.Unavailable, "denied"},
		{"ListObjectsV2 InvalidAccessKeyId", errorReply(403, "InvalidAccessKeyId"), callList, fault.Unavailable, "check the credentials"},
		{"PutObject NoSuchBucket", errorReply(404, "NoSuchBucket"), callPut, fault.Unavailable, `bucket "bucket" does not exist`},
		{"ListObjectsV2 NoSuchBucket", errorReply(404, "NoSuchBucket"), callList, fault.Unavailable, "does not exist"},
		{"PutObject ObjectParentIsFile (versitygw)", errorReply(409, "ObjectParentIsFile"), callPut, fault.Conflict, "keeps objects as files"},
		{"PutObject ExistingObjectIsDirectory (versitygw)", errorReply(409, "ExistingObjectIsDirectory"), callPut, fault.Conflict, "keeps objects as files"},
		{"PutObject XMinioParentIsObject (MinIO)", errorReply(400, "XMinioParentIsObject"), callPut, fault.Conflict, "keeps objects as files"},
		{"PutObject KeyTooLongError", errorReply(400, "KeyTooLongError"), callPut, fault.Validation, "too long"},
		{"GetObject InternalError", errorReply(500, "InternalError"), callGet, fault.Unavailable, "is unavailable"},
		{"PutObject SlowDown", errorReply(503, "SlowDown"), callPut, fault.Unavailable, "is unavailable"},
		{"DeleteObject ServiceUnavailable", errorReply(503, "ServiceUnavailable"), callDelete, fault.Unavailable, "is unavailable"},
		{"PutObject InvalidArgument", errorReply(400, "InvalidArgument"), callPut, fault.Internal, "refused the request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fakeStore(t, fakeS3(t, tt.reply).URL)
			err := tt.call(s)
			if !fault.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.saying) {
				t.Errorf("error %v; want %s saying %q", err, tt.kind, tt.saying)
			}
			if err != nil && strings.Contains(err.Error(), "fake-secret-value") {
				t.Errorf("the error shows the secret: %v", err)
			}
		})
	}
}

func TestDeleteOfAMissingKeyWithS3StyleHTTPServer(t *testing.T) {
	// S3 answers 204; some compatible servers answer NoSuchKey.
	for _, reply := range []http.HandlerFunc{errorReply(204, ""), errorReply(404, "NoSuchKey")} {
		s := fakeStore(t, fakeS3(t, reply).URL)
		if err := s.Delete(context.Background(), "k"); err != nil {
			t.Errorf("Delete = %v, want nil", err)
		}
	}
}

func TestNetworkErrorsAreUnavailable(t *testing.T) {
	srv := fakeS3(t, errorReply(200, ""))
	s := fakeStore(t, srv.URL)
	srv.Close()
	for name, c := range map[string]call{"Get": callGet, "Stat": callStat, "Put": callPut, "Delete": callDelete, "List": callList} {
		if err := c(s); !fault.Is(err, fault.Unavailable) || !strings.Contains(err.Error(), "cannot reach "+srv.URL) {
			t.Errorf("%s with the server gone = %v, want Unavailable saying it cannot reach %s", name, err, srv.URL)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Stat(ctx, "k"); !fault.Is(err, fault.Unavailable) {
		t.Errorf("Stat with a cancelled context = %v, want Unavailable", err)
	}
}

func TestNewMapsBucketErrorsWithS3StyleHTTPServer(t *testing.T) {
	for status, saying := range map[int]string{
		404: `bucket "bucket" does not exist at http://`,
		403: "check the credentials",
		500: "is unavailable",
	} {
		srv := httptest.NewServer(errorReply(status, ""))
		_, err := New(context.Background(), Config{
			Bucket: "bucket", Endpoint: srv.URL, PathStyle: true,
			AccessKeyID: "AKIDTEST", SecretAccessKey: "fake-secret-value", MaxAttempts: 1,
		})
		srv.Close()
		if !fault.Is(err, fault.Unavailable) || !strings.Contains(err.Error(), saying) {
			t.Errorf("New with HeadBucket %d = %v; want Unavailable saying %q", status, err, saying)
		}
	}
}

func TestGetWithS3StyleHTTPServer(t *testing.T) {
	modified := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	srv := fakeS3(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/bucket/p/k" {
			errorReply(404, "NoSuchKey")(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/plain")
		h.Set("Last-Modified", modified.Format(http.TimeFormat))
		switch rng := r.Header.Get("Range"); {
		case r.Method == http.MethodHead:
			h.Set("Content-Length", "36")
		case rng == "bytes=10-":
			h.Set("Content-Range", "bytes 10-35/36")
			h.Set("Content-Length", "26")
			w.WriteHeader(http.StatusPartialContent)
			_, _ = io.WriteString(w, "abcdefghijklmnopqrstuvwxyz")
		case rng == "bytes=36-":
			errorReply(416, "InvalidRange")(w, r)
		default:
			t.Errorf("unexpected %s %s Range %q", r.Method, r.URL, rng)
		}
	})
	s := fakeStore(t, srv.URL)
	for offset, want := range map[int64]string{10: "abcdefghijklmnopqrstuvwxyz", 36: ""} {
		rc, info, err := s.Get(context.Background(), "k", offset)
		if err != nil {
			t.Fatalf("Get from %d: %v", offset, err)
		}
		body, _ := io.ReadAll(rc)
		_ = rc.Close()
		wantInfo := ports.ObjectInfo{Key: "k", Size: 36, ContentType: "text/plain", ModTime: modified}
		if string(body) != want || info != wantInfo {
			t.Errorf("Get from %d = %q, %+v; want %q, %+v", offset, body, info, want, wantInfo)
		}
	}
}

func TestListWithS3StyleHTTPServer(t *testing.T) {
	var gotQuery string
	listing := func(truncated bool, keys ...string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			gotQuery = r.URL.RawQuery
			var b strings.Builder
			b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`)
			fmt.Fprintf(&b, "<Name>bucket</Name><EncodingType>url</EncodingType><IsTruncated>%v</IsTruncated>", truncated)
			for _, k := range keys {
				fmt.Fprintf(&b, "<Contents><Key>%s</Key><Size>3</Size><LastModified>2026-03-01T12:00:00.000Z</LastModified></Contents>", k)
			}
			b.WriteString("</ListBucketResult>")
			_, _ = io.WriteString(w, b.String())
		}
	}
	tests := []struct {
		name     string
		reply    http.HandlerFunc
		limit    int
		wantKeys []string
		wantMore bool
	}{
		{"keys are URL-decoded and the prefix taken off", listing(false, "p%2Fa+b%2Bc", "p%2F%C3%BC"), 0, []string{"a b+c", "ü"}, false},
		{"one key over the limit means more", listing(false, "p%2Fa", "p%2Fb", "p%2Fc"), 2, []string{"a", "b"}, true},
		{"a full page the server calls truncated, with nothing after", listing(true, "p%2Fa", "p%2Fb"), 2, []string{"a", "b"}, true},
		{"a short page the server calls truncated", listing(true, "p%2Fa"), 2, []string{"a"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fakeStore(t, fakeS3(t, tt.reply).URL)
			objs, more, err := s.List(context.Background(), "", "x", tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, o := range objs {
				keys = append(keys, o.Key)
			}
			if strings.Join(keys, ",") != strings.Join(tt.wantKeys, ",") || more != tt.wantMore {
				t.Errorf("List = %q, more %v; want %q, more %v", keys, more, tt.wantKeys, tt.wantMore)
			}
			for _, want := range []string{"prefix=p%2F", "start-after=p%2Fx", "encoding-type=url"} {
				if !strings.Contains(gotQuery, want) {
					t.Errorf("query %q lacks %q", gotQuery, want)
				}
			}
		})
	}
}

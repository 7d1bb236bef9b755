package s3blob_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/catalyst-forge/forge/adapters/aws/s3blob"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
)

// The S3-compatible server of the tests (see docs/adapters.md).
const (
	endpointEnv = "FORGE_TEST_S3_ENDPOINT"
	accessEnv   = "FORGE_TEST_S3_ACCESS_KEY"
	secretEnv   = "FORGE_TEST_S3_SECRET_KEY"
	testRegion  = "us-east-1"
	skipServer  = "set FORGE_TEST_S3_ENDPOINT (and FORGE_TEST_S3_ACCESS_KEY, FORGE_TEST_S3_SECRET_KEY) to run against an S3-compatible server"
)

func haveServer() bool { return os.Getenv(endpointEnv) != "" }

// needServer skips t without a server.
func needServer(t *testing.T) {
	t.Helper()
	if !haveServer() {
		t.Skip(skipServer) // set FORGE_TEST_S3_ENDPOINT
	}
}

// serverConfig addresses bucket on the test server, path style.
func serverConfig(bucket string) s3blob.Config {
	return s3blob.Config{
		Bucket:          bucket,
		Region:          testRegion,
		Endpoint:        os.Getenv(endpointEnv),
		PathStyle:       true,
		AccessKeyID:     os.Getenv(accessEnv),
		SecretAccessKey: os.Getenv(secretEnv),
	}
}

// rawClient is an SDK client on the test server, to check and clean up
// behind the adapter's back.
func rawClient() *s3.Client {
	return s3.New(s3.Options{
		Region:                     testRegion,
		BaseEndpoint:               aws.String(os.Getenv(endpointEnv)),
		UsePathStyle:               true,
		Credentials:                credentials.NewStaticCredentialsProvider(os.Getenv(accessEnv), os.Getenv(secretEnv), ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

// createTestBucket makes a fresh bucket forge-test-<random> through
// s3blob.New (CreateBucket), and returns drop, which empties it (objects
// and unfinished multipart uploads) and deletes it.
func createTestBucket(ctx context.Context) (string, func() error, error) {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	bucket := "forge-test-" + hex.EncodeToString(b)
	cfg := serverConfig(bucket)
	cfg.CreateBucket = true
	if _, err := s3blob.New(ctx, cfg); err != nil {
		return "", nil, err
	}
	return bucket, func() error { return dropBucket(context.Background(), bucket) }, nil
}

func dropBucket(ctx context.Context, bucket string) error {
	c := rawClient()
	uploads, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	if err != nil {
		return err
	}
	for _, u := range uploads.Uploads {
		if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(bucket), Key: u.Key, UploadId: u.UploadId}); err != nil {
			return err
		}
	}
	pages := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, o := range page.Contents {
			if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: o.Key}); err != nil {
				return err
			}
		}
	}
	_, err = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(bucket)})
	return err
}

// testBucket makes a bucket for t, dropped when t ends.
func testBucket(t *testing.T) string {
	t.Helper()
	needServer(t)
	bucket, drop, err := createTestBucket(context.Background())
	if err != nil {
		t.Fatalf("creating a bucket: %v", err)
	}
	t.Cleanup(func() {
		if err := drop(); err != nil {
			t.Errorf("dropping bucket %s: %v", bucket, err)
		}
	})
	return bucket
}

// oneByteReader hides length and hands out content in small reads.
type oneByteReader struct{ r io.Reader }

func (o oneByteReader) Read(p []byte) (int, error) { return o.r.Read(p[:min(len(p), 4096)]) }

func TestMultipartUploadAgainstServer(t *testing.T) {
	bucket := testBucket(t)
	ctx := context.Background()
	const part = 5 << 20
	content := make([]byte, 2*part+12345)
	_, _ = rand.Read(content)
	exact := content[:2*part]

	for _, tc := range []struct {
		name string
		cfg  func(s3blob.Config) s3blob.Config
	}{
		{"S3-compatible checksums", func(c s3blob.Config) s3blob.Config { return c }},
		{"the SDK's default checksums (Amazon S3's path)", s3blob.WithSDKChecksums},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg(serverConfig(bucket))
			cfg.Prefix = strings.ReplaceAll(tc.name, " ", "-")
			cfg.PartSize = part
			s, err := s3blob.New(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			for name, want := range map[string][]byte{"three-parts": content, "two-full-parts": exact, "one-part": content[:part]} {
				info, err := s.Put(ctx, name, oneByteReader{bytes.NewReader(want)}, ports.PutOptions{ContentType: "application/x-test"})
				if err != nil {
					t.Fatalf("Put %s: %v", name, err)
				}
				if info.Size != int64(len(want)) {
					t.Errorf("Put %s: Size %d, want %d", name, info.Size, len(want))
				}
				rc, got, err := s.Get(ctx, name, part-10)
				if err != nil {
					t.Fatalf("Get %s: %v", name, err)
				}
				body, err := io.ReadAll(rc)
				_ = rc.Close()
				if err != nil || !bytes.Equal(body, want[part-10:]) || got.Size != int64(len(want)) || got.ContentType != "application/x-test" {
					t.Errorf("Get %s from %d: %d bytes (err %v), Size %d, type %q; want %d bytes, Size %d", name, part-10, len(body), err, got.Size, got.ContentType, len(want)-part+10, len(want))
				}
			}

			// A reader that breaks in the second part aborts the upload:
			// the old object stays and no upload lingers.
			broken := io.MultiReader(bytes.NewReader(content[:part+part/2]), errorReader{})
			if _, err := s.Put(ctx, "three-parts", broken, ports.PutOptions{}); err == nil {
				t.Fatal("Put with a broken reader succeeded")
			}
			st, err := s.Stat(ctx, "three-parts")
			if err != nil || st.Size != int64(len(content)) {
				t.Errorf("after a broken Put: Stat = %+v, %v; want the old object", st, err)
			}
			uploads, err := rawClient().ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
			if err != nil {
				t.Fatal(err)
			}
			if len(uploads.Uploads) != 0 {
				t.Errorf("%d multipart uploads left after an aborted Put", len(uploads.Uploads))
			}
		})
	}
}

type errorReader struct{}

func (errorReader) Read([]byte) (int, error) { return 0, errors.New("the network broke") }

func TestPrefixesIsolateStoresAgainstServer(t *testing.T) {
	bucket := testBucket(t)
	ctx := context.Background()
	open := func(prefix string) *s3blob.Store {
		cfg := serverConfig(bucket)
		cfg.Prefix = prefix
		s, err := s3blob.New(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	one, two := open("one"), open("one-two/")
	if _, err := one.Put(ctx, "k", strings.NewReader("1"), ports.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := two.Put(ctx, "k", strings.NewReader("2"), ports.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]*s3blob.Store{"one": one, "one-two/": two} {
		objs, more, err := s.List(ctx, "", "", 0)
		if err != nil || more || len(objs) != 1 || objs[0].Key != "k" || objs[0].Size != 1 {
			t.Errorf("store %s lists %+v, %v, %v; want only its k", name, objs, more, err)
		}
	}
	// The object is at <prefix>/k in the bucket, for lifecycle rules.
	if _, err := rawClient().HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("one/k")}); err != nil {
		t.Errorf("one/k is not in the bucket: %v", err)
	}
}

func TestNewChecksTheBucketAgainstServer(t *testing.T) {
	needServer(t)
	ctx := context.Background()
	_, err := s3blob.New(ctx, serverConfig("forge-test-no-such-bucket"))
	if !fault.Is(err, fault.Unavailable) || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("New on a missing bucket: %v; want Unavailable saying it does not exist", err)
	}
	cfg := serverConfig(testBucket(t))
	cfg.SecretAccessKey = "wrong-secret"
	cfg.MaxAttempts = 1
	_, err = s3blob.New(ctx, cfg)
	if !fault.Is(err, fault.Unavailable) || !strings.Contains(err.Error(), "check the credentials") {
		t.Errorf("New with a wrong secret: %v; want Unavailable saying to check the credentials", err)
	}
	if strings.Contains(err.Error(), "wrong-secret") {
		t.Errorf("the error shows the secret: %v", err)
	}
}

func TestNestedKeysAgainstServer(t *testing.T) {
	bucket := testBucket(t)
	ctx := context.Background()
	s, err := s3blob.New(ctx, serverConfig(bucket))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "a/b", strings.NewReader("b"), ports.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	// Servers that keep objects as files refuse with Conflict; others
	// (Amazon S3, Ceph RGW) store it.
	_, err = s.Put(ctx, "a/b/c", strings.NewReader("c"), ports.PutOptions{})
	switch {
	case err == nil:
		t.Log("the server holds nested keys")
	case fault.Is(err, fault.Conflict):
		t.Logf("the server refuses nested keys: %v", err)
	default:
		t.Errorf("Put a/b/c next to a/b: %v; want success or Conflict", err)
	}
	if _, err := s.Stat(ctx, "a/b"); err != nil {
		t.Errorf("a/b after the nested Put: %v", err)
	}
}

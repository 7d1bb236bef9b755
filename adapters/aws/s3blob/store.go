package s3blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/catalyst-forge/forge/adapters/aws/awsconfig"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
)

const (
	defaultPartSize  = 8 << 20
	minPartSize      = 5 << 20 // S3's minimum for every part but the last
	maxListPage      = 1000    // S3's maximum MaxKeys
	maxPresignTTL    = 7 * 24 * time.Hour
	defaultS3Region  = "us-east-1"
	abortGracePeriod = 30 * time.Second
)

// Config says which bucket to use and how to reach it.
type Config struct {
	// Bucket holds the objects. Required.
	Bucket string
	// Prefix, when set, is put before every key, so that several
	// installations can share a bucket; a "/" is added when it does not
	// end with one. It follows the rules of keys.
	Prefix string
	// Region of the bucket. Empty means the default AWS configuration's
	// (AWS_REGION, ~/.aws/config), or us-east-1 with an Endpoint.
	Region string
	// Endpoint is the base URL of an S3-compatible server
	// ("http://127.0.0.1:7070"); empty means Amazon S3.
	Endpoint string
	// PathStyle addresses the bucket in the path (host/bucket/key) rather
	// than in the host name; most S3-compatible servers need it.
	PathStyle bool
	// AccessKeyID and SecretAccessKey are static credentials. Leave both
	// empty to use the default AWS credential chain (environment, shared
	// files, IRSA web identity, instance roles).
	AccessKeyID     string
	SecretAccessKey string
	// CreateBucket creates the bucket in New when it does not exist. For
	// tests and development; production buckets are provisioned with
	// their lifecycle rules.
	CreateBucket bool
	// PartSize is the size of the parts of a multipart upload, and the
	// largest content sent in one PutObject. Zero means 8 MiB; the
	// minimum is 5 MiB. Each Put in flight buffers up to one part.
	PartSize int64
	// MaxAttempts bounds the attempts of each S3 call, retries included.
	// Zero means the SDK's default (3).
	MaxAttempts int

	// sdkChecksums keeps the SDK's default checksums with an Endpoint
	// (tests of the Amazon S3 code path against another server).
	sdkChecksums bool
}

// Store is an ObjectStore in an S3 bucket. It is safe for concurrent use.
type Store struct {
	client   *s3.Client
	presign  *s3.PresignClient
	bucket   string
	prefix   string
	partSize int64
	crc32    bool // multipart parts carry CRC32 checksums
	where    string
}

var _ ports.ObjectStore = (*Store)(nil)

// New returns a Store on cfg's bucket after checking that the bucket can
// be reached (creating it first when cfg.CreateBucket is set). Errors:
// Validation for a bad Config, Unavailable when the bucket cannot be
// reached, does not exist, or the credentials are refused.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	prefix := cfg.Prefix
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	partSize := cfg.PartSize
	if partSize == 0 {
		partSize = defaultPartSize
	}

	awsCfg, err := awsconfig.Load(ctx, "s3blob", awsconfig.Options{Region: cfg.Region, AccessKeyID: cfg.AccessKeyID,
		SecretAccessKey: cfg.SecretAccessKey, MaxAttempts: cfg.MaxAttempts})
	if err != nil {
		return nil, err
	}
	if awsCfg.Region == "" {
		if cfg.Endpoint == "" {
			return nil, fault.New(fault.Validation, "s3blob: no region for bucket %q: set Config.Region or AWS_REGION", cfg.Bucket)
		}
		awsCfg.Region = defaultS3Region
	}
	onlyRequired := cfg.Endpoint != "" && !cfg.sdkChecksums
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
		if onlyRequired {
			o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
			o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		}
	})
	where := "Amazon S3 (" + awsCfg.Region + ")"
	if cfg.Endpoint != "" {
		where = cfg.Endpoint
	}
	s := &Store{
		client:   client,
		presign:  s3.NewPresignClient(client),
		bucket:   cfg.Bucket,
		prefix:   prefix,
		partSize: partSize,
		crc32:    client.Options().RequestChecksumCalculation != aws.RequestChecksumCalculationWhenRequired,
		where:    where,
	}
	if cfg.CreateBucket {
		if err := s.createBucket(ctx, awsCfg.Region); err != nil {
			return nil, err
		}
	}
	if _, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s.bucket)}); err != nil {
		return nil, s.bucketError(err)
	}
	return s, nil
}

func (cfg Config) validate() error {
	switch {
	case cfg.Bucket == "":
		return fault.New(fault.Validation, "s3blob: no bucket given")
	case (cfg.AccessKeyID == "") != (cfg.SecretAccessKey == ""):
		return fault.New(fault.Validation, "s3blob: give both an access key ID and a secret access key, or neither (for the default credential chain)")
	case cfg.PartSize != 0 && cfg.PartSize < minPartSize:
		return fault.New(fault.Validation, "s3blob: part size %d is under S3's minimum of 5 MiB", cfg.PartSize)
	case cfg.MaxAttempts < 0:
		return fault.New(fault.Validation, "s3blob: negative MaxAttempts %d", cfg.MaxAttempts)
	}
	if cfg.Prefix != "" {
		if err := ports.ValidateObjectKey(strings.TrimSuffix(cfg.Prefix, "/")); err != nil {
			return fault.Wrap(fault.Validation, err, "s3blob: prefix %q", cfg.Prefix)
		}
	}
	if cfg.Endpoint != "" {
		u, err := url.Parse(cfg.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fault.New(fault.Validation, "s3blob: endpoint %q is not an http(s) URL", cfg.Endpoint)
		}
	}
	return nil
}

func (s *Store) createBucket(ctx context.Context, region string) error {
	in := &s3.CreateBucketInput{Bucket: aws.String(s.bucket)}
	if region != defaultS3Region {
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{
			LocationConstraint: types.BucketLocationConstraint(region),
		}
	}
	_, err := s.client.CreateBucket(ctx, in)
	var owned *types.BucketAlreadyOwnedByYou
	if err != nil && !errors.As(err, &owned) {
		return s.bucketError(err)
	}
	return nil
}

// Put stores the content of r under key: in one PutObject when it fits in
// a part, else as a multipart upload.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, opts ports.PutOptions) (ports.ObjectInfo, error) {
	if err := s.checkKey(key); err != nil {
		return ports.ObjectInfo{}, err
	}
	ct, err := opts.ContentTypeOrDefault()
	if err != nil {
		return ports.ObjectInfo{}, err
	}
	if err := ctx.Err(); err != nil {
		return ports.ObjectInfo{}, fault.Wrap(fault.Unavailable, err, "s3blob: put %q", key)
	}
	// Read one byte more than a part to learn whether more follow.
	first, err := readPart(r, nil, s.partSize+1)
	if err != nil {
		return ports.ObjectInfo{}, fault.Wrap(fault.Unavailable, err, "s3blob: reading the content of %q", key)
	}
	size := int64(len(first))
	if size <= s.partSize {
		_, err = s.client.PutObject(ctx, &s3.PutObjectInput{
			Bucket:        aws.String(s.bucket),
			Key:           aws.String(s.prefix + key),
			Body:          bytes.NewReader(first),
			ContentLength: aws.Int64(size),
			ContentType:   aws.String(ct),
		})
		if err != nil {
			return ports.ObjectInfo{}, s.objectError(err, "put", key)
		}
	} else if size, err = s.putMultipart(ctx, key, ct, first, r); err != nil {
		return ports.ObjectInfo{}, err
	}
	// S3 does not return the modification time of a new object; the local
	// clock is as close as one more request would be.
	return ports.ObjectInfo{Key: key, Size: size, ContentType: ct, ModTime: time.Now().UTC()}, nil
}

// putMultipart uploads first (one byte over a part) and the rest of r as
// a multipart upload, and returns the size of the object.
func (s *Store) putMultipart(ctx context.Context, key, ct string, first []byte, r io.Reader) (int64, error) {
	create := &s3.CreateMultipartUploadInput{
		Bucket:      aws.String(s.bucket),
		Key:         aws.String(s.prefix + key),
		ContentType: aws.String(ct),
	}
	if s.crc32 {
		create.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32
	}
	up, err := s.client.CreateMultipartUpload(ctx, create)
	if err != nil {
		return 0, s.objectError(err, "put", key)
	}
	size, err := s.uploadParts(ctx, key, up.UploadId, first, r)
	if err != nil {
		// Abort even when ctx is done, so the parts do not linger.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortGracePeriod)
		defer cancel()
		_, _ = s.client.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{
			Bucket:   aws.String(s.bucket),
			Key:      aws.String(s.prefix + key),
			UploadId: up.UploadId,
		})
		return 0, err
	}
	return size, nil
}

func (s *Store) uploadParts(ctx context.Context, key string, uploadID *string, first []byte, r io.Reader) (int64, error) {
	var (
		parts []types.CompletedPart
		size  int64
		buf   = first
	)
	for num := int32(1); ; num++ {
		part, carry := buf, []byte(nil)
		if int64(len(buf)) > s.partSize {
			part, carry = buf[:s.partSize], buf[s.partSize:]
		}
		in := &s3.UploadPartInput{
			Bucket:        aws.String(s.bucket),
			Key:           aws.String(s.prefix + key),
			UploadId:      uploadID,
			PartNumber:    aws.Int32(num),
			Body:          bytes.NewReader(part),
			ContentLength: aws.Int64(int64(len(part))),
		}
		if s.crc32 {
			in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32
		}
		out, err := s.client.UploadPart(ctx, in)
		if err != nil {
			return 0, s.objectError(err, "put", key)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(num), ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32})
		size += int64(len(part))
		if carry == nil {
			break
		}
		// The next part: the byte carried over and up to a part more.
		if buf, err = readPart(r, carry, s.partSize+1); err != nil {
			return 0, fault.Wrap(fault.Unavailable, err, "s3blob: reading the content of %q", key)
		}
	}
	_, err := s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          aws.String(s.bucket),
		Key:             aws.String(s.prefix + key),
		UploadId:        uploadID,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		return 0, s.objectError(err, "put", key)
	}
	return size, nil
}

// readPart returns carry followed by what r gives, up to n bytes in all.
// Reading stops early only at the end of r.
func readPart(r io.Reader, carry []byte, n int64) ([]byte, error) {
	var b bytes.Buffer
	b.Write(carry)
	if _, err := io.CopyN(&b, r, n-int64(len(carry))); err != nil && err != io.EOF {
		return nil, err
	}
	return b.Bytes(), nil
}

// Get opens the object at key from offset on, with a ranged GetObject.
func (s *Store) Get(ctx context.Context, key string, offset int64) (io.ReadCloser, ports.ObjectInfo, error) {
	if err := s.checkKey(key); err != nil {
		return nil, ports.ObjectInfo{}, err
	}
	if offset < 0 {
		return nil, ports.ObjectInfo{}, fault.New(fault.Validation, "s3blob: negative offset %d", offset)
	}
	in := &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.prefix + key)}
	if offset > 0 {
		in.Range = aws.String("bytes=" + strconv.FormatInt(offset, 10) + "-")
	}
	out, err := s.client.GetObject(ctx, in)
	if err != nil {
		if offset > 0 && errorCode(err) == "InvalidRange" {
			// At or past the end: an empty body, if the object is there.
			info, err := s.Stat(ctx, key)
			if err != nil {
				return nil, ports.ObjectInfo{}, err
			}
			return io.NopCloser(bytes.NewReader(nil)), info, nil
		}
		return nil, ports.ObjectInfo{}, s.objectError(err, "get", key)
	}
	info := ports.ObjectInfo{
		Key:         key,
		Size:        aws.ToInt64(out.ContentLength),
		ContentType: aws.ToString(out.ContentType),
		ModTime:     aws.ToTime(out.LastModified).UTC(),
	}
	if total, ok := rangeTotal(aws.ToString(out.ContentRange)); ok {
		info.Size = total
	}
	return &body{rc: out.Body, key: key}, info, nil
}

// rangeTotal reads the object size from a Content-Range header such as
// "bytes 10-35/36".
func rangeTotal(cr string) (int64, bool) {
	i := strings.LastIndexByte(cr, '/')
	if i < 0 {
		return 0, false
	}
	n, err := strconv.ParseInt(cr[i+1:], 10, 64)
	return n, err == nil
}

// body is the content of a Get; read errors are Unavailable.
type body struct {
	rc  io.ReadCloser
	key string
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err != nil && err != io.EOF {
		err = fault.Wrap(fault.Unavailable, err, "s3blob: reading %q", b.key)
	}
	return n, err
}

func (b *body) Close() error { return b.rc.Close() }

// Stat describes the object at key with a HeadObject.
func (s *Store) Stat(ctx context.Context, key string) (ports.ObjectInfo, error) {
	if err := s.checkKey(key); err != nil {
		return ports.ObjectInfo{}, err
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.prefix + key)})
	if err != nil {
		return ports.ObjectInfo{}, s.objectError(err, "stat", key)
	}
	return ports.ObjectInfo{
		Key:         key,
		Size:        aws.ToInt64(out.ContentLength),
		ContentType: aws.ToString(out.ContentType),
		ModTime:     aws.ToTime(out.LastModified).UTC(),
	}, nil
}

// Delete removes the object at key; S3 answers a missing key with success.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.checkKey(key); err != nil {
		return err
	}
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.prefix + key)})
	if err == nil {
		return nil
	}
	if err := s.objectError(err, "delete", key); !fault.Is(err, fault.NotFound) {
		return err
	}
	return nil
}

// List returns one page of ListObjectsV2. It asks for one key more than
// limit, so that a full page says by itself whether more follow: some
// servers (versitygw) report a full page under a prefix as truncated when
// nothing follows. S3 returns at most 1000 keys a call, so a limit of 1000
// or more gives pages of up to 1000 with S3's own IsTruncated.
func (s *Store) List(ctx context.Context, prefix, after string, limit int) ([]ports.ObjectInfo, bool, error) {
	if limit < 0 {
		return nil, false, fault.New(fault.Validation, "s3blob: negative list limit %d", limit)
	}
	if limit == 0 || limit > maxListPage {
		limit = maxListPage
	}
	in := &s3.ListObjectsV2Input{
		Bucket:       aws.String(s.bucket),
		Prefix:       aws.String(s.prefix + prefix),
		MaxKeys:      aws.Int32(int32(min(limit+1, maxListPage))),
		EncodingType: types.EncodingTypeUrl,
	}
	if after != "" {
		in.StartAfter = aws.String(s.prefix + after)
	}
	out, err := s.client.ListObjectsV2(ctx, in)
	if err != nil {
		return nil, false, s.objectError(err, "list", prefix)
	}
	objs := make([]ports.ObjectInfo, 0, len(out.Contents))
	for _, o := range out.Contents {
		key := aws.ToString(o.Key)
		if out.EncodingType == types.EncodingTypeUrl {
			if key, err = url.QueryUnescape(key); err != nil {
				return nil, false, fault.Wrap(fault.Internal, err, "s3blob: the server listed a badly encoded key %q", aws.ToString(o.Key))
			}
		}
		key, ok := strings.CutPrefix(key, s.prefix)
		if !ok {
			continue
		}
		objs = append(objs, ports.ObjectInfo{
			Key:     key,
			Size:    aws.ToInt64(o.Size),
			ModTime: aws.ToTime(o.LastModified).UTC(),
		})
	}
	if len(objs) > limit {
		return objs[:limit], true, nil
	}
	// A short page: trust the server, which may stop early (S3 may).
	return objs, aws.ToBool(out.IsTruncated), nil
}

// PresignGet signs a GetObject of key for ttl (whole seconds, 1 s to 7
// days, as SigV4 allows). It does not check that the object exists.
func (s *Store) PresignGet(ctx context.Context, key string, ttl time.Duration) (string, error) {
	if err := s.checkKey(key); err != nil {
		return "", err
	}
	if ttl < time.Second || ttl > maxPresignTTL {
		return "", fault.New(fault.Validation, "s3blob: link lifetime %v is outside S3's 1s to 7 days", ttl)
	}
	req, err := s.presign.PresignGetObject(ctx,
		&s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.prefix + key)},
		s3.WithPresignExpires(ttl))
	if err != nil {
		return "", s.objectError(err, "presign", key)
	}
	return req.URL, nil
}

// checkKey validates key and its length with the store's prefix.
func (s *Store) checkKey(key string) error {
	if err := ports.ValidateObjectKey(key); err != nil {
		return err
	}
	if n := len(s.prefix) + len(key); n > ports.MaxObjectKeyBytes {
		return fault.New(fault.Validation, "s3blob: with the store's prefix %q, key %q… is %d bytes long, over S3's limit of %d", s.prefix, key[:min(len(key), 32)], n, ports.MaxObjectKeyBytes)
	}
	return nil
}

// String names the bucket and where it is, for logs.
func (s *Store) String() string {
	return fmt.Sprintf("s3://%s/%s at %s", s.bucket, s.prefix, s.where)
}

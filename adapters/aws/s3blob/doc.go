// Package s3blob is the S3 adapter of the ObjectStore port
// (ports.ObjectStore), on aws-sdk-go-v2. It is in the adapters/aws layer,
// which holds the adapters of AWS services, and serves two profiles: the
// AWS profile on Amazon S3, and the on-premises profile on S3-compatible
// servers (Ceph RGW, MinIO, versitygw) through Config.Endpoint and
// Config.PathStyle.
//
// The package owns the mapping of the port onto the S3 API:
//
//   - keys are stored under Config.Prefix in Config.Bucket, so several
//     installations (or test runs) can share a bucket;
//   - Put reads the content in parts of Config.PartSize (8 MiB by
//     default): content that fits in one part is sent with one PutObject,
//     longer content as a multipart upload, which S3 makes visible only
//     when it completes (and which is aborted when anything fails), so
//     readers never see a partial object;
//   - Get from an offset is a ranged GetObject; an offset at or past the end
//     (S3 answers 416) gives an empty body and the object's description;
//   - List is one ListObjectsV2 call with Prefix, StartAfter and MaxKeys
//     (S3 returns at most 1000 per call); it does not fill ContentType,
//     which ListObjectsV2 does not return;
//   - PresignGet signs a GetObject with the SDK's presign client (SigV4,
//     1 s to 7 days); a link signed with temporary credentials (IRSA,
//     instance roles) stops working when they expire, whatever its ttl;
//   - errors of the SDK map to fault kinds at this boundary: NoSuchKey and
//     404 are NotFound; 403 and a missing bucket are Unavailable with a
//     message that says to check the credentials, the bucket policy or the
//     bucket name; network errors, throttling and 5xx are Unavailable.
//
// Servers that keep objects as files (versitygw's POSIX backend, MinIO)
// cannot hold an object "a/b" and an object "a/b/c" at the same time; they
// answer 409 (ObjectParentIsFile, ExistingObjectIsDirectory and the MinIO
// equivalents), which Put returns as Conflict, a kind the port does not
// list, because the key is valid and the limit is the server's. Amazon S3
// and Ceph RGW have no such limit.
//
// Checksums: on Amazon S3 the SDK's default request checksums are kept
// (multipart parts carry CRC32, as the SDK's transfer manager does). With
// a custom Endpoint they are sent only where the API requires them, since
// many S3-compatible servers reject or mishandle the newer checksum
// headers.
package s3blob

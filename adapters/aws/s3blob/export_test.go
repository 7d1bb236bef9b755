package s3blob

// WithSDKChecksums returns cfg with the SDK's default checksums kept even
// with an Endpoint, so tests can run Amazon S3's code path (CRC32 parts)
// against an S3-compatible server.
func WithSDKChecksums(cfg Config) Config {
	cfg.sdkChecksums = true
	return cfg
}

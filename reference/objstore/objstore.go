// Package objstore opens the object store a reference process is told to
// use, the filesystem (one machine or a shared volume) or S3 and
// S3-compatible servers, and declares the flags that say which, so that
// forge-worker and forge-dispatcher configure it the same way.
package objstore

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/pflag"

	"github.com/catalyst-forge/forge/adapters/aws/s3blob"
	"github.com/catalyst-forge/forge/adapters/onprem/fsblob"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
)

// Options name one object store: Dir for the filesystem, or S3 when
// S3.Bucket is set.
type Options struct {
	Dir string
	S3  s3blob.Config
}

// Set reports whether a store is named.
func (o Options) Set() bool { return o.Dir != "" || o.S3.Bucket != "" }

// Check refuses both stores named at once. Errors: Validation.
func (o Options) Check() error {
	if o.S3.Bucket != "" && o.Dir != "" {
		return fault.New(fault.Validation, "pass --objects-dir or --s3-bucket, not both")
	}
	return nil
}

// Open opens the store. Errors: Validation (both or neither named),
// Unavailable.
func Open(ctx context.Context, o Options) (ports.ObjectStore, func(), error) {
	if err := o.Check(); err != nil {
		return nil, nil, err
	}
	switch {
	case o.S3.Bucket != "":
		s, err := s3blob.New(ctx, o.S3)
		if err != nil {
			return nil, nil, err
		}
		return s, func() {}, nil
	case o.Dir != "":
		if err := os.MkdirAll(o.Dir, 0o755); err != nil {
			return nil, nil, fmt.Errorf("--objects-dir: %w", err)
		}
		s, err := fsblob.New(o.Dir)
		if err != nil {
			return nil, nil, err
		}
		return s, func() { _ = s.Close() }, nil
	}
	return nil, nil, fault.New(fault.Validation, "no object store: pass --objects-dir DIR or --s3-bucket NAME")
}

// Flags declares --objects-dir and the --s3-* flags, with FORGE_*
// environment variables, into o; what says what the store holds.
func Flags(f *pflag.FlagSet, o *Options, what string) {
	f.StringVar(&o.Dir, "objects-dir", os.Getenv("FORGE_OBJECTS_DIR"), "filesystem object store for "+what+" (one machine or a shared volume)")
	f.StringVar(&o.S3.Bucket, "s3-bucket", os.Getenv("FORGE_S3_BUCKET"), "S3 bucket for "+what+" (credentials from the AWS default chain)")
	f.StringVar(&o.S3.Prefix, "s3-prefix", os.Getenv("FORGE_S3_PREFIX"), "key prefix inside the bucket")
	f.StringVar(&o.S3.Region, "s3-region", os.Getenv("FORGE_S3_REGION"), "bucket region (default: the AWS configuration's)")
	f.StringVar(&o.S3.Endpoint, "s3-endpoint", os.Getenv("FORGE_S3_ENDPOINT"), "S3-compatible server URL (MinIO...); empty: Amazon S3")
	f.BoolVar(&o.S3.PathStyle, "s3-path-style", os.Getenv("FORGE_S3_PATH_STYLE") == "true", "address the bucket in the path (most S3-compatible servers)")
}

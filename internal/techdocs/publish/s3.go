package publish

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"gocloud.dev/blob"
	"gocloud.dev/blob/s3blob"

	"github.com/atrium-dev/atrium/internal/derrors"
)

// openS3 stores sites in an S3 bucket or an S3-compatible server's.
func openS3(ctx context.Context, cfg Config) (backend, error) {
	c := cfg.AwsS3
	if err := required("techdocs.publisher.awsS3.bucketName", c.BucketName); err != nil {
		return backend{}, err
	}
	root, err := rootPath("techdocs.publisher.awsS3.bucketRootPath", c.BucketRootPath)
	if err != nil {
		return backend{}, err
	}
	id, secret := c.Credentials.AccessKeyID, c.Credentials.SecretAccessKey
	if (id == "") != (secret == "") {
		return backend{}, derrors.Invalid("techdocs.publisher.awsS3.credentials: set both accessKeyId and secretAccessKey, or neither")
	}

	var opts []func(*awsconfig.LoadOptions) error
	if c.Region != "" {
		opts = append(opts, awsconfig.WithRegion(c.Region))
	}
	if id != "" {
		opts = append(opts, awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(id, secret, "")))
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		// The SDK's message names files and profiles, never secrets.
		return backend{}, fmt.Errorf("techdocs.publisher.awsS3: load AWS configuration: %w", err)
	}
	if awsCfg.Region == "" {
		// An S3-compatible server ignores the region but the signer needs
		// one; us-east-1 is also what S3 assumes without one.
		awsCfg.Region = "us-east-1"
	}
	checksums := aws.RequestChecksumCalculationWhenSupported
	if c.Endpoint != "" {
		// S3-compatible servers (MinIO releases, Ceph, gofakes3) often
		// reject the CRC trailers the SDK sends by default.
		checksums = aws.RequestChecksumCalculationWhenRequired
		awsCfg.RequestChecksumCalculation = checksums
		awsCfg.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if c.Endpoint != "" {
			o.BaseEndpoint = aws.String(c.Endpoint)
		}
		o.UsePathStyle = c.S3ForcePathStyle
	})
	bucket, err := s3blob.OpenBucket(ctx, client, c.BucketName, &s3blob.Options{RequestChecksumCalculation: checksums})
	if err != nil {
		return backend{}, fmt.Errorf("techdocs.publisher.awsS3: %w", err)
	}
	return backend{bucket: bucket, root: root, etag: s3ETag}, nil
}

// s3ETag returns the ETag S3 sent with the object r reads.
func s3ETag(r *blob.Reader) string {
	var out s3.GetObjectOutput
	if r.As(&out) && out.ETag != nil {
		return *out.ETag
	}
	return ""
}

package publish

import (
	"context"
	"path"
	"sort"
	"strings"

	"github.com/atrium-dev/atrium/internal/derrors"
)

// Config is techdocs.publisher (plus techdocs.legacyUseCaseSensitiveTripletPaths)
// in Backstage's shape. Only the section Type names is read.
type Config struct {
	// Type is the store: "local" (the default when empty), "awsS3",
	// "googleGcs" or "azureBlobStorage". Backstage's "openStackSwift" is not
	// supported.
	Type string

	// Local is techdocs.publisher.local.
	Local struct {
		// PublishDirectory is the directory sites are stored in; it is
		// created if missing. Required: the caller supplies a default such
		// as <data dir>/techdocs.
		PublishDirectory string
	}

	// AwsS3 is techdocs.publisher.awsS3: Amazon S3 or an S3-compatible
	// server such as MinIO.
	AwsS3 struct {
		// BucketName is the bucket. Required.
		BucketName string
		// BucketRootPath is a folder inside the bucket under which the
		// sites are stored; empty stores them at the bucket's root.
		BucketRootPath string
		// Region is the bucket's region; empty takes it from the AWS
		// environment (AWS_REGION, the shared config), else us-east-1.
		Region string
		// Endpoint is the URL of an S3-compatible server, e.g.
		// http://minio:9000; empty uses AWS's endpoint for Region.
		Endpoint string
		// S3ForcePathStyle addresses the bucket as <endpoint>/<bucket>
		// instead of <bucket>.<endpoint>, as most S3-compatible servers
		// need.
		S3ForcePathStyle bool
		// Credentials are a static access key. Empty uses the AWS default
		// chain (environment, shared files, web identity, instance role).
		Credentials struct {
			AccessKeyID, SecretAccessKey string
		}
	}

	// GoogleGcs is techdocs.publisher.googleGcs.
	GoogleGcs struct {
		// BucketName is the bucket. Required.
		BucketName string
		// BucketRootPath is a folder inside the bucket under which the
		// sites are stored; empty stores them at the bucket's root.
		BucketRootPath string
		// ProjectID is accepted for Backstage compatibility; reading and
		// writing objects of a named bucket needs no project.
		ProjectID string
		// Credentials is a service account key, the JSON itself (not a
		// file name). Empty uses Application Default Credentials.
		Credentials string
	}

	// AzureBlobStorage is techdocs.publisher.azureBlobStorage.
	AzureBlobStorage struct {
		// ContainerName is the blob container. Required.
		ContainerName string
		// BucketRootPath is a folder inside the container under which the
		// sites are stored; empty stores them at the container's root.
		BucketRootPath string
		// Credentials name the storage account. With AccountKey, requests
		// are signed with that shared key; without, the Azure default
		// credential chain (environment, workload or managed identity,
		// Azure CLI) is used.
		Credentials struct {
			AccountName, AccountKey string
		}
		// ConnectionString, when set, takes the place of Credentials; it
		// may also name a BlobEndpoint, such as an Azurite emulator's.
		ConnectionString string
	}

	// LegacyUseCaseSensitiveTripletPaths keeps the case of namespace, kind
	// and name in storage paths, as Backstage did before it lower-cased
	// them. Set it only for a bucket written that way.
	LegacyUseCaseSensitiveTripletPaths bool
}

// openers builds the backend of each publisher type. Each validates its own
// section of Config and names the key at fault.
var openers = map[string]func(ctx context.Context, cfg Config) (backend, error){
	"local":            openLocal,
	"awsS3":            openS3,
	"googleGcs":        openGCS,
	"azureBlobStorage": openAzure,
}

// New returns the Publisher that cfg describes. It checks the configuration
// and builds the store's client, but reaches no server: a wrong bucket or
// credential shows on the first Publish or Open.
func New(ctx context.Context, cfg Config) (Publisher, error) {
	typ := cfg.Type
	if typ == "" {
		typ = "local"
	}
	open, ok := openers[typ]
	if !ok {
		return nil, derrors.Invalid("techdocs.publisher.type: unsupported publisher type %q (want one of %s)", typ, strings.Join(publisherTypes(), ", "))
	}
	b, err := open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &publisher{backend: b, caseSensitive: cfg.LegacyUseCaseSensitiveTripletPaths}, nil
}

// publisherTypes returns the supported types, sorted.
func publisherTypes() []string {
	var types []string
	for t := range openers {
		types = append(types, t)
	}
	sort.Strings(types)
	return types
}

// required returns an error naming key when value is empty.
func required(key, value string) error {
	if value == "" {
		return derrors.Invalid("%s is required", key)
	}
	return nil
}

// rootPath returns the bucketRootPath value, configured under key, cleaned
// to "" or "a/b". Backstage accepts "/", "/docs/" and "docs" alike.
func rootPath(key, value string) (string, error) {
	if strings.ContainsAny(value, "\\\x00") {
		return "", derrors.Invalid("%s: %q must be a slash-separated path", key, value)
	}
	for elem := range strings.SplitSeq(value, "/") {
		if elem == ".." {
			return "", derrors.Invalid("%s: %q must not contain ..", key, value)
		}
	}
	cleaned := strings.Trim(path.Clean("/"+value), "/")
	return cleaned, nil
}

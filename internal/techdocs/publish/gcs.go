package publish

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strconv"

	"cloud.google.com/go/storage"
	"gocloud.dev/blob"
	"gocloud.dev/blob/gcsblob"
	"gocloud.dev/gcp"
	"golang.org/x/oauth2/google"

	"github.com/atrium-dev/atrium/internal/derrors"
)

// openGCS stores sites in a Google Cloud Storage bucket.
func openGCS(ctx context.Context, cfg Config) (backend, error) {
	c := cfg.GoogleGcs
	if err := required("techdocs.publisher.googleGcs.bucketName", c.BucketName); err != nil {
		return backend{}, err
	}
	root, err := rootPath("techdocs.publisher.googleGcs.bucketRootPath", c.BucketRootPath)
	if err != nil {
		return backend{}, err
	}
	var creds *google.Credentials
	if c.Credentials == "" {
		creds, err = gcp.DefaultCredentials(ctx)
		if err != nil {
			return backend{}, fmt.Errorf("techdocs.publisher.googleGcs: no credentials configured and no application default credentials: %w", err)
		}
	} else {
		if err := checkServiceAccountKey(c.Credentials); err != nil {
			return backend{}, err
		}
		creds, err = google.CredentialsFromJSONWithType(ctx, []byte(c.Credentials), google.ServiceAccount, storage.ScopeReadWrite)
		if err != nil {
			return backend{}, derrors.Invalid("techdocs.publisher.googleGcs.credentials: not a usable service account key")
		}
	}
	client, err := gcp.NewHTTPClient(gcp.DefaultTransport(), gcp.CredentialsTokenSource(creds))
	if err != nil {
		return backend{}, fmt.Errorf("techdocs.publisher.googleGcs: %w", err)
	}
	bucket, err := gcsblob.OpenBucket(ctx, client, c.BucketName, nil)
	if err != nil {
		return backend{}, fmt.Errorf("techdocs.publisher.googleGcs: %w", err)
	}
	return backend{bucket: bucket, root: root, etag: gcsETag}, nil
}

// gcsETag returns the generation of the object r reads: GCS changes it on
// every write, and its reader carries no ETag.
func gcsETag(r *blob.Reader) string {
	var sr *storage.Reader
	if r.As(&sr) && sr != nil && sr.Attrs.Generation != 0 {
		return `"` + strconv.FormatInt(sr.Attrs.Generation, 10) + `"`
	}
	return ""
}

// checkServiceAccountKey refuses credentials that are not a usable service
// account key now, rather than at the first request, when the token is
// signed. Its errors never quote the key: a JSON error can echo part of it.
func checkServiceAccountKey(credentials string) error {
	const key = "techdocs.publisher.googleGcs.credentials"
	var sa struct {
		Type        string `json:"type"`
		ClientEmail string `json:"client_email"`
		PrivateKey  string `json:"private_key"`
	}
	if err := json.Unmarshal([]byte(credentials), &sa); err != nil {
		return derrors.Invalid("%s: not a JSON service account key", key)
	}
	if sa.Type != string(google.ServiceAccount) {
		return derrors.Invalid("%s: type is %q, want %q", key, sa.Type, google.ServiceAccount)
	}
	if sa.ClientEmail == "" {
		return derrors.Invalid("%s: client_email is missing", key)
	}
	block, _ := pem.Decode([]byte(sa.PrivateKey))
	if block == nil {
		return derrors.Invalid("%s: private_key is not a PEM private key", key)
	}
	if _, err := x509.ParsePKCS8PrivateKey(block.Bytes); err != nil {
		if _, err := x509.ParsePKCS1PrivateKey(block.Bytes); err != nil {
			return derrors.Invalid("%s: private_key is not an RSA private key", key)
		}
	}
	return nil
}

package publish

import (
	"context"
	"fmt"
	"net/url"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	azblobblob "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"gocloud.dev/blob"
	"gocloud.dev/blob/azureblob"

	"github.com/atrium-dev/atrium/internal/derrors"
)

// openAzure stores sites in an Azure Blob Storage container.
func openAzure(ctx context.Context, cfg Config) (backend, error) {
	c := cfg.AzureBlobStorage
	if err := required("techdocs.publisher.azureBlobStorage.containerName", c.ContainerName); err != nil {
		return backend{}, err
	}
	root, err := rootPath("techdocs.publisher.azureBlobStorage.bucketRootPath", c.BucketRootPath)
	if err != nil {
		return backend{}, err
	}
	client, err := azureClient(c.ContainerName, c.Credentials.AccountName, c.Credentials.AccountKey, c.ConnectionString)
	if err != nil {
		return backend{}, err
	}
	bucket, err := azureblob.OpenBucket(ctx, client, nil)
	if err != nil {
		return backend{}, fmt.Errorf("techdocs.publisher.azureBlobStorage: %w", err)
	}
	return backend{bucket: bucket, root: root, etag: azureETag}, nil
}

// azureClient returns the client of the container, authenticated as
// configured. Its errors never quote the key or the connection string.
func azureClient(containerName, account, key, connectionString string) (*container.Client, error) {
	if connectionString != "" {
		client, err := container.NewClientFromConnectionString(connectionString, containerName, nil)
		if err != nil {
			return nil, derrors.Invalid("techdocs.publisher.azureBlobStorage.connectionString: not a valid connection string")
		}
		return client, nil
	}
	if err := required("techdocs.publisher.azureBlobStorage.credentials.accountName", account); err != nil {
		return nil, err
	}
	containerURL := "https://" + url.PathEscape(account) + ".blob.core.windows.net/" + url.PathEscape(containerName)
	if key != "" {
		cred, err := container.NewSharedKeyCredential(account, key)
		if err != nil {
			return nil, derrors.Invalid("techdocs.publisher.azureBlobStorage.credentials.accountKey: not a base64 account key")
		}
		client, err := container.NewClientWithSharedKeyCredential(containerURL, cred, nil)
		if err != nil {
			return nil, fmt.Errorf("techdocs.publisher.azureBlobStorage: %w", err)
		}
		return client, nil
	}
	cred, err := azidentity.NewDefaultAzureCredential(nil)
	if err != nil {
		return nil, fmt.Errorf("techdocs.publisher.azureBlobStorage: no accountKey and no default Azure credential: %w", err)
	}
	client, err := container.NewClient(containerURL, cred, nil)
	if err != nil {
		return nil, fmt.Errorf("techdocs.publisher.azureBlobStorage: %w", err)
	}
	return client, nil
}

// azureETag returns the ETag Azure sent with the object r reads.
func azureETag(r *blob.Reader) string {
	var resp azblobblob.DownloadStreamResponse
	if r.As(&resp) && resp.ETag != nil {
		return string(*resp.ETag)
	}
	return ""
}

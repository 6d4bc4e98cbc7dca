package publish

import (
	"context"
	"fmt"
	"strings"

	"gocloud.dev/blob/fileblob"
)

// openLocal stores sites in a directory through fileblob.
func openLocal(_ context.Context, cfg Config) (backend, error) {
	dir := cfg.Local.PublishDirectory
	if err := required("techdocs.publisher.local.publishDirectory", dir); err != nil {
		return backend{}, err
	}
	bucket, err := fileblob.OpenBucket(dir, &fileblob.Options{
		CreateDir: true,
		// No .attrs sidecar per file: a site directory holds the site and
		// nothing else, and Open takes the content type from the extension.
		Metadata: fileblob.MetadataDontWrite,
		// Write each file's temporary copy next to it, not in os.TempDir:
		// the rename that completes an upload fails across file systems,
		// and the publish directory is usually a volume of its own.
		NoTempDir: true,
	})
	if err != nil {
		return backend{}, fmt.Errorf("techdocs.publisher.local.publishDirectory: %w", err)
	}
	return backend{bucket: bucket, hidden: isFileblobOwn}, nil
}

// isFileblobOwn reports keys of files fileblob writes for itself: metadata
// sidecars (<file>.attrs, left by a bucket opened with sidecars) and the
// temporary copy of a file being uploaded (<file>.<hex nanoseconds>.tmp),
// which stays behind if the process dies mid-upload. Neither is served, and
// a publish never deletes one, since it may be another publish's upload in
// flight.
func isFileblobOwn(key string) bool {
	if strings.HasSuffix(key, ".attrs") {
		return true
	}
	rest, ok := strings.CutSuffix(key, ".tmp")
	if !ok {
		return false
	}
	i := strings.LastIndexByte(rest, '.')
	if i < 0 || i == len(rest)-1 {
		return false
	}
	for _, c := range rest[i+1:] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

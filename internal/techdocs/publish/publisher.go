package publish

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"
	"golang.org/x/sync/errgroup"

	"github.com/atrium-dev/atrium/internal/derrors"
)

// Entity names the docs' owner. An empty Namespace means "default"; each
// part must be a single path element.
type Entity struct{ Namespace, Kind, Name string }

// Publisher stores and serves built sites.
type Publisher interface {
	// Publish uploads every file under dir for e (in parallel, bounded),
	// then deletes files a previous publish left that the new site no
	// longer has (as Backstage does: upload first, then remove stale), and
	// returns what it did. dir must hold techdocs_metadata.json; a symlink
	// in it that leads outside dir, dangles or names a directory fails the
	// publish before anything is uploaded.
	Publish(ctx context.Context, e Entity, dir string) (*PublishResult, error)
	// Open returns one file of e's site. path is slash-separated and
	// relative; a path that is not clean (.., absolute, backslashes, NUL)
	// is refused with an error wrapping derrors.ErrInvalid; a missing file
	// wraps derrors.ErrNotFound. The caller must close the reader, which
	// also implements io.Seeker (for http.ServeContent).
	Open(ctx context.Context, e Entity, path string) (io.ReadCloser, FileInfo, error)
	// Metadata reads and parses e's techdocs_metadata.json (ErrNotFound if
	// e has no docs).
	Metadata(ctx context.Context, e Entity) (*Metadata, error)
	// Close releases the storage client.
	Close() error
}

// FileInfo describes a file Open returns.
type FileInfo struct {
	// Size is the file's length in bytes.
	Size int64
	// ModTime is when the file was last published.
	ModTime time.Time
	// ContentType is the MIME type stored with the file, or the one its
	// extension implies when the store kept none.
	ContentType string
	// ETag is a quoted HTTP entity tag that changes whenever the file does:
	// the store's own where it has one (S3, Azure, GCS generation), else
	// derived from ModTime and Size.
	ETag string
}

// Metadata is techdocs_metadata.json, which the builder writes at the root
// of every site.
type Metadata struct {
	// SiteName is mkdocs.yml's site_name.
	SiteName string `json:"site_name"`
	// SiteDescription is mkdocs.yml's site_description.
	SiteDescription string `json:"site_description"`
	// BuildTimestamp is when the site was built, in milliseconds since the
	// Unix epoch.
	BuildTimestamp int64 `json:"build_timestamp"`
	// Files lists the site's files, relative to its root.
	Files []string `json:"files"`
	// Etag identifies the source the site was built from (a commit SHA or
	// an HTTP ETag); the reader compares it to decide whether to rebuild.
	Etag string `json:"etag,omitempty"`
}

// PublishResult is what one Publish did.
type PublishResult struct {
	// Uploaded counts the files written, Deleted the stale files removed.
	Uploaded, Deleted int
	// Bytes is the total size of the files written.
	Bytes int64
}

// MetadataFile is the name of the metadata file at the root of every site.
const MetadataFile = "techdocs_metadata.json"

const (
	// parallelism bounds the uploads and deletes one Publish runs at once.
	parallelism = 16
	// maxMetadataSize bounds what Metadata reads: the file lists every page
	// and asset, so it grows with the site, but never to this.
	maxMetadataSize = 16 << 20
)

// backend is what New builds for one publisher type: the bucket and what
// only that store knows.
type backend struct {
	bucket *blob.Bucket
	// root is the bucketRootPath, cleaned: "" or "a/b" with no slash at
	// either end.
	root string
	// etag returns the store's entity tag for the object r reads, or "" to
	// have one derived from its ModTime and Size. Nil means always derive.
	etag func(r *blob.Reader) string
	// hidden reports keys the store writes for itself (fileblob's temporary
	// files), which are neither site files nor served. Nil means none.
	hidden func(key string) bool
}

// publisher implements Publisher over any blob.Bucket.
type publisher struct {
	backend
	caseSensitive bool
}

// prefix returns the key prefix of e's site, ending in a slash.
func (p *publisher) prefix(e Entity) (string, error) {
	if e.Namespace == "" {
		e.Namespace = "default"
	}
	triplet := []string{e.Namespace, e.Kind, e.Name}
	for i, part := range triplet {
		if part == "" || part == "." || part == ".." || strings.ContainsAny(part, "/\\\x00") {
			return "", derrors.Invalid("invalid entity %q: each of namespace, kind and name must be a single path element", e.Namespace+"/"+e.Kind+"/"+e.Name)
		}
		if !p.caseSensitive {
			triplet[i] = strings.ToLower(part)
		}
	}
	site := strings.Join(triplet, "/") + "/"
	if p.root == "" {
		return site, nil
	}
	return p.root + "/" + site, nil
}

// checkPath refuses a site path that is not clean and relative: Open must
// never reach outside the entity's site, whatever the store makes of "..",
// a leading slash or a backslash.
func checkPath(name string) error {
	if name == "." || !fs.ValidPath(name) || strings.ContainsAny(name, "\\\x00") {
		return derrors.Invalid("invalid docs path %q: want a clean, relative, slash-separated path", name)
	}
	return nil
}

// Open implements Publisher.
func (p *publisher) Open(ctx context.Context, e Entity, name string) (io.ReadCloser, FileInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, FileInfo{}, err
	}
	if err := checkPath(name); err != nil {
		return nil, FileInfo{}, err
	}
	prefix, err := p.prefix(e)
	if err != nil {
		return nil, FileInfo{}, err
	}
	key := prefix + name
	if p.hidden != nil && p.hidden(key) {
		return nil, FileInfo{}, derrors.NotFound("no docs file %q", name)
	}
	r, err := p.bucket.NewReader(ctx, key, nil)
	if err != nil {
		if gcerrors.Code(err) == gcerrors.NotFound {
			return nil, FileInfo{}, derrors.Wrap(derrors.ErrNotFound, err, "no docs file %q", name)
		}
		return nil, FileInfo{}, fmt.Errorf("techdocs: open %s: %w", key, err)
	}
	info := FileInfo{Size: r.Size(), ModTime: r.ModTime(), ContentType: r.ContentType()}
	// Stores without metadata (fileblob here) report octet-stream for
	// everything; the extension knows better.
	if info.ContentType == "" || info.ContentType == defaultContentType {
		info.ContentType = contentType(name)
	}
	if p.etag != nil {
		info.ETag = p.etag(r)
	}
	if info.ETag == "" {
		info.ETag = `"` + strconv.FormatInt(info.ModTime.UnixNano(), 16) + "-" + strconv.FormatInt(info.Size, 16) + `"`
	}
	return r, info, nil
}

// Metadata implements Publisher.
func (p *publisher) Metadata(ctx context.Context, e Entity) (*Metadata, error) {
	r, _, err := p.Open(ctx, e, MetadataFile)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, maxMetadataSize+1))
	if err != nil {
		return nil, fmt.Errorf("techdocs: read %s: %w", MetadataFile, err)
	}
	if len(data) > maxMetadataSize {
		return nil, fmt.Errorf("techdocs: %s of %s/%s/%s is larger than %d bytes", MetadataFile, e.Namespace, e.Kind, e.Name, maxMetadataSize)
	}
	var m Metadata
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("techdocs: parse %s of %s/%s/%s: %w", MetadataFile, e.Namespace, e.Kind, e.Name, err)
	}
	return &m, nil
}

// Close implements Publisher.
func (p *publisher) Close() error { return p.bucket.Close() }

type progressKey struct{}

// WithProgress returns ctx carrying fn, which Publish calls after each
// file it uploads with the number uploaded so far and the total, one call
// at a time.
func WithProgress(ctx context.Context, fn func(done, total int)) context.Context {
	return context.WithValue(ctx, progressKey{}, fn)
}

func progressFrom(ctx context.Context) func(done, total int) {
	if fn, ok := ctx.Value(progressKey{}).(func(done, total int)); ok {
		return fn
	}
	return func(int, int) {}
}

// siteFile is one file of a site being published.
type siteFile struct {
	name string // slash-separated, relative to the site root
	size int64
}

// Publish implements Publisher.
func (p *publisher) Publish(ctx context.Context, e Entity, dir string) (*PublishResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	prefix, err := p.prefix(e)
	if err != nil {
		return nil, err
	}
	// Every read goes through the root, so no symlink, however it was
	// planted, makes us upload a file from outside the site.
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("techdocs: open site directory: %w", err)
	}
	defer root.Close()
	if err := checkMetadataFile(root, dir); err != nil {
		return nil, err
	}
	files, err := listSite(root)
	if err != nil {
		return nil, err
	}

	var res PublishResult
	var written atomic.Int64
	// The metadata goes last: readers take it as the sign that a build is
	// in place, so it must not announce pages that are not uploaded yet,
	// and a publish that fails halfway leaves the old build_timestamp and
	// etag, which makes the next sync try again.
	progress := progressFrom(ctx)
	var progressMu sync.Mutex
	done := 0
	step := func() {
		progressMu.Lock()
		defer progressMu.Unlock()
		done++
		progress(done, len(files))
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallelism)
	for _, f := range files {
		if f.name == MetadataFile {
			continue
		}
		g.Go(func() error {
			n, err := p.upload(gctx, root, f.name, prefix+f.name)
			written.Add(n)
			if err == nil {
				step()
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	n, err := p.upload(ctx, root, MetadataFile, prefix+MetadataFile)
	if err != nil {
		return nil, err
	}
	step()
	res.Uploaded = len(files)
	res.Bytes = written.Load() + n

	res.Deleted, err = p.deleteStale(ctx, prefix, files)
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// checkMetadataFile refuses a directory that is not a built site: one
// without a techdocs_metadata.json that parses as a JSON object.
func checkMetadataFile(root *os.Root, dir string) error {
	data, err := root.ReadFile(MetadataFile)
	if errors.Is(err, fs.ErrNotExist) {
		return derrors.Invalid("%s is not a built TechDocs site: it has no %s", dir, MetadataFile)
	}
	if err != nil {
		return fmt.Errorf("techdocs: read %s: %w", MetadataFile, err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return derrors.Wrap(derrors.ErrInvalid, err, "%s is not a built TechDocs site: its %s is not a JSON object", dir, MetadataFile)
	}
	return nil
}

// listSite returns every file of the site in root. A symlink is published
// as the file it points to when that is a regular file inside root; one
// that leads outside, dangles or names a directory fails the publish,
// since the site would otherwise differ silently from what was built.
func listSite(root *os.Root) ([]siteFile, error) {
	var files []siteFile
	err := fs.WalkDir(root.FS(), ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if err := checkPath(name); err != nil {
			return derrors.Invalid("site file %q cannot be served: its name has a backslash", name)
		}
		var info fs.FileInfo
		if d.Type()&fs.ModeSymlink != 0 {
			info, err = root.Stat(name)
			if err != nil {
				return derrors.Wrap(derrors.ErrInvalid, err, "site file %q is a symlink that leads outside the site or nowhere", name)
			}
		} else {
			info, err = d.Info()
			if err != nil {
				return err
			}
		}
		if !info.Mode().IsRegular() {
			return derrors.Invalid("site file %q is not a regular file", name)
		}
		files = append(files, siteFile{name: name, size: info.Size()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("techdocs: list site: %w", err)
	}
	return files, nil
}

// upload copies root's file name to key and returns the bytes written.
func (p *publisher) upload(ctx context.Context, root *os.Root, name, key string) (int64, error) {
	f, err := root.Open(name)
	if err != nil {
		return 0, fmt.Errorf("techdocs: open site file: %w", err)
	}
	defer f.Close()
	w, err := p.bucket.NewWriter(ctx, key, &blob.WriterOptions{ContentType: contentType(name)})
	if err != nil {
		return 0, fmt.Errorf("techdocs: upload %s: %w", key, err)
	}
	n, err := io.Copy(w, f)
	if err != nil {
		_ = w.Close() // the copy error says what went wrong
		return n, fmt.Errorf("techdocs: upload %s: %w", key, err)
	}
	if err := w.Close(); err != nil {
		return n, fmt.Errorf("techdocs: upload %s: %w", key, err)
	}
	return n, nil
}

// deleteStale deletes every key under prefix that is not one of files and
// returns how many it deleted.
func (p *publisher) deleteStale(ctx context.Context, prefix string, files []siteFile) (int, error) {
	keep := make(map[string]bool, len(files))
	for _, f := range files {
		keep[prefix+f.name] = true
	}
	var stale []string
	it := p.bucket.List(&blob.ListOptions{Prefix: prefix})
	for {
		obj, err := it.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("techdocs: list %s: %w", prefix, err)
		}
		if obj.IsDir || keep[obj.Key] || (p.hidden != nil && p.hidden(obj.Key)) {
			continue
		}
		stale = append(stale, obj.Key)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallelism)
	for _, key := range stale {
		g.Go(func() error {
			err := p.bucket.Delete(gctx, key)
			if err != nil && gcerrors.Code(err) != gcerrors.NotFound {
				return fmt.Errorf("techdocs: delete stale %s: %w", key, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	return len(stale), nil
}

// defaultContentType is the content type of a file whose extension says
// nothing.
const defaultContentType = "application/octet-stream"

// contentTypes maps the extensions a TechDocs site holds to their content
// types. It is ours rather than mime.TypeByExtension's, which reads the
// host's mime.types and so would store different types on different hosts.
var contentTypes = map[string]string{
	".css":   "text/css; charset=utf-8",
	".gif":   "image/gif",
	".htm":   "text/html; charset=utf-8",
	".html":  "text/html; charset=utf-8",
	".ico":   "image/x-icon",
	".jpeg":  "image/jpeg",
	".jpg":   "image/jpeg",
	".js":    "text/javascript; charset=utf-8",
	".json":  "application/json",
	".pdf":   "application/pdf",
	".png":   "image/png",
	".svg":   "image/svg+xml",
	".txt":   "text/plain; charset=utf-8",
	".webp":  "image/webp",
	".woff":  "font/woff",
	".woff2": "font/woff2",
	".xml":   "application/xml",
}

// contentType returns the content type of the file name by its extension.
func contentType(name string) string {
	if t, ok := contentTypes[strings.ToLower(path.Ext(name))]; ok {
		return t
	}
	return defaultContentType
}

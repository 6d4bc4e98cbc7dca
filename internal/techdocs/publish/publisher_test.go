package publish

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/atrium-dev/atrium/internal/derrors"
)

// store is one backend under test: it opens publishers on one bucket and
// lists what that bucket holds, bypassing the publisher.
type store struct {
	// open returns a publisher on the store, with edit applied to its
	// configuration.
	open func(t *testing.T, edit func(*Config)) Publisher
	// keys lists every object in the store, sorted.
	keys func(t *testing.T) []string
	// hasRootPath reports whether the type has a bucketRootPath key.
	hasRootPath bool
}

// stores returns the backends the suite runs against, each on a fresh
// bucket.
var stores = map[string]func(t *testing.T) store{
	"local": newLocalStore,
	"awsS3": newS3Store,
}

func newLocalStore(t *testing.T) store {
	dir := t.TempDir()
	return store{
		open: func(t *testing.T, edit func(*Config)) Publisher {
			var cfg Config
			cfg.Local.PublishDirectory = dir
			return openPublisher(t, cfg, edit)
		},
		// The directory itself, so that any sidecar or temporary file
		// fileblob left would show.
		keys: func(t *testing.T) []string {
			var keys []string
			err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				rel, err := filepath.Rel(dir, p)
				keys = append(keys, filepath.ToSlash(rel))
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			sort.Strings(keys)
			return keys
		},
	}
}

func newS3Store(t *testing.T) store { return newS3StoreWith(t, nil) }

// newS3StoreWith serves a gofakes3 bucket through wrap, if not nil.
func newS3StoreWith(t *testing.T, wrap func(http.Handler) http.Handler) store {
	backend := s3mem.New()
	if err := backend.CreateBucket("docs"); err != nil {
		t.Fatal(err)
	}
	handler := gofakes3.New(backend).Server()
	if wrap != nil {
		handler = wrap(handler)
	}
	server := httptest.NewServer(handler)
	t.Cleanup(server.Close)
	// Keep the SDK off the developer's AWS files and environment.
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_PROFILE", "")
	config := func() Config {
		var cfg Config
		cfg.Type = "awsS3"
		cfg.AwsS3.BucketName = "docs"
		cfg.AwsS3.Region = "eu-west-1"
		cfg.AwsS3.Endpoint = server.URL
		cfg.AwsS3.S3ForcePathStyle = true
		cfg.AwsS3.Credentials.AccessKeyID = "AKIAFAKE"
		cfg.AwsS3.Credentials.SecretAccessKey = "fake-secret"
		return cfg
	}
	return store{
		open: func(t *testing.T, edit func(*Config)) Publisher {
			return openPublisher(t, config(), edit)
		},
		keys: func(t *testing.T) []string {
			b, err := openS3(context.Background(), config())
			if err != nil {
				t.Fatal(err)
			}
			defer b.bucket.Close()
			var keys []string
			it := b.bucket.List(nil)
			for {
				obj, err := it.Next(context.Background())
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				keys = append(keys, obj.Key)
			}
			sort.Strings(keys)
			return keys
		},
		hasRootPath: true,
	}
}

func openPublisher(t *testing.T, cfg Config, edit func(*Config)) Publisher {
	t.Helper()
	if edit != nil {
		edit(&cfg)
	}
	p, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return p
}

// testMetadata is the techdocs_metadata.json of the test sites.
var testMetadata = Metadata{
	SiteName:        "Foo",
	SiteDescription: "The Foo service",
	BuildTimestamp:  1700000000000,
	Files:           []string{"index.html"},
	Etag:            "5f1c0de",
}

// testSite is a built site: file name to content.
func testSite() map[string]string {
	return map[string]string{
		MetadataFile:                `{"site_name":"Foo","site_description":"The Foo service","build_timestamp":1700000000000,"files":["index.html"],"etag":"5f1c0de"}`,
		"index.html":                "<html><body>Foo</body></html>",
		"guide/install/index.html":  "<html><body>Install</body></html>",
		"assets/site.css":           "body{margin:0}",
		"assets/site.js":            "console.log(1)",
		"search/search_index.json":  `{"docs":[]}`,
		"img/logo.svg":              "<svg/>",
		"img/shot.png":              "\x89PNG\r\n",
		"img/photo.JPG":             "\xff\xd8\xff",
		"img/anim.gif":              "GIF89a",
		"img/pic.webp":              "RIFF",
		"assets/fonts/inter.woff2":  "wOF2",
		"files/spec.pdf":            "%PDF-1.7",
		"robots.txt":                "User-agent: *",
		"sitemap.xml":               "<urlset/>",
		"assets/data.bin":           "\x00\x01",
		"guide/install/diagram.svg": "<svg id='d'/>",
	}
}

// wantContentType is the content type each test file must be served with.
var wantContentType = map[string]string{
	MetadataFile:                "application/json",
	"index.html":                "text/html; charset=utf-8",
	"guide/install/index.html":  "text/html; charset=utf-8",
	"assets/site.css":           "text/css; charset=utf-8",
	"assets/site.js":            "text/javascript; charset=utf-8",
	"search/search_index.json":  "application/json",
	"img/logo.svg":              "image/svg+xml",
	"img/shot.png":              "image/png",
	"img/photo.JPG":             "image/jpeg",
	"img/anim.gif":              "image/gif",
	"img/pic.webp":              "image/webp",
	"assets/fonts/inter.woff2":  "font/woff2",
	"files/spec.pdf":            "application/pdf",
	"robots.txt":                "text/plain; charset=utf-8",
	"sitemap.xml":               "application/xml",
	"assets/data.bin":           "application/octet-stream",
	"guide/install/diagram.svg": "image/svg+xml",
}

// writeSite writes files into a new directory and returns it.
func writeSite(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// siteKeys returns the storage keys of files under prefix, sorted.
func siteKeys(prefix string, files map[string]string) []string {
	var keys []string
	for name := range files {
		keys = append(keys, prefix+name)
	}
	sort.Strings(keys)
	return keys
}

// readFile opens name of e's site and returns its content and info.
func readFile(t *testing.T, p Publisher, e Entity, name string) (string, FileInfo) {
	t.Helper()
	r, info, err := p.Open(context.Background(), e, name)
	if err != nil {
		t.Fatalf("Open(%v, %q): %v", e, name, err)
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read %q: %v", name, err)
	}
	return string(data), info
}

var foo = Entity{Namespace: "default", Kind: "component", Name: "foo"}

func TestPublisher(t *testing.T) {
	for name, newStore := range stores {
		t.Run(name, func(t *testing.T) {
			for _, tc := range suite {
				t.Run(tc.name, func(t *testing.T) { tc.test(t, newStore(t)) })
			}
		})
	}
}

// suite is the behaviour every backend must show.
var suite = []struct {
	name string
	test func(t *testing.T, s store)
}{
	{"PublishThenOpen", testPublishThenOpen},
	{"Metadata", testMetadataRead},
	{"RepublishDeletesStale", testRepublishDeletesStale},
	{"TripletLowerCased", testTripletLowerCased},
	{"LegacyCaseSensitive", testLegacyCaseSensitive},
	{"BucketRootPath", testBucketRootPath},
	{"InvalidPaths", testInvalidPaths},
	{"InvalidEntities", testInvalidEntities},
	{"MissingFile", testMissingFile},
	{"NoMetadataPublished", testNoMetadataPublished},
	{"NotABuiltSite", testNotABuiltSite},
	{"Symlinks", testSymlinks},
	{"ContextCancelled", testContextCancelled},
}

func testPublishThenOpen(t *testing.T, s store) {
	p := s.open(t, nil)
	site := testSite()
	res, err := p.Publish(context.Background(), foo, writeSite(t, site))
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	var size int64
	for _, content := range site {
		size += int64(len(content))
	}
	if diff := cmp.Diff(&PublishResult{Uploaded: len(site), Bytes: size}, res); diff != "" {
		t.Errorf("PublishResult (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(siteKeys("default/component/foo/", site), s.keys(t)); diff != "" {
		t.Errorf("stored keys (-want +got):\n%s", diff)
	}
	for name, want := range site {
		got, info := readFile(t, p, foo, name)
		if got != want {
			t.Errorf("Open(%q) content = %q, want %q", name, got, want)
		}
		if info.ContentType != wantContentType[name] {
			t.Errorf("Open(%q) ContentType = %q, want %q", name, info.ContentType, wantContentType[name])
		}
		if info.Size != int64(len(want)) {
			t.Errorf("Open(%q) Size = %d, want %d", name, info.Size, len(want))
		}
		if !strings.HasPrefix(info.ETag, `"`) || info.ModTime.IsZero() {
			t.Errorf("Open(%q) ETag = %q, ModTime = %v: want a quoted ETag and a ModTime", name, info.ETag, info.ModTime)
		}
	}
}

func testMetadataRead(t *testing.T, s store) {
	p := s.open(t, nil)
	if _, err := p.Publish(context.Background(), foo, writeSite(t, testSite())); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	got, err := p.Metadata(context.Background(), foo)
	if err != nil {
		t.Fatalf("Metadata: %v", err)
	}
	if diff := cmp.Diff(&testMetadata, got); diff != "" {
		t.Errorf("Metadata (-want +got):\n%s", diff)
	}
}

func testRepublishDeletesStale(t *testing.T, s store) {
	p := s.open(t, nil)
	ctx := context.Background()
	// foo-bar shares foo's name as a prefix: republishing foo must not
	// touch it.
	fooBar := Entity{Namespace: "default", Kind: "component", Name: "foo-bar"}
	if _, err := p.Publish(ctx, fooBar, writeSite(t, testSite())); err != nil {
		t.Fatalf("Publish foo-bar: %v", err)
	}
	if _, err := p.Publish(ctx, foo, writeSite(t, testSite())); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	smaller := map[string]string{
		MetadataFile: testSite()[MetadataFile],
		"index.html": "<html><body>Foo v2</body></html>",
		"new.html":   "<html><body>New</body></html>",
	}
	res, err := p.Publish(ctx, foo, writeSite(t, smaller))
	if err != nil {
		t.Fatalf("republish: %v", err)
	}
	wantDeleted := len(testSite()) - 2 // all but the metadata and index.html
	if res.Uploaded != len(smaller) || res.Deleted != wantDeleted {
		t.Errorf("republish = %+v, want Uploaded %d, Deleted %d", res, len(smaller), wantDeleted)
	}
	want := append(siteKeys("default/component/foo-bar/", testSite()), siteKeys("default/component/foo/", smaller)...)
	sort.Strings(want)
	if diff := cmp.Diff(want, s.keys(t)); diff != "" {
		t.Errorf("stored keys (-want +got):\n%s", diff)
	}
	if got, _ := readFile(t, p, foo, "index.html"); got != smaller["index.html"] {
		t.Errorf("index.html = %q, want the new content %q", got, smaller["index.html"])
	}
	if _, _, err := p.Open(ctx, foo, "assets/site.css"); !errors.Is(err, derrors.ErrNotFound) {
		t.Errorf("Open of a deleted file: err = %v, want ErrNotFound", err)
	}
}

func testTripletLowerCased(t *testing.T, s store) {
	p := s.open(t, nil)
	mixed := Entity{Namespace: "Default", Kind: "Component", Name: "Foo"}
	if _, err := p.Publish(context.Background(), mixed, writeSite(t, testSite())); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if diff := cmp.Diff(siteKeys("default/component/foo/", testSite()), s.keys(t)); diff != "" {
		t.Errorf("stored keys (-want +got):\n%s", diff)
	}
	for _, e := range []Entity{foo, mixed, {Namespace: "DEFAULT", Kind: "COMPONENT", Name: "FOO"}, {Kind: "component", Name: "foo"}} {
		if got, _ := readFile(t, p, e, "index.html"); got != testSite()["index.html"] {
			t.Errorf("Open(%v, index.html) = %q", e, got)
		}
	}
}

func testLegacyCaseSensitive(t *testing.T, s store) {
	p := s.open(t, func(c *Config) { c.LegacyUseCaseSensitiveTripletPaths = true })
	mixed := Entity{Namespace: "Default", Kind: "Component", Name: "Foo"}
	if _, err := p.Publish(context.Background(), mixed, writeSite(t, testSite())); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if diff := cmp.Diff(siteKeys("Default/Component/Foo/", testSite()), s.keys(t)); diff != "" {
		t.Errorf("stored keys (-want +got):\n%s", diff)
	}
	if got, _ := readFile(t, p, mixed, "index.html"); got != testSite()["index.html"] {
		t.Errorf("Open(%v, index.html) = %q", mixed, got)
	}
	if _, _, err := p.Open(context.Background(), foo, "index.html"); !errors.Is(err, derrors.ErrNotFound) {
		t.Errorf("Open with another case: err = %v, want ErrNotFound", err)
	}
}

func testBucketRootPath(t *testing.T, s store) {
	if !s.hasRootPath {
		t.Skip("this type has no bucketRootPath key")
	}
	p := s.open(t, func(c *Config) {
		c.AwsS3.BucketRootPath = "/techdocs/sites/"
		c.GoogleGcs.BucketRootPath = "/techdocs/sites/"
		c.AzureBlobStorage.BucketRootPath = "/techdocs/sites/"
	})
	if _, err := p.Publish(context.Background(), foo, writeSite(t, testSite())); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if diff := cmp.Diff(siteKeys("techdocs/sites/default/component/foo/", testSite()), s.keys(t)); diff != "" {
		t.Errorf("stored keys (-want +got):\n%s", diff)
	}
	if got, _ := readFile(t, p, foo, "index.html"); got != testSite()["index.html"] {
		t.Errorf("Open(index.html) = %q", got)
	}
	if _, err := s.open(t, nil).Metadata(context.Background(), foo); !errors.Is(err, derrors.ErrNotFound) {
		t.Errorf("Metadata without the root path: err = %v, want ErrNotFound", err)
	}
}

func testInvalidPaths(t *testing.T, s store) {
	p := s.open(t, nil)
	if _, err := p.Publish(context.Background(), foo, writeSite(t, testSite())); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	for _, name := range []string{"../x", "../foo-bar/index.html", "/etc/passwd", "a/../../b", "a/../index.html", `a\b`, `..\..\x`, "index.html\x00.png", "", ".", "./index.html", "guide//install/index.html", "guide/"} {
		r, _, err := p.Open(context.Background(), foo, name)
		if !errors.Is(err, derrors.ErrInvalid) {
			t.Errorf("Open(%q): err = %v, want ErrInvalid", name, err)
		}
		if r != nil {
			r.Close()
		}
	}
}

func testInvalidEntities(t *testing.T, s store) {
	p := s.open(t, nil)
	dir := writeSite(t, testSite())
	for _, e := range []Entity{
		{Namespace: "default", Kind: "component", Name: ""},
		{Namespace: "default", Kind: "", Name: "foo"},
		{Namespace: "default", Kind: "component", Name: ".."},
		{Namespace: "..", Kind: "..", Name: "etc"},
		{Namespace: "default", Kind: "component/../../x", Name: "foo"},
		{Namespace: "default", Kind: "component", Name: `a\b`},
		{Namespace: "default", Kind: "component", Name: "a\x00"},
	} {
		if _, err := p.Publish(context.Background(), e, dir); !errors.Is(err, derrors.ErrInvalid) {
			t.Errorf("Publish(%q): err = %v, want ErrInvalid", e, err)
		}
		if _, _, err := p.Open(context.Background(), e, "index.html"); !errors.Is(err, derrors.ErrInvalid) {
			t.Errorf("Open(%q): err = %v, want ErrInvalid", e, err)
		}
	}
	if keys := s.keys(t); len(keys) != 0 {
		t.Errorf("stored keys = %q, want none", keys)
	}
}

func testMissingFile(t *testing.T, s store) {
	p := s.open(t, nil)
	if _, err := p.Publish(context.Background(), foo, writeSite(t, testSite())); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	for _, name := range []string{"missing.html", "guide/missing/index.html", "guide", "guide/install"} {
		if _, _, err := p.Open(context.Background(), foo, name); !errors.Is(err, derrors.ErrNotFound) {
			t.Errorf("Open(%q): err = %v, want ErrNotFound", name, err)
		}
	}
}

func testNoMetadataPublished(t *testing.T, s store) {
	p := s.open(t, nil)
	if _, err := p.Metadata(context.Background(), foo); !errors.Is(err, derrors.ErrNotFound) {
		t.Errorf("Metadata of an entity without docs: err = %v, want ErrNotFound", err)
	}
}

func testNotABuiltSite(t *testing.T, s store) {
	p := s.open(t, nil)
	noMetadata := testSite()
	delete(noMetadata, MetadataFile)
	badMetadata := testSite()
	badMetadata[MetadataFile] = "site_name: Foo"
	for name, site := range map[string]map[string]string{"no metadata": noMetadata, "metadata not JSON": badMetadata} {
		if _, err := p.Publish(context.Background(), foo, writeSite(t, site)); !errors.Is(err, derrors.ErrInvalid) {
			t.Errorf("Publish with %s: err = %v, want ErrInvalid", name, err)
		}
	}
	if _, err := p.Publish(context.Background(), foo, filepath.Join(t.TempDir(), "none")); err == nil {
		t.Errorf("Publish of a missing directory: err = nil")
	}
	if keys := s.keys(t); len(keys) != 0 {
		t.Errorf("stored keys = %q, want none", keys)
	}
}

// testSymlinks checks that a symlink to a file inside the site is published
// as that file, and that one leading outside, dangling or naming a
// directory fails the whole publish before anything is uploaded.
func testSymlinks(t *testing.T, s store) {
	p := s.open(t, nil)
	secret := filepath.Join(t.TempDir(), "secret.txt")
	if err := os.WriteFile(secret, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, target := range map[string]string{
		"absolute outside": secret,
		"relative outside": filepath.Join("..", "..", "..", "..", "..", "..", "..", "..", "..", secret),
		"dangling":         "missing.html",
		"directory":        "guide",
	} {
		dir := writeSite(t, testSite())
		if err := os.Symlink(target, filepath.Join(dir, "img", "link.txt")); err != nil {
			t.Fatal(err)
		}
		if _, err := p.Publish(context.Background(), foo, dir); !errors.Is(err, derrors.ErrInvalid) {
			t.Errorf("Publish with a symlink %s: err = %v, want ErrInvalid", name, err)
		}
	}
	if keys := s.keys(t); len(keys) != 0 {
		t.Fatalf("stored keys = %q, want none", keys)
	}

	dir := writeSite(t, testSite())
	if err := os.Symlink(filepath.Join("..", "robots.txt"), filepath.Join(dir, "img", "robots.txt")); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Publish(context.Background(), foo, dir); err != nil {
		t.Fatalf("Publish with a symlink inside the site: %v", err)
	}
	if got, _ := readFile(t, p, foo, "img/robots.txt"); got != testSite()["robots.txt"] {
		t.Errorf("img/robots.txt = %q, want the target's content", got)
	}
}

func testContextCancelled(t *testing.T, s store) {
	p := s.open(t, nil)
	dir := writeSite(t, testSite())
	if _, err := p.Publish(context.Background(), foo, dir); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Publish(ctx, Entity{Kind: "component", Name: "other"}, dir); !errors.Is(err, context.Canceled) {
		t.Errorf("Publish: err = %v, want context.Canceled", err)
	}
	if _, _, err := p.Open(ctx, foo, "index.html"); !errors.Is(err, context.Canceled) {
		t.Errorf("Open: err = %v, want context.Canceled", err)
	}
	if _, err := p.Metadata(ctx, foo); !errors.Is(err, context.Canceled) {
		t.Errorf("Metadata: err = %v, want context.Canceled", err)
	}
	if diff := cmp.Diff(siteKeys("default/component/foo/", testSite()), s.keys(t)); diff != "" {
		t.Errorf("stored keys (-want +got):\n%s", diff)
	}
}

// TestPublishCancelledMidway cancels a publish after the store has taken
// a few uploads: Publish must stop with the context's error, and since the
// metadata goes last, the entity must still have none.
func TestPublishCancelledMidway(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var puts atomic.Int32
	s := newS3StoreWith(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPut && puts.Add(1) == 3 {
				cancel()
			}
			next.ServeHTTP(w, r)
		})
	})
	p := s.open(t, nil)
	_, err := p.Publish(ctx, foo, writeSite(t, testSite()))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Publish: err = %v, want context.Canceled", err)
	}
	if _, err := p.Metadata(context.Background(), foo); !errors.Is(err, derrors.ErrNotFound) {
		t.Errorf("Metadata after a cancelled publish: err = %v, want ErrNotFound", err)
	}
}

// TestLocalHidesFileblobFiles checks that fileblob's own files (a sidecar
// left by an older bucket, a temporary file left by a crash) are neither
// served nor deleted as stale.
func TestLocalHidesFileblobFiles(t *testing.T) {
	dir := t.TempDir()
	var cfg Config
	cfg.Local.PublishDirectory = dir
	p := openPublisher(t, cfg, nil)
	if _, err := p.Publish(context.Background(), foo, writeSite(t, testSite())); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	site := filepath.Join(dir, "default", "component", "foo")
	own := []string{"index.html.attrs", "index.html.18a6f3c2b1d4e5f6.tmp"}
	for _, name := range own {
		if err := os.WriteFile(filepath.Join(site, name), []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, _, err := p.Open(context.Background(), foo, name); !errors.Is(err, derrors.ErrNotFound) {
			t.Errorf("Open(%q): err = %v, want ErrNotFound", name, err)
		}
	}
	res, err := p.Publish(context.Background(), foo, writeSite(t, testSite()))
	if err != nil {
		t.Fatalf("republish: %v", err)
	}
	if res.Deleted != 0 {
		t.Errorf("republish deleted %d files, want 0", res.Deleted)
	}
	for _, name := range own {
		if _, err := os.Stat(filepath.Join(site, name)); err != nil {
			t.Errorf("%s: %v, want it left alone", name, err)
		}
	}
}

func TestIsFileblobOwn(t *testing.T) {
	for _, tc := range []struct {
		key  string
		want bool
	}{
		{"a/index.html", false},
		{"a/index.html.attrs", true},
		{"a/index.html.18a6f3c2b1d4e5f6.tmp", true},
		{"a/notes.tmp", false},
		{"a/notes.draft.tmp", false},
		{"a/notes..tmp", false},
		{"a/tmp", false},
	} {
		if got := isFileblobOwn(tc.key); got != tc.want {
			t.Errorf("isFileblobOwn(%q) = %v, want %v", tc.key, got, tc.want)
		}
	}
}

func TestContentType(t *testing.T) {
	for name, want := range wantContentType {
		if got := contentType(name); got != want {
			t.Errorf("contentType(%q) = %q, want %q", name, got, want)
		}
	}
}

// BenchmarkOpenLocal opens and reads a 20 KB page from the local publisher,
// as the docs reader does for every page view.
func BenchmarkOpenLocal(b *testing.B) {
	dir := b.TempDir()
	var cfg Config
	cfg.Local.PublishDirectory = filepath.Join(dir, "store")
	p, err := New(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	page := bytes.Repeat([]byte("<p>TechDocs page</p>\n"), 20<<10/21)
	site := filepath.Join(dir, "site")
	if err := os.MkdirAll(filepath.Join(site, "guide"), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(site, MetadataFile), []byte(`{"site_name":"Foo"}`), 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(site, "guide", "index.html"), page, 0o644); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := p.Publish(ctx, foo, site); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 32<<10)
	b.SetBytes(int64(len(page)))
	b.ReportAllocs()
	for b.Loop() {
		r, _, err := p.Open(ctx, foo, "guide/index.html")
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.ReadFull(r, buf)
		if err != io.ErrUnexpectedEOF || n != len(page) {
			b.Fatalf("read %d bytes, err %v; want %d", n, err, len(page))
		}
		r.Close()
	}
}

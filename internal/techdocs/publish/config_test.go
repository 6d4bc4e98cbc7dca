package publish

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/atrium-dev/atrium/internal/derrors"
)

func TestNewRefusesBadConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  func(c *Config)
		// wantKey is the configuration key the error must name.
		wantKey string
	}{
		{"unknown type", func(c *Config) { c.Type = "openStackSwift" }, "techdocs.publisher.type"},
		{"type with other case", func(c *Config) { c.Type = "AWSS3" }, "techdocs.publisher.type"},
		{"local without directory", func(c *Config) {}, "techdocs.publisher.local.publishDirectory"},
		{"awsS3 without bucket", func(c *Config) { c.Type = "awsS3" }, "techdocs.publisher.awsS3.bucketName"},
		{"awsS3 key without secret", func(c *Config) {
			c.Type = "awsS3"
			c.AwsS3.BucketName = "docs"
			c.AwsS3.Credentials.AccessKeyID = "AKIA"
		}, "techdocs.publisher.awsS3.credentials"},
		{"awsS3 secret without key", func(c *Config) {
			c.Type = "awsS3"
			c.AwsS3.BucketName = "docs"
			c.AwsS3.Credentials.SecretAccessKey = "hunter2"
		}, "techdocs.publisher.awsS3.credentials"},
		{"awsS3 root path climbing out", func(c *Config) {
			c.Type = "awsS3"
			c.AwsS3.BucketName = "docs"
			c.AwsS3.BucketRootPath = "docs/../../x"
		}, "techdocs.publisher.awsS3.bucketRootPath"},
		{"googleGcs without bucket", func(c *Config) { c.Type = "googleGcs" }, "techdocs.publisher.googleGcs.bucketName"},
		{"googleGcs root path with backslash", func(c *Config) {
			c.Type = "googleGcs"
			c.GoogleGcs.BucketName = "docs"
			c.GoogleGcs.BucketRootPath = `docs\x`
		}, "techdocs.publisher.googleGcs.bucketRootPath"},
		{"googleGcs credentials not JSON", func(c *Config) {
			c.Type = "googleGcs"
			c.GoogleGcs.BucketName = "docs"
			c.GoogleGcs.Credentials = "hunter2"
		}, "techdocs.publisher.googleGcs.credentials"},
		{"googleGcs credentials of a user", func(c *Config) {
			c.Type = "googleGcs"
			c.GoogleGcs.BucketName = "docs"
			c.GoogleGcs.Credentials = `{"type":"authorized_user","refresh_token":"hunter2"}`
		}, "techdocs.publisher.googleGcs.credentials"},
		{"googleGcs service account without key", func(c *Config) {
			c.Type = "googleGcs"
			c.GoogleGcs.BucketName = "docs"
			c.GoogleGcs.Credentials = `{"type":"service_account","private_key":"hunter2"}`
		}, "techdocs.publisher.googleGcs.credentials"},
		{"azureBlobStorage without container", func(c *Config) { c.Type = "azureBlobStorage" }, "techdocs.publisher.azureBlobStorage.containerName"},
		{"azureBlobStorage without account", func(c *Config) {
			c.Type = "azureBlobStorage"
			c.AzureBlobStorage.ContainerName = "docs"
		}, "techdocs.publisher.azureBlobStorage.credentials.accountName"},
		{"azureBlobStorage key not base64", func(c *Config) {
			c.Type = "azureBlobStorage"
			c.AzureBlobStorage.ContainerName = "docs"
			c.AzureBlobStorage.Credentials.AccountName = "acct"
			c.AzureBlobStorage.Credentials.AccountKey = "hunter2!"
		}, "techdocs.publisher.azureBlobStorage.credentials.accountKey"},
		{"azureBlobStorage connection string not one", func(c *Config) {
			c.Type = "azureBlobStorage"
			c.AzureBlobStorage.ContainerName = "docs"
			c.AzureBlobStorage.ConnectionString = "hunter2"
		}, "techdocs.publisher.azureBlobStorage.connectionString"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var cfg Config
			tc.cfg(&cfg)
			p, err := New(context.Background(), cfg)
			if err == nil {
				p.Close()
				t.Fatal("New: err = nil")
			}
			if !errors.Is(err, derrors.ErrInvalid) {
				t.Errorf("New: err = %v, want ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tc.wantKey) {
				t.Errorf("New: err = %q, want it to name %s", err, tc.wantKey)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("New: err = %q quotes a secret", err)
			}
		})
	}
}

func TestRootPath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"/", ""},
		{"docs", "docs"},
		{"/docs/", "docs"},
		{"techdocs//sites/", "techdocs/sites"},
		{"./techdocs/./sites", "techdocs/sites"},
	} {
		got, err := rootPath("k", tc.in)
		if err != nil || got != tc.want {
			t.Errorf("rootPath(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// serviceAccountKey returns a made-up Google service account key.
func serviceAccountKey(t *testing.T) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(map[string]string{
		"type":           "service_account",
		"project_id":     "atrium-test",
		"private_key_id": "0123",
		"private_key":    string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":   "techdocs@atrium-test.iam.gserviceaccount.com",
		"client_id":      "1",
		"token_uri":      "https://oauth2.googleapis.com/token",
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// recorder is a storage server that has nothing: it answers 404 to every
// request and records the paths asked for.
type recorder struct {
	mu    sync.Mutex
	paths []string
	// header is set on every response.
	header http.Header
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec.mu.Lock()
	rec.paths = append(rec.paths, r.URL.Path)
	rec.mu.Unlock()
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusNotFound)
	_, _ = w.Write([]byte(`{"error":{"code":404,"message":"not found"}}`))
}

// asked reports whether a request's path ended in suffix.
func (rec *recorder) asked(suffix string) bool {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, p := range rec.paths {
		if strings.HasSuffix(p, suffix) {
			return true
		}
	}
	return false
}

// No GCS or Azure emulator runs here: these tests build the clients from
// configuration, which reaches no server, and then point them at a
// recorder to check the key each asks for and that a missing object is
// ErrNotFound. Publishing to them is exercised only by the shared suite's
// logic, which is the same for every bucket.

func TestGoogleGcs(t *testing.T) {
	key := serviceAccountKey(t)
	t.Run("service account key", func(t *testing.T) {
		var cfg Config
		cfg.Type = "googleGcs"
		cfg.GoogleGcs.BucketName = "docs"
		cfg.GoogleGcs.Credentials = key
		openPublisher(t, cfg, nil)
	})
	t.Run("application default credentials", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "key.json")
		if err := os.WriteFile(file, []byte(key), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", file)
		var cfg Config
		cfg.Type = "googleGcs"
		cfg.GoogleGcs.BucketName = "docs"
		openPublisher(t, cfg, nil)
	})
	t.Run("open asks for the Backstage key", func(t *testing.T) {
		rec := &recorder{}
		server := httptest.NewServer(rec)
		defer server.Close()
		u, err := url.Parse(server.URL)
		if err != nil {
			t.Fatal(err)
		}
		t.Setenv("STORAGE_EMULATOR_HOST", u.Host)
		var cfg Config
		cfg.Type = "googleGcs"
		cfg.GoogleGcs.BucketName = "docs"
		cfg.GoogleGcs.BucketRootPath = "/sites/"
		cfg.GoogleGcs.Credentials = key
		p := openPublisher(t, cfg, nil)
		mixed := Entity{Namespace: "Default", Kind: "Component", Name: "Foo"}
		if _, _, err := p.Open(context.Background(), mixed, "guide/index.html"); !errors.Is(err, derrors.ErrNotFound) {
			t.Errorf("Open: err = %v, want ErrNotFound", err)
		}
		if !rec.asked("docs/sites/default/component/foo/guide/index.html") && !rec.asked("docs/o/sites/default/component/foo/guide/index.html") {
			t.Errorf("requests %q, want one for sites/default/component/foo/guide/index.html in bucket docs", rec.paths)
		}
	})
}

func TestAzureBlobStorage(t *testing.T) {
	accountKey := base64.StdEncoding.EncodeToString([]byte("not a real azure storage account key"))
	t.Run("shared key", func(t *testing.T) {
		var cfg Config
		cfg.Type = "azureBlobStorage"
		cfg.AzureBlobStorage.ContainerName = "docs"
		cfg.AzureBlobStorage.Credentials.AccountName = "atrium"
		cfg.AzureBlobStorage.Credentials.AccountKey = accountKey
		openPublisher(t, cfg, nil)
	})
	t.Run("open asks for the Backstage key", func(t *testing.T) {
		rec := &recorder{header: http.Header{"X-Ms-Error-Code": {"BlobNotFound"}}}
		server := httptest.NewServer(rec)
		defer server.Close()
		var cfg Config
		cfg.Type = "azureBlobStorage"
		cfg.AzureBlobStorage.ContainerName = "docs"
		cfg.AzureBlobStorage.BucketRootPath = "sites"
		cfg.AzureBlobStorage.ConnectionString = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=" + accountKey + ";BlobEndpoint=" + server.URL + "/devstoreaccount1;"
		p := openPublisher(t, cfg, nil)
		mixed := Entity{Namespace: "Default", Kind: "Component", Name: "Foo"}
		if _, _, err := p.Open(context.Background(), mixed, "guide/index.html"); !errors.Is(err, derrors.ErrNotFound) {
			t.Errorf("Open: err = %v, want ErrNotFound", err)
		}
		if !rec.asked("/devstoreaccount1/docs/sites/default/component/foo/guide/index.html") {
			t.Errorf("requests %q, want one for sites/default/component/foo/guide/index.html in container docs", rec.paths)
		}
	})
}

// Package config owns Atrium's configuration: Backstage-shaped
// app-config.yaml files, merged and substituted, decoded into documented
// typed structs.
//
// Keys follow Backstage where Backstage has one (backend.baseUrl,
// backend.database, catalog.locations, catalog.rules, ...), so an existing
// app-config.yaml loads unchanged. Keys Atrium does not know are kept in
// Config.Raw and are not errors: Backstage configs carry many plugin keys.
package config

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is the whole decoded configuration. The field comments are the
// user's reference for each key.
type Config struct {
	// App holds settings of the web interface (key "app").
	App App `yaml:"app"`
	// Organization names the organisation the portal serves (key "organization").
	Organization Organization `yaml:"organization"`
	// Backend holds the server, database and URL-reading settings (key "backend").
	Backend Backend `yaml:"backend"`
	// Catalog holds the software catalog settings (key "catalog").
	Catalog Catalog `yaml:"catalog"`
	// Audit holds the audit log settings (key "audit").
	Audit Audit `yaml:"audit"`
	// Auth holds sign-in settings (key "auth").
	Auth Auth `yaml:"auth"`
	// Permission holds authorization settings (key "permission").
	Permission Permission `yaml:"permission"`
	// Scaffolder holds the software templates settings (key "scaffolder").
	Scaffolder Scaffolder `yaml:"scaffolder"`
	// TechDocs holds the documentation settings (key "techdocs").
	TechDocs TechDocs `yaml:"techdocs"`

	// Files lists the configuration files that were loaded, in order.
	// It is empty for Default.
	Files []string `yaml:"-"`
	// Raw is the merged, substituted configuration tree, including keys
	// Atrium does not decode (plugin settings and the like), for features
	// that read them later. Maps are map[string]any, lists []any, and scalars
	// string, int, float64, bool or nil. Values whose ${VAR} was not set are
	// left out, as Backstage leaves them undefined.
	Raw map[string]any `yaml:"-"`
}

// App configures the web interface.
type App struct {
	// Title is the portal's name, shown in the page header and the browser
	// title (key "app.title"). Default "Atrium".
	Title string `yaml:"title"`
	// BaseURL is the URL users open in their browser (key "app.baseUrl").
	// Atrium serves the UI from the backend, so it defaults to
	// backend.baseUrl.
	BaseURL string `yaml:"baseUrl"`
}

// Organization describes the organisation the portal serves.
type Organization struct {
	// Name is shown in the UI, for example on the home page
	// (key "organization.name").
	Name string `yaml:"name"`
}

// Backend configures the HTTP server, the database and URL reading.
type Backend struct {
	// BaseURL is the externally reachable URL of the backend: links in API
	// responses, redirects and the UI are built from it (key
	// "backend.baseUrl"). Default "http://localhost:7007".
	BaseURL string `yaml:"baseUrl"`
	// Listen is the address the server binds to (key "backend.listen").
	Listen Listen `yaml:"listen"`
	// Database selects and configures the database (key "backend.database").
	Database Database `yaml:"database"`
	// Reading restricts which hosts URL locations and other URL reads may
	// fetch from (key "backend.reading").
	Reading Reading `yaml:"reading"`
	// Auth holds credentials for callers that are not users (key
	// "backend.auth").
	Auth BackendAuth `yaml:"auth"`
}

// Listen is the address the HTTP server binds to. As in Backstage it may be
// written as a map ({host: 0.0.0.0, port: 7007}) or as one "host:port"
// string (":7007" binds all interfaces).
type Listen struct {
	// Host is the interface to bind (key "backend.listen.host"). Empty binds
	// all interfaces, as Backstage does.
	Host string `yaml:"host"`
	// Port is the TCP port (key "backend.listen.port"). Default 7007. A
	// string holding a number is accepted, so "${PORT}" works.
	Port int `yaml:"port"`
}

// Address returns Host:Port in the form net.Listen accepts.
func (l Listen) Address() string {
	return fmt.Sprintf("%s:%d", strings.Trim(l.Host, "[]"), l.Port)
}

// Database clients Atrium accepts in backend.database.client.
const (
	// ClientSQLite is Atrium's embedded, pure-Go SQLite.
	ClientSQLite = "sqlite"
	// ClientBetterSQLite3 is Backstage's name for SQLite; it means the same
	// as ClientSQLite, so Backstage configs load unchanged.
	ClientBetterSQLite3 = "better-sqlite3"
	// ClientPostgres is PostgreSQL.
	ClientPostgres = "pg"
)

// Database selects the database (key "backend.database").
type Database struct {
	// Client is "sqlite" (also spelled "better-sqlite3", as in Backstage) or
	// "pg" for PostgreSQL (key "backend.database.client"). Default "sqlite".
	Client string `yaml:"client"`
	// Connection says where the database is (key
	// "backend.database.connection"). Default: SQLite in the directory
	// "./data".
	Connection DatabaseConnection `yaml:"connection"`
	// KnexConfig holds connection pool settings under Backstage's key
	// "backend.database.knexConfig"; Atrium reads only pool.max.
	KnexConfig KnexConfig `yaml:"knexConfig"`
}

// KnexConfig is the part of Backstage's backend.database.knexConfig that
// Atrium honours.
type KnexConfig struct {
	// Pool sizes the connection pool (key "backend.database.knexConfig.pool").
	Pool DatabasePool `yaml:"pool"`
}

// DatabasePool sizes a replica's PostgreSQL connection pool.
type DatabasePool struct {
	// Max is the most connections one replica keeps for the catalog (key
	// "backend.database.knexConfig.pool.max"). Default 10. Not used with
	// SQLite, which writes through one connection.
	Max int `yaml:"max"`
	// Min is accepted for compatibility with Backstage configurations and
	// ignored: connections open on demand (key
	// "backend.database.knexConfig.pool.min").
	Min int `yaml:"min"`
}

// IsSQLite reports whether the configured client is SQLite under either of
// its names.
func (d Database) IsSQLite() bool {
	return d.Client == ClientSQLite || d.Client == ClientBetterSQLite3
}

// SQLiteFileName is the file Atrium keeps its SQLite database in when
// backend.database.connection names a directory.
const SQLiteFileName = "atrium.sqlite"

// SQLitePath returns the SQLite database file for a SQLite configuration:
// Filename if set, else SQLiteFileName inside Directory, else the string
// form of the connection (a path or ":memory:"). Relative paths are
// relative to the working directory, as in Backstage.
func (d Database) SQLitePath() string {
	c := d.Connection
	switch {
	case c.Filename != "":
		return c.Filename
	case c.Directory != "":
		return filepath.Join(c.Directory, SQLiteFileName)
	default:
		return c.String
	}
}

// AuditArchiveDir returns where audit retention writes archives:
// audit.archiveDir, else "audit-archive" next to the SQLite database, else
// (PostgreSQL, or SQLite in memory) in DefaultDataDir.
func (c *Config) AuditArchiveDir() string {
	if c.Audit.ArchiveDir != "" {
		return c.Audit.ArchiveDir
	}
	return filepath.Join(c.dataDir(), "audit-archive")
}

// DatabaseConnection is backend.database.connection in any of the shapes
// Backstage accepts:
//
//   - a string: for SQLite a file path or ":memory:", for PostgreSQL a URL
//     such as "postgresql://user:pass@host:5432/atrium";
//   - for SQLite a map {directory: ./data} (the data folder, Atrium keeps
//     SQLiteFileName in it) or {filename: ./data/atrium.sqlite};
//   - for PostgreSQL a map {host, port, user, password, database, ssl}, as
//     node-postgres takes it, optionally with connectionString.
type DatabaseConnection struct {
	// String is the connection when written as a single string.
	String string `yaml:"-"`
	// Directory is the SQLite data folder (key "directory").
	Directory string `yaml:"directory"`
	// Filename is the SQLite database file (key "filename").
	Filename string `yaml:"filename"`
	// ConnectionString is a PostgreSQL URL given inside the map form (key
	// "connectionString"); the other map keys override its parts.
	ConnectionString string `yaml:"connectionString"`
	// Host is the PostgreSQL server host (key "host").
	Host string `yaml:"host"`
	// Port is the PostgreSQL server port (key "port"); 0 means 5432.
	Port int `yaml:"port"`
	// User is the PostgreSQL role (key "user").
	User string `yaml:"user"`
	// Password is the PostgreSQL password (key "password"). Write it as
	// ${POSTGRES_PASSWORD} rather than in the file.
	Password string `yaml:"password"`
	// Database is the PostgreSQL database name (key "database").
	Database string `yaml:"database"`
	// SSL configures TLS to PostgreSQL (key "ssl").
	SSL DatabaseSSL `yaml:"ssl"`
}

// DatabaseSSL is the node-postgres "ssl" setting: either a boolean or a map
// {rejectUnauthorized, ca}.
type DatabaseSSL struct {
	// Enabled turns TLS on; true when "ssl" is true or a map.
	Enabled bool `yaml:"-"`
	// RejectUnauthorized, when false, accepts any server certificate (key
	// "rejectUnauthorized"). Default true.
	RejectUnauthorized *bool `yaml:"rejectUnauthorized"`
	// CA is a PEM bundle of certificate authorities to trust (key "ca");
	// {$file: path} reads it from a file.
	CA string `yaml:"ca"`
}

// Reading restricts URL reads (key "backend.reading").
type Reading struct {
	// Allow lists the hosts that may be read from (key
	// "backend.reading.allow"). When it is empty every public host may be
	// read; loopback, private, link-local and cloud-metadata addresses are
	// refused either way unless AllowPrivateNetworks is set.
	Allow []ReadingAllow `yaml:"allow"`
	// AllowPrivateNetworks lets URL reads reach loopback, private,
	// link-local and cloud-metadata addresses, which are refused by default
	// so that a registered location cannot probe the internal network (key
	// "backend.reading.allowPrivateNetworks", an Atrium extension). Default
	// false; enable it only where catalog files are served from such hosts.
	AllowPrivateNetworks bool `yaml:"allowPrivateNetworks"`
}

// ReadingAllow allows reading from one host.
type ReadingAllow struct {
	// Host is a host name, optionally with a port; a leading "*." matches
	// any subdomain (key "host").
	Host string `yaml:"host"`
	// Paths, if set, limits reads to URLs whose path starts with one of them
	// (key "paths").
	Paths []string `yaml:"paths"`
}

// Orphan strategies for catalog.orphanStrategy.
const (
	// OrphanDelete removes entities no location or provider emits any more.
	OrphanDelete = "delete"
	// OrphanKeep keeps them, marked with the backstage.io/orphan annotation.
	OrphanKeep = "keep"
)

// Catalog configures the software catalog (key "catalog").
type Catalog struct {
	// Locations are read at start and kept up to date; they cannot be
	// removed through the API (key "catalog.locations").
	Locations []Location `yaml:"locations"`
	// Rules say which kinds may enter the catalog from which locations (key
	// "catalog.rules"). When the key is absent (nil) Backstage's default
	// applies: Component, API and Location only. An empty list allows
	// nothing.
	Rules []Rule `yaml:"rules"`
	// ProcessingInterval is how often each entity is re-read and processed
	// (key "catalog.processingInterval"). Default: a random time between 100
	// and 150 seconds.
	ProcessingInterval ProcessingInterval `yaml:"processingInterval"`
	// OrphanStrategy is "delete" (default) to remove entities that nothing
	// emits any more, or "keep" to keep them marked as orphans (key
	// "catalog.orphanStrategy").
	OrphanStrategy string `yaml:"orphanStrategy"`
	// Readonly forbids registering, changing and deleting locations through
	// the API; only configured locations feed the catalog (key
	// "catalog.readonly"). Default false.
	Readonly bool `yaml:"readonly"`
}

// Audit configures the audit log: every change by every actor, hash
// chained (see docs/audit.md).
type Audit struct {
	// Enabled records changes in the audit log (key "audit.enabled").
	// Default true. Turning it off is for measuring what auditing costs:
	// changes made while it is off are missing from the log for good.
	Enabled bool `yaml:"enabled"`
	// Retention is how long events are kept (key "audit.retention"), e.g.
	// "365d" or {days: 365}. Older events are written to ArchiveDir, and
	// deleted only once written. Zero (the default) keeps every event.
	Retention Duration `yaml:"retention"`
	// ArchiveDir is where retention writes the events it removes, one
	// JSON-lines file per run (key "audit.archiveDir"). Default
	// "audit-archive" in the data folder.
	ArchiveDir string `yaml:"archiveDir"`
	// CheckpointInterval is how often the chain's head is logged as a
	// signed checkpoint (key "audit.checkpointInterval"). Default 1h.
	CheckpointInterval Duration `yaml:"checkpointInterval"`
	// SigningKey signs checkpoints: a base64 Ed25519 seed of 32 bytes (key
	// "audit.signingKey", usually "${AUDIT_SIGNING_KEY}"). Without one,
	// each process makes a key at start and logs its public half.
	SigningKey string `yaml:"signingKey"`
	// Sink streams every event as a JSON line to a SIEM pipeline (key
	// "audit.sink"). Default none.
	Sink AuditSink `yaml:"sink"`
}

// Scaffolder configures software templates and their tasks.
type Scaffolder struct {
	// ConcurrentTasksLimit is how many tasks each replica runs at once
	// (key "scaffolder.concurrentTasksLimit", as in Backstage). Default 10.
	ConcurrentTasksLimit int `yaml:"concurrentTasksLimit"`
	// LocalGit is the git host Atrium keeps itself (key
	// "scaffolder.localGit").
	LocalGit LocalGit `yaml:"localGit"`
	// AllowFileRemotes lets publish:git push to file:// remotes, that is
	// to any repository on the server's disk the process can write (key
	// "scaffolder.allowFileRemotes"). Default false.
	AllowFileRemotes bool `yaml:"allowFileRemotes"`
}

// LocalGit configures Atrium's own git host: bare repositories in a local
// folder, which templates publish to when a RepoUrlPicker value names
// Host, served for browsing under <backend.baseUrl>/git and for git clone.
type LocalGit struct {
	// Enabled turns the host on (key "enabled"). Default true.
	Enabled bool `yaml:"enabled"`
	// Directory holds the repositories (key "directory"). Default "git"
	// in the data folder.
	Directory string `yaml:"directory"`
	// Host is the name RepoUrlPicker values use for it (key "host").
	// Default the host (and port) of backend.baseUrl, e.g.
	// "localhost:7007".
	Host string `yaml:"host"`
}

// TechDocs configures TechDocs, with Backstage's keys.
type TechDocs struct {
	// Builder is "local" (default: Atrium builds docs when they are read
	// and rebuilds them when their source changes) or "external" (CI
	// builds and publishes; Atrium only serves) (key "techdocs.builder").
	Builder string `yaml:"builder"`
	// Publisher is where sites are stored (key "techdocs.publisher").
	Publisher TechDocsPublisher `yaml:"publisher"`
	// LegacyUseCaseSensitiveTripletPaths keeps the case of
	// namespace/kind/name in storage paths (key
	// "techdocs.legacyUseCaseSensitiveTripletPaths").
	LegacyUseCaseSensitiveTripletPaths bool `yaml:"legacyUseCaseSensitiveTripletPaths"`
}

// TechDocsPublisher is techdocs.publisher.
type TechDocsPublisher struct {
	// Type is "local" (default), "awsS3", "googleGcs" or
	// "azureBlobStorage".
	Type  string `yaml:"type"`
	Local struct {
		// PublishDirectory holds the sites (default "techdocs" in the
		// data folder).
		PublishDirectory string `yaml:"publishDirectory"`
	} `yaml:"local"`
	AwsS3 struct {
		BucketName       string `yaml:"bucketName"`
		BucketRootPath   string `yaml:"bucketRootPath"`
		Region           string `yaml:"region"`
		Endpoint         string `yaml:"endpoint"`
		S3ForcePathStyle bool   `yaml:"s3ForcePathStyle"`
		Credentials      struct {
			AccessKeyID     string `yaml:"accessKeyId"`
			SecretAccessKey string `yaml:"secretAccessKey"`
		} `yaml:"credentials"`
	} `yaml:"awsS3"`
	GoogleGcs struct {
		BucketName     string `yaml:"bucketName"`
		BucketRootPath string `yaml:"bucketRootPath"`
		ProjectID      string `yaml:"projectId"`
		// Credentials is a service account key's JSON.
		Credentials string `yaml:"credentials"`
	} `yaml:"googleGcs"`
	AzureBlobStorage struct {
		ContainerName  string `yaml:"containerName"`
		BucketRootPath string `yaml:"bucketRootPath"`
		Credentials    struct {
			AccountName string `yaml:"accountName"`
			AccountKey  string `yaml:"accountKey"`
		} `yaml:"credentials"`
		ConnectionString string `yaml:"connectionString"`
	} `yaml:"azureBlobStorage"`
}

// TechDocsDir returns where the local publisher keeps sites:
// techdocs.publisher.local.publishDirectory, else "techdocs" in the data
// folder.
func (c *Config) TechDocsDir() string {
	if d := c.TechDocs.Publisher.Local.PublishDirectory; d != "" {
		return d
	}
	return filepath.Join(c.dataDir(), "techdocs")
}

// DefaultConcurrentTasksLimit is scaffolder.concurrentTasksLimit's default,
// Backstage's.
const DefaultConcurrentTasksLimit = 10

// LocalGitDir returns where the local git host keeps its repositories:
// scaffolder.localGit.directory, else "git" next to the SQLite database,
// else (PostgreSQL, or SQLite in memory) in DefaultDataDir.
func (c *Config) LocalGitDir() string {
	if d := c.Scaffolder.LocalGit.Directory; d != "" {
		return d
	}
	return filepath.Join(c.dataDir(), "git")
}

// LocalGitHost returns the name RepoUrlPicker values use for the local
// git host: scaffolder.localGit.host, else backend.baseUrl's host.
func (c *Config) LocalGitHost() string {
	if h := c.Scaffolder.LocalGit.Host; h != "" {
		return h
	}
	if u, err := url.Parse(c.Backend.BaseURL); err == nil && u.Host != "" {
		return u.Host
	}
	return "localhost"
}

// dataDir is the folder of the SQLite database file, else DefaultDataDir.
func (c *Config) dataDir() string {
	if db := c.Backend.Database; db.IsSQLite() {
		if p := db.SQLitePath(); p != "" && p != ":memory:" {
			return filepath.Dir(p)
		}
	}
	return DefaultDataDir
}

// AuditSink is where audit events are streamed.
type AuditSink struct {
	// Type is "stdout" or "file" (key "type"); empty for none.
	Type string `yaml:"type"`
	// Path is the file a "file" sink appends to (key "path").
	Path string `yaml:"path"`
}

// Location is one configured catalog location.
type Location struct {
	// Type is the location type: "file" for a local path or glob, "url" for
	// a URL (key "type").
	Type string `yaml:"type"`
	// Target is the path, glob or URL (key "target"). A relative file path
	// is resolved against the directory of the config file that declares
	// it (BaseDir).
	Target string `yaml:"target"`
	// Rules allow extra kinds from this location only (key "rules"),
	// on top of catalog.rules.
	Rules []LocationRule `yaml:"rules"`

	// BaseDir is the absolute directory of the config file that declared
	// the location; "" for Default, meaning the working directory.
	BaseDir string `yaml:"-"`
	// Source is "file:line" of the declaration, for error messages.
	Source string `yaml:"-"`
}

// LocationRule is a rule attached to one location.
type LocationRule struct {
	// Allow lists the kinds allowed from the location (key "allow").
	Allow []string `yaml:"allow"`
}

// Rule allows some kinds, optionally only from some locations.
type Rule struct {
	// Allow lists the kinds allowed (key "allow"). Each item is a kind name
	// ("Component") or a map {kind: Resource, spec.type: database} that
	// also requires a spec.type.
	Allow []RuleAllow `yaml:"allow"`
	// Locations, if set, limits the rule to entities read from matching
	// locations (key "locations"). Nil means every location.
	Locations []RuleLocation `yaml:"locations"`
}

// RuleAllow matches entities by kind (case-insensitive) and optionally by
// spec.type (exact).
type RuleAllow struct {
	// Kind is the entity kind (key "kind").
	Kind string `yaml:"kind"`
	// SpecType, if set, must equal the entity's spec.type (key "spec.type").
	SpecType string `yaml:"spec.type"`
}

// RuleLocation matches the location an entity was read from.
type RuleLocation struct {
	// Type is the location type, for example "url" or "file" (key "type").
	Type string `yaml:"type"`
	// Exact matches one target exactly (key "exact").
	Exact string `yaml:"exact"`
	// Pattern matches targets with a glob, case-insensitively (key
	// "pattern"). Exact and Pattern may not both be set.
	Pattern string `yaml:"pattern"`
}

// Defaults used when a key is absent.
const (
	DefaultPort    = 7007
	DefaultBaseURL = "http://localhost:7007"
	DefaultDataDir = "./data"
	DefaultTitle   = "Atrium"
	// DefaultProcessingInterval is the lower bound of the default
	// processing interval; each entity waits a random time in
	// [DefaultProcessingInterval, 1.5×DefaultProcessingInterval].
	DefaultProcessingInterval = 100 * time.Second
	// ExampleCatalog is the location Default loads: the example
	// organisation shipped in the repository.
	ExampleCatalog = "./examples/all.yaml"
)

// ExampleKinds are the kinds Default (and examples/app-config.yaml) allow.
var ExampleKinds = []string{"Component", "API", "System", "Domain", "Resource", "Location", "User", "Group", "Template"}

// base returns the defaults every loaded configuration starts from: no
// locations, Backstage's default rules.
func base() *Config {
	return &Config{
		App: App{Title: DefaultTitle},
		Backend: Backend{
			BaseURL: DefaultBaseURL,
			Listen:  Listen{Port: DefaultPort},
			Database: Database{
				Client:     ClientSQLite,
				Connection: DatabaseConnection{Directory: DefaultDataDir},
			},
		},
		Catalog: Catalog{
			ProcessingInterval: ProcessingInterval{Min: DefaultProcessingInterval},
			OrphanStrategy:     OrphanDelete,
		},
		Audit: Audit{Enabled: true, CheckpointInterval: Duration(time.Hour)},
		Scaffolder: Scaffolder{ConcurrentTasksLimit: DefaultConcurrentTasksLimit,
			LocalGit: LocalGit{Enabled: true}},
		Auth: Auth{Environment: "development", SessionDuration: Duration(12 * time.Hour), TransitiveGroups: true},
		Raw:  map[string]any{},
	}
}

// Default returns the configuration used with no --config: SQLite in the
// ./data folder, port 7007, and the example catalog (ExampleCatalog,
// relative to the working directory) with ExampleKinds allowed.
func Default() *Config {
	c := base()
	c.App.BaseURL = c.Backend.BaseURL
	allow := make([]RuleAllow, len(ExampleKinds))
	for i, k := range ExampleKinds {
		allow[i] = RuleAllow{Kind: k}
	}
	c.Catalog.Rules = []Rule{{Allow: allow}}
	c.Catalog.Locations = []Location{{Type: "file", Target: ExampleCatalog, Source: "default configuration"}}
	return c
}

// Validate checks the meaning of a decoded configuration: values in range,
// known enumerations, required keys. It reports every problem at once,
// each prefixed with its key path.
func (c *Config) Validate() error {
	var errs []error
	bad := func(path, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
	}

	checkURL := func(path, s string) {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad(path, "must be an absolute http(s) URL, got %q", s)
		}
	}
	checkURL("backend.baseUrl", c.Backend.BaseURL)
	if c.App.BaseURL != "" {
		checkURL("app.baseUrl", c.App.BaseURL)
	}
	if p := c.Backend.Listen.Port; p < 1 || p > 65535 {
		bad("backend.listen.port", "must be between 1 and 65535, got %d", p)
	}

	db := c.Backend.Database
	conn := db.Connection
	switch {
	case db.IsSQLite():
		if conn.String == "" && conn.Directory == "" && conn.Filename == "" {
			bad("backend.database.connection", "SQLite needs a file path, \":memory:\", {directory: ...} or {filename: ...}")
		}
		if conn.Directory != "" && conn.Filename != "" {
			bad("backend.database.connection", "set directory or filename, not both")
		}
		if conn.Host != "" || conn.ConnectionString != "" {
			bad("backend.database.connection", "host and connectionString are PostgreSQL settings, but the client is %q", db.Client)
		}
	case db.Client == ClientPostgres:
		if p := db.KnexConfig.Pool; p.Max < 0 || p.Max > 1000 {
			bad("backend.database.knexConfig.pool.max", "must be between 1 and 1000, got %d", p.Max)
		}
		if conn.String == "" && conn.ConnectionString == "" && conn.Host == "" {
			bad("backend.database.connection", "PostgreSQL needs a URL (postgresql://...) or a map with host, user, password and database")
		}
		if conn.Directory != "" || conn.Filename != "" {
			bad("backend.database.connection", "directory and filename are SQLite settings, but the client is \"pg\"")
		}
		for _, s := range []struct{ path, v string }{
			{"backend.database.connection", conn.String},
			{"backend.database.connection.connectionString", conn.ConnectionString},
		} {
			if s.v == "" {
				continue
			}
			if u, err := url.Parse(s.v); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
				bad(s.path, "must be a postgres:// or postgresql:// URL")
			}
		}
		if conn.Port < 0 || conn.Port > 65535 {
			bad("backend.database.connection.port", "must be between 1 and 65535, got %d", conn.Port)
		}
	default:
		bad("backend.database.client", "must be \"sqlite\", \"better-sqlite3\" or \"pg\", got %q", db.Client)
	}

	for i, a := range c.Backend.Reading.Allow {
		if a.Host == "" {
			bad(fmt.Sprintf("backend.reading.allow[%d].host", i), "missing")
		}
	}

	switch c.TechDocs.Builder {
	case "", "local", "external":
	default:
		bad("techdocs.builder", "must be \"local\" or \"external\", got %q", c.TechDocs.Builder)
	}
	switch c.TechDocs.Publisher.Type {
	case "", "local", "awsS3", "googleGcs", "azureBlobStorage":
	default:
		bad("techdocs.publisher.type", "must be local, awsS3, googleGcs or azureBlobStorage, got %q", c.TechDocs.Publisher.Type)
	}
	if n := c.Scaffolder.ConcurrentTasksLimit; n < 1 || n > 1000 {
		bad("scaffolder.concurrentTasksLimit", "must be between 1 and 1000, got %d", n)
	}
	if h := c.Scaffolder.LocalGit.Host; h != "" {
		if u, err := url.Parse("http://" + h + "/"); err != nil || u.Host != h || strings.ContainsAny(h, "/?#@") {
			bad("scaffolder.localGit.host", "must be a host name with an optional port, like git.localhost or localhost:7007, got %q", h)
		}
	}

	cat := c.Catalog
	for i, l := range cat.Locations {
		p := fmt.Sprintf("catalog.locations[%d]", i)
		if l.Type == "" {
			bad(p+".type", "missing")
		}
		if l.Target == "" {
			bad(p+".target", "missing")
		}
		for j, r := range l.Rules {
			if len(r.Allow) == 0 {
				bad(fmt.Sprintf("%s.rules[%d].allow", p, j), "must list at least one kind")
			}
		}
	}
	for i, r := range cat.Rules {
		p := fmt.Sprintf("catalog.rules[%d]", i)
		if len(r.Allow) == 0 {
			bad(p+".allow", "must list at least one kind")
		}
		for j, a := range r.Allow {
			if a.Kind == "" {
				bad(fmt.Sprintf("%s.allow[%d].kind", p, j), "missing")
			}
		}
		for j, l := range r.Locations {
			lp := fmt.Sprintf("%s.locations[%d]", p, j)
			if l.Type == "" {
				bad(lp+".type", "missing")
			}
			if l.Exact != "" && l.Pattern != "" {
				bad(lp, "a catalog rule location cannot have both exact and pattern values")
			}
		}
	}
	if !cat.ProcessingInterval.Disabled && cat.ProcessingInterval.Min <= 0 {
		bad("catalog.processingInterval", "must be longer than zero, or false to disable processing")
	}
	if cat.OrphanStrategy != OrphanDelete && cat.OrphanStrategy != OrphanKeep {
		bad("catalog.orphanStrategy", "must be \"delete\" or \"keep\", got %q", cat.OrphanStrategy)
	}
	c.validateAuth(bad)
	if a := c.Audit; a.Retention < 0 {
		bad("audit.retention", "must not be negative")
	} else if a.Retention > 0 && a.Retention < Duration(time.Hour) {
		bad("audit.retention", "must be at least an hour, got %s", time.Duration(a.Retention))
	}
	if c.Audit.CheckpointInterval < Duration(time.Second) {
		bad("audit.checkpointInterval", "must be at least a second, got %s", time.Duration(c.Audit.CheckpointInterval))
	}
	if k := c.Audit.SigningKey; k != "" {
		if b, err := base64.StdEncoding.DecodeString(k); err != nil || len(b) != 32 {
			bad("audit.signingKey", "must be a base64 Ed25519 seed of 32 bytes")
		}
	}
	switch s := c.Audit.Sink; s.Type {
	case "", "stdout":
	case "file":
		if s.Path == "" {
			bad("audit.sink.path", "a file sink needs a path")
		}
	default:
		bad("audit.sink.type", "must be \"stdout\" or \"file\", got %q", s.Type)
	}
	return errors.Join(errs...)
}

// PostgresURL returns the PostgreSQL connection URL of a "pg"
// configuration: the URL string as given, or one built from the map form
// (connectionString, overridden by host, port, user, password and
// database). TLS: ssl: true asks for sslmode=verify-full, ssl:
// {rejectUnauthorized: false} for sslmode=require (encrypted, server not
// verified); without ssl the URL's own sslmode, if any, applies. A CA bundle
// is not expressible in the URL; PostgresTLS returns it.
func (d Database) PostgresURL() string {
	c := d.Connection
	if c.String != "" {
		return c.String
	}
	u := &url.URL{Scheme: "postgres"}
	if c.ConnectionString != "" {
		if parsed, err := url.Parse(c.ConnectionString); err == nil {
			u = parsed
		}
	}
	host, port := u.Hostname(), u.Port()
	if c.Host != "" {
		host = c.Host
	}
	if c.Port != 0 {
		port = strconv.Itoa(c.Port)
	}
	if port != "" {
		u.Host = net.JoinHostPort(host, port)
	} else {
		u.Host = host
	}
	user, password := u.User.Username(), ""
	if p, ok := u.User.Password(); ok {
		password = p
	}
	if c.User != "" {
		user = c.User
	}
	if c.Password != "" {
		password = c.Password
	}
	switch {
	case user != "" && password != "":
		u.User = url.UserPassword(user, password)
	case user != "":
		u.User = url.User(user)
	}
	if c.Database != "" {
		u.Path = "/" + c.Database
	}
	if c.SSL.Enabled {
		q := u.Query()
		if c.SSL.RejectUnauthorized != nil && !*c.SSL.RejectUnauthorized {
			q.Set("sslmode", "require")
		} else {
			q.Set("sslmode", "verify-full")
		}
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// PostgresTLS returns the TLS configuration the ssl map asks for when it
// names a CA bundle, or nil when the URL's sslmode says all there is.
func (d Database) PostgresTLS() (*tls.Config, error) {
	s := d.Connection.SSL
	if !s.Enabled || s.CA == "" {
		return nil, nil
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(s.CA)) {
		return nil, fmt.Errorf("backend.database.connection.ssl.ca: no PEM certificate found")
	}
	return &tls.Config{
		RootCAs:            pool,
		InsecureSkipVerify: s.RejectUnauthorized != nil && !*s.RejectUnauthorized,
		MinVersion:         tls.VersionTLS12,
	}, nil
}

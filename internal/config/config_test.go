package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// writeFiles writes name->content into a temp dir and returns the paths in
// the order given.
func writeFiles(t *testing.T, files ...string) []string {
	t.Helper()
	dir := t.TempDir()
	var paths []string
	for i := 0; i+1 < len(files); i += 2 {
		p := filepath.Join(dir, files[i])
		if err := os.WriteFile(p, []byte(files[i+1]), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

func envMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func TestMerge(t *testing.T) {
	tests := []struct {
		name  string
		files []string
		want  map[string]any
	}{
		{
			name: "maps merge deeply",
			files: []string{
				"a.yaml", "backend:\n  baseUrl: http://a\n  listen:\n    port: 1\n    host: h\nplugin:\n  x: 1\n",
				"b.yaml", "backend:\n  listen:\n    port: 2\nplugin:\n  y: 2\n",
			},
			want: map[string]any{
				"backend": map[string]any{"baseUrl": "http://a", "listen": map[string]any{"port": 2, "host": "h"}},
				"plugin":  map[string]any{"x": 1, "y": 2},
			},
		},
		{
			name: "lists replace",
			files: []string{
				"a.yaml", "catalog:\n  locations:\n    - {type: file, target: a.yaml}\n    - {type: file, target: b.yaml}\n",
				"b.yaml", "catalog:\n  locations:\n    - {type: url, target: https://x/c.yaml}\n",
			},
			want: map[string]any{"catalog": map[string]any{"locations": []any{
				map[string]any{"type": "url", "target": "https://x/c.yaml"},
			}}},
		},
		{
			name: "scalar replaces map and map replaces scalar",
			files: []string{
				"a.yaml", "x: {a: 1}\ny: 3\n",
				"b.yaml", "x: 2\ny: {b: true}\n",
			},
			want: map[string]any{"x": 2, "y": map[string]any{"b": true}},
		},
		{
			name: "later null replaces",
			files: []string{
				"a.yaml", "x: 1\n",
				"b.yaml", "x: null\n",
			},
			want: map[string]any{"x": nil},
		},
		{
			name: "yaml anchors and merge keys",
			files: []string{
				"a.yaml", "base: &b {p: 1, q: 2}\nother:\n  <<: *b\n  q: 3\n",
			},
			want: map[string]any{"base": map[string]any{"p": 1, "q": 2}, "other": map[string]any{"p": 1, "q": 3}},
		},
		{
			name:  "empty file",
			files: []string{"a.yaml", "# nothing here\n"},
			want:  map[string]any{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(writeFiles(t, tt.files...), envMap(nil))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, c.Raw); diff != "" {
				t.Errorf("Raw mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMergeTyped(t *testing.T) {
	files := writeFiles(t,
		"app-config.yaml", "backend:\n  baseUrl: http://example.com\n  listen: {port: 8080}\ncatalog:\n  rules:\n    - allow: [Component]\n",
		"app-config.local.yaml", "backend:\n  listen: {host: 127.0.0.1}\ncatalog:\n  orphanStrategy: keep\n",
	)
	c, err := Load(files, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Backend.Listen, (Listen{Host: "127.0.0.1", Port: 8080}); got != want {
		t.Errorf("Listen = %+v, want %+v", got, want)
	}
	if got, want := c.Backend.BaseURL, "http://example.com"; got != want {
		t.Errorf("BaseURL = %q, want %q", got, want)
	}
	if got, want := c.App.BaseURL, "http://example.com"; got != want {
		t.Errorf("App.BaseURL = %q, want %q (defaults to backend.baseUrl)", got, want)
	}
	if diff := cmp.Diff([]Rule{{Allow: []RuleAllow{{Kind: "Component"}}}}, c.Catalog.Rules); diff != "" {
		t.Errorf("Rules (-want +got):\n%s", diff)
	}
	if c.Catalog.OrphanStrategy != OrphanKeep {
		t.Errorf("OrphanStrategy = %q, want keep", c.Catalog.OrphanStrategy)
	}
	if diff := cmp.Diff(files, c.Files); diff != "" {
		t.Errorf("Files (-want +got):\n%s", diff)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestSubstitute(t *testing.T) {
	env := envMap(map[string]string{"HOST": "db.internal", "PORT": "5432", "EMPTY": "", "PADDED": "  v  "})
	tests := []struct {
		in          string
		want        string
		wantMissing string
		wantErr     bool
	}{
		{in: "plain", want: "plain"},
		{in: "${HOST}", want: "db.internal"},
		{in: "postgres://${HOST}:${PORT}/x", want: "postgres://db.internal:5432/x"},
		{in: "${ HOST }", want: "db.internal"},
		{in: "${PADDED}", want: "v"},
		{in: "$${HOST}", want: "${HOST}"},
		{in: "a $${HOST} b ${HOST}", want: "a ${HOST} b db.internal"},
		{in: "$$${HOST}", want: "$${HOST}"},
		{in: "${NOPE}", wantMissing: "NOPE"},
		{in: "x${HOST}${NOPE}", wantMissing: "NOPE"},
		{in: "${NOPE:-fallback}", want: "fallback"},
		{in: "${EMPTY:-fallback}", want: "fallback"},
		{in: "${HOST:-fallback}", want: "db.internal"},
		{in: "${EMPTY}", want: ""},
		{in: "${unclosed", want: "${unclosed"},
		{in: "cost $5 {x}", want: "cost $5 {x}"},
		{in: "${}", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, missing, err := substitute(tt.in, env)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if got != tt.want || missing != tt.wantMissing {
				t.Errorf("substitute(%q) = %q, missing %q; want %q, missing %q", tt.in, got, missing, tt.want, tt.wantMissing)
			}
		})
	}
}

func TestLoadSubstitution(t *testing.T) {
	files := writeFiles(t,
		"app-config.yaml", `backend:
  listen:
    port: ${PORT}
  database:
    client: pg
    connection:
      host: ${POSTGRES_HOST}
      password: {$env: POSTGRES_PASSWORD}
      ssl:
        ca: {$file: ca.pem}
somePlugin:
  token: ${UNSET_TOKEN}
  kept: yes ${PORT}
`,
		"ca.pem", "-----BEGIN CERTIFICATE-----\n")
	env := envMap(map[string]string{"PORT": "9000", "POSTGRES_HOST": "pg", "POSTGRES_PASSWORD": "s3cret"})
	c, err := Load(files[:1], env)
	if err != nil {
		t.Fatal(err)
	}
	if c.Backend.Listen.Port != 9000 {
		t.Errorf("port = %d, want 9000", c.Backend.Listen.Port)
	}
	conn := c.Backend.Database.Connection
	want := DatabaseConnection{Host: "pg", Password: "s3cret", SSL: DatabaseSSL{Enabled: true, CA: "-----BEGIN CERTIFICATE-----\n"}}
	if diff := cmp.Diff(want, conn); diff != "" {
		t.Errorf("connection (-want +got):\n%s", diff)
	}
	// An unset variable in a key Atrium does not read drops the value, as
	// in Backstage.
	wantPlugin := map[string]any{"kept": "yes 9000"}
	if diff := cmp.Diff(wantPlugin, c.Raw["somePlugin"]); diff != "" {
		t.Errorf("Raw somePlugin (-want +got):\n%s", diff)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name    string
		content string
		env     map[string]string
		want    []string // substrings of the error
	}{
		{
			name:    "port not a number",
			content: "backend:\n  listen:\n    port: abc\n",
			want:    []string{`app-config.yaml:3: backend.listen.port: expected a whole number, found "abc"`},
		},
		{
			name:    "substituted port not a number",
			content: "backend:\n  listen:\n    port: ${PORT}\n",
			env:     map[string]string{"PORT": "http"},
			want:    []string{`app-config.yaml:3: backend.listen.port: expected a whole number, found "http"`},
		},
		{
			name:    "missing variable in a known key",
			content: "backend:\n  database:\n    client: pg\n    connection:\n      password: ${POSTGRES_PASSWORD}\n",
			want:    []string{"app-config.yaml:5: backend.database.connection.password: environment variable POSTGRES_PASSWORD is not set"},
		},
		{
			name:    "list where a map is expected",
			content: "catalog:\n  locations:\n    - - nested\n",
			want:    []string{"app-config.yaml:3: catalog.locations[0]: expected a map, found a list"},
		},
		{
			name:    "string where a list is expected",
			content: "catalog:\n  rules:\n    - allow: Component\n",
			want:    []string{`app-config.yaml:3: catalog.rules[0].allow: expected a list, found "Component"`},
		},
		{
			name:    "bad bool",
			content: "catalog:\n  readonly: maybe\n",
			want:    []string{`app-config.yaml:2: catalog.readonly: expected true or false, found "maybe"`},
		},
		{
			name:    "all errors reported",
			content: "backend:\n  listen:\n    port: x\ncatalog:\n  readonly: 3\n",
			want:    []string{"app-config.yaml:3: backend.listen.port", "app-config.yaml:5: catalog.readonly: expected true or false, found 3"},
		},
		{
			name:    "yaml syntax",
			content: "backend:\n  baseUrl: [unclosed\n",
			want:    []string{"app-config.yaml:"},
		},
		{
			name:    "duplicate key",
			content: "backend:\n  baseUrl: a\n  baseUrl: b\n",
			want:    []string{"app-config.yaml:3: backend.baseUrl: duplicate key"},
		},
		{
			name:    "top level not a map",
			content: "- a\n- b\n",
			want:    []string{"app-config.yaml:1: expected a map at the top level, found a list"},
		},
		{
			name:    "bad duration",
			content: "catalog:\n  processingInterval: soon\n",
			want:    []string{`app-config.yaml:2: catalog.processingInterval: expected a duration such as "PT3M", "3m" or {minutes: 3}, found "soon"`},
		},
		{
			name:    "bad duration unit",
			content: "catalog:\n  processingInterval:\n    fortnights: 1\n",
			want:    []string{"app-config.yaml:3: catalog.processingInterval.fortnights: unknown duration unit"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "app-config.yaml")
			if err := os.WriteFile(p, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			// Name the file relative to the working directory, as a user
			// passing --config app-config.yaml would.
			t.Chdir(dir)
			_, err := Load([]string{"app-config.yaml"}, envMap(tt.env))
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load([]string{filepath.Join(t.TempDir(), "nope.yaml")}, nil)
	if err == nil || !strings.Contains(err.Error(), "nope.yaml") {
		t.Errorf("err = %v, want one naming nope.yaml", err)
	}
}

func TestProcessingInterval(t *testing.T) {
	tests := []struct {
		yaml    string
		want    ProcessingInterval
		wantErr bool
	}{
		{yaml: "{ minutes: 3 }", want: ProcessingInterval{Min: 3 * time.Minute}},
		{yaml: "{ hours: 1, minutes: 30 }", want: ProcessingInterval{Min: 90 * time.Minute}},
		{yaml: "{ seconds: 1.5 }", want: ProcessingInterval{Min: 1500 * time.Millisecond}},
		{yaml: "{ days: 1 }", want: ProcessingInterval{Min: 24 * time.Hour}},
		{yaml: "{ milliseconds: 500 }", want: ProcessingInterval{Min: 500 * time.Millisecond}},
		{yaml: "PT3M", want: ProcessingInterval{Min: 3 * time.Minute}},
		{yaml: "PT1H30M", want: ProcessingInterval{Min: 90 * time.Minute}},
		{yaml: "P1DT2H", want: ProcessingInterval{Min: 26 * time.Hour}},
		{yaml: "PT0.5S", want: ProcessingInterval{Min: 500 * time.Millisecond}},
		{yaml: "P1W", want: ProcessingInterval{Min: 7 * 24 * time.Hour}},
		{yaml: "3m", want: ProcessingInterval{Min: 3 * time.Minute}},
		{yaml: "90 seconds", want: ProcessingInterval{Min: 90 * time.Second}},
		{yaml: "1.5h", want: ProcessingInterval{Min: 90 * time.Minute}},
		{yaml: "2d", want: ProcessingInterval{Min: 48 * time.Hour}},
		{yaml: "1h30m", want: ProcessingInterval{Min: 90 * time.Minute}},
		{yaml: "false", want: ProcessingInterval{Disabled: true}},
		{yaml: "'false'", want: ProcessingInterval{Disabled: true}},
		{yaml: "true", wantErr: true},
		{yaml: "P", wantErr: true},
		{yaml: "PT", wantErr: true},
		{yaml: "3 fortnights", wantErr: true},
		{yaml: "180", want: ProcessingInterval{}, wantErr: true},
		{yaml: "[1]", wantErr: true},
		{yaml: "{}", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.yaml, func(t *testing.T) {
			files := writeFiles(t, "c.yaml", "catalog:\n  processingInterval: "+tt.yaml+"\n")
			c, err := Load(files, nil)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got := c.Catalog.ProcessingInterval; got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestProcessingIntervalRange(t *testing.T) {
	p := ProcessingInterval{Min: 100 * time.Second}
	lo, hi := p.Range()
	if lo != 100*time.Second || hi != 150*time.Second {
		t.Errorf("Range = %v, %v; want 100s, 150s", lo, hi)
	}
	if got := p.Next(0); got != lo {
		t.Errorf("Next(0) = %v, want %v", got, lo)
	}
	if got := p.Next(0.5); got != 125*time.Second {
		t.Errorf("Next(0.5) = %v, want 125s", got)
	}
}

func TestDatabaseConnectionForms(t *testing.T) {
	f := false
	tests := []struct {
		name     string
		yaml     string
		want     Database
		wantPath string
	}{
		{
			name:     "default",
			yaml:     "{}",
			want:     Database{Client: "sqlite", Connection: DatabaseConnection{Directory: "./data"}},
			wantPath: filepath.Join("data", SQLiteFileName),
		},
		{
			name:     "better-sqlite3 memory",
			yaml:     "{client: better-sqlite3, connection: ':memory:'}",
			want:     Database{Client: "better-sqlite3", Connection: DatabaseConnection{String: ":memory:"}},
			wantPath: ":memory:",
		},
		{
			name:     "sqlite directory",
			yaml:     "{client: better-sqlite3, connection: {directory: /var/lib/atrium}}",
			want:     Database{Client: "better-sqlite3", Connection: DatabaseConnection{Directory: "/var/lib/atrium"}},
			wantPath: "/var/lib/atrium/" + SQLiteFileName,
		},
		{
			name:     "sqlite filename",
			yaml:     "{connection: {filename: ./x.db}}",
			want:     Database{Client: "sqlite", Connection: DatabaseConnection{Filename: "./x.db"}},
			wantPath: "./x.db",
		},
		{
			name: "pg url",
			yaml: "{client: pg, connection: 'postgresql://u:p@h:5432/atrium'}",
			want: Database{Client: "pg", Connection: DatabaseConnection{String: "postgresql://u:p@h:5432/atrium"}},
		},
		{
			name: "pg map with ssl bool",
			yaml: "{client: pg, connection: {host: h, port: '5433', user: u, password: 1234, database: d, ssl: true}}",
			want: Database{Client: "pg", Connection: DatabaseConnection{Host: "h", Port: 5433, User: "u", Password: "1234", Database: "d", SSL: DatabaseSSL{Enabled: true}}},
		},
		{
			name: "pg pool size, Backstage's knexConfig",
			yaml: "{client: pg, connection: 'postgresql://h/atrium', knexConfig: {pool: {min: 2, max: 25}}}",
			want: Database{Client: "pg", Connection: DatabaseConnection{String: "postgresql://h/atrium"}, KnexConfig: KnexConfig{Pool: DatabasePool{Min: 2, Max: 25}}},
		},
		{
			name: "pg map with ssl map",
			yaml: "{client: pg, connection: {host: h, ssl: {rejectUnauthorized: false}}}",
			want: Database{Client: "pg", Connection: DatabaseConnection{Host: "h", SSL: DatabaseSSL{Enabled: true, RejectUnauthorized: &f}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := writeFiles(t, "c.yaml", "backend:\n  database: "+tt.yaml+"\n")
			c, err := Load(files, nil)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, c.Backend.Database); diff != "" {
				t.Errorf("Database (-want +got):\n%s", diff)
			}
			if err := c.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
			if tt.wantPath != "" {
				if got := c.Backend.Database.SQLitePath(); got != tt.wantPath {
					t.Errorf("SQLitePath = %q, want %q", got, tt.wantPath)
				}
			}
		})
	}
}

func TestListenForms(t *testing.T) {
	tests := []struct {
		yaml string
		want Listen
	}{
		{yaml: "{port: 8000}", want: Listen{Port: 8000}},
		{yaml: "{host: 0.0.0.0, port: '8000'}", want: Listen{Host: "0.0.0.0", Port: 8000}},
		{yaml: "':9000'", want: Listen{Port: 9000}},
		{yaml: "'127.0.0.1:9000'", want: Listen{Host: "127.0.0.1", Port: 9000}},
		{yaml: "'[::1]:9000'", want: Listen{Host: "::1", Port: 9000}},
	}
	for _, tt := range tests {
		t.Run(tt.yaml, func(t *testing.T) {
			c, err := Load(writeFiles(t, "c.yaml", "backend:\n  listen: "+tt.yaml+"\n"), nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Backend.Listen; got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestRules(t *testing.T) {
	files := writeFiles(t, "app-config.yaml", `catalog:
  rules:
    - allow: [Component, API]
    - allow:
        - kind: Resource
          spec.type: database
    - allow: [Template]
      locations:
        - type: url
          pattern: https://github.com/acme/*/blob/main/template.yaml
  locations:
    - type: file
      target: ./org.yaml
      rules:
        - allow: [User, Group]
`)
	c, err := Load(files, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantRules := []Rule{
		{Allow: []RuleAllow{{Kind: "Component"}, {Kind: "API"}}},
		{Allow: []RuleAllow{{Kind: "Resource", SpecType: "database"}}},
		{Allow: []RuleAllow{{Kind: "Template"}}, Locations: []RuleLocation{{Type: "url", Pattern: "https://github.com/acme/*/blob/main/template.yaml"}}},
	}
	if diff := cmp.Diff(wantRules, c.Catalog.Rules); diff != "" {
		t.Errorf("Rules (-want +got):\n%s", diff)
	}
	wantLocs := []Location{{
		Type: "file", Target: "./org.yaml",
		Rules:   []LocationRule{{Allow: []string{"User", "Group"}}},
		BaseDir: filepath.Dir(files[0]),
		Source:  files[0] + ":12",
	}}
	if diff := cmp.Diff(wantLocs, c.Catalog.Locations); diff != "" {
		t.Errorf("Locations (-want +got):\n%s", diff)
	}
}

func TestRulesNilVersusEmpty(t *testing.T) {
	c, err := Load(writeFiles(t, "c.yaml", "catalog: {}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Catalog.Rules != nil {
		t.Errorf("absent rules = %#v, want nil (Backstage's default rules)", c.Catalog.Rules)
	}
	c, err = Load(writeFiles(t, "c.yaml", "catalog: {rules: []}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Catalog.Rules == nil || len(c.Catalog.Rules) != 0 {
		t.Errorf("empty rules = %#v, want an empty non-nil list (nothing allowed)", c.Catalog.Rules)
	}
}

func TestDefaults(t *testing.T) {
	c, err := Load(writeFiles(t, "c.yaml", "unknownPlugin: {x: 1}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"baseUrl", c.Backend.BaseURL, "http://localhost:7007"},
		{"port", c.Backend.Listen.Port, 7007},
		{"client", c.Backend.Database.Client, "sqlite"},
		{"directory", c.Backend.Database.Connection.Directory, "./data"},
		{"processingInterval", c.Catalog.ProcessingInterval, ProcessingInterval{Min: 100 * time.Second}},
		{"orphanStrategy", c.Catalog.OrphanStrategy, "delete"},
		{"readonly", c.Catalog.Readonly, false},
		{"locations", len(c.Catalog.Locations), 0},
		{"title", c.App.Title, "Atrium"},
		{"raw", c.Raw["unknownPlugin"], map[string]any{"x": 1}},
	}
	for _, ch := range checks {
		if diff := cmp.Diff(ch.want, ch.got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", ch.name, diff)
		}
	}
	if err := Default().Validate(); err != nil {
		t.Errorf("Default().Validate() = %v", err)
	}
}

// TestExampleConfigMatchesDefault keeps examples/app-config.yaml and
// Default in step: running with --config examples/app-config.yaml must be
// the same as running with no config.
func TestExampleConfigMatchesDefault(t *testing.T) {
	c, err := Load([]string{"../../examples/app-config.yaml"}, envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	d := Default()
	resolve := func(l Location) string {
		if l.BaseDir == "" {
			abs, _ := filepath.Abs(filepath.Join("../..", l.Target))
			return abs
		}
		return filepath.Join(l.BaseDir, l.Target)
	}
	if len(c.Catalog.Locations) != len(d.Catalog.Locations) {
		t.Fatalf("example config has %d locations, Default %d", len(c.Catalog.Locations), len(d.Catalog.Locations))
	}
	for i := range c.Catalog.Locations {
		if got, want := resolve(c.Catalog.Locations[i]), resolve(d.Catalog.Locations[i]); got != want {
			t.Errorf("location %d resolves to %s, Default's to %s", i, got, want)
		}
	}
	ignore := cmp.FilterPath(func(p cmp.Path) bool {
		s := p.String()
		return s == "Files" || s == "Raw" || s == "Catalog.Locations"
	}, cmp.Ignore())
	if diff := cmp.Diff(d, c, ignore); diff != "" {
		t.Errorf("examples/app-config.yaml differs from Default (-default +example):\n%s", diff)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(c *Config)
		want   string // substring; "" means valid
	}{
		{name: "default", modify: func(*Config) {}},
		{name: "port zero", modify: func(c *Config) { c.Backend.Listen.Port = 0 }, want: "backend.listen.port: must be between 1 and 65535, got 0"},
		{name: "port too big", modify: func(c *Config) { c.Backend.Listen.Port = 70000 }, want: "backend.listen.port: must be between 1 and 65535, got 70000"},
		{name: "bad client", modify: func(c *Config) { c.Backend.Database.Client = "mysql" }, want: `backend.database.client: must be "sqlite", "better-sqlite3" or "pg", got "mysql"`},
		{name: "pool too big", modify: func(c *Config) {
			c.Backend.Database = Database{Client: "pg", Connection: DatabaseConnection{String: "postgres://h/a"}, KnexConfig: KnexConfig{Pool: DatabasePool{Max: 5000}}}
		}, want: `backend.database.knexConfig.pool.max: must be between 1 and 1000, got 5000`},
		{name: "pg without connection", modify: func(c *Config) {
			c.Backend.Database = Database{Client: "pg"}
		}, want: "backend.database.connection: PostgreSQL needs"},
		{name: "pg bad url", modify: func(c *Config) {
			c.Backend.Database = Database{Client: "pg", Connection: DatabaseConnection{String: "mysql://x"}}
		}, want: "must be a postgres:// or postgresql:// URL"},
		{name: "sqlite with host", modify: func(c *Config) {
			c.Backend.Database.Connection.Host = "x"
		}, want: "PostgreSQL settings"},
		{name: "orphan strategy", modify: func(c *Config) { c.Catalog.OrphanStrategy = "purge" }, want: `catalog.orphanStrategy: must be "delete" or "keep", got "purge"`},
		{name: "base url", modify: func(c *Config) { c.Backend.BaseURL = "localhost:7007" }, want: "backend.baseUrl: must be an absolute http(s) URL"},
		{name: "location without target", modify: func(c *Config) { c.Catalog.Locations = []Location{{Type: "file"}} }, want: "catalog.locations[0].target: missing"},
		{name: "rule exact and pattern", modify: func(c *Config) {
			c.Catalog.Rules = []Rule{{Allow: []RuleAllow{{Kind: "API"}}, Locations: []RuleLocation{{Type: "url", Exact: "a", Pattern: "b"}}}}
		}, want: "catalog.rules[0].locations[0]: a catalog rule location cannot have both exact and pattern values"},
		{name: "zero interval", modify: func(c *Config) { c.Catalog.ProcessingInterval = ProcessingInterval{} }, want: "catalog.processingInterval: must be longer than zero"},
		{name: "disabled interval", modify: func(c *Config) { c.Catalog.ProcessingInterval = ProcessingInterval{Disabled: true} }},
		{name: "tasks limit", modify: func(c *Config) { c.Scaffolder.ConcurrentTasksLimit = 0 }, want: "scaffolder.concurrentTasksLimit: must be between 1 and 1000, got 0"},
		{name: "local git host with a path", modify: func(c *Config) { c.Scaffolder.LocalGit.Host = "git.example/x" }, want: "scaffolder.localGit.host: must be a host name"},
		{name: "local git host with a port", modify: func(c *Config) { c.Scaffolder.LocalGit.Host = "git.localhost:8080" }},
		{name: "audit retention too short", modify: func(c *Config) { c.Audit.Retention = Duration(time.Minute) }, want: "audit.retention: must be at least an hour, got 1m0s"},
		{name: "audit signing key", modify: func(c *Config) { c.Audit.SigningKey = "c2hvcnQ=" }, want: "audit.signingKey: must be a base64 Ed25519 seed of 32 bytes"},
		{name: "audit sink type", modify: func(c *Config) { c.Audit.Sink.Type = "kafka" }, want: `audit.sink.type: must be "stdout" or "file", got "kafka"`},
		{name: "audit file sink without path", modify: func(c *Config) { c.Audit.Sink.Type = "file" }, want: "audit.sink.path: a file sink needs a path"},
		{name: "audit checkpoints too often", modify: func(c *Config) { c.Audit.CheckpointInterval = 0 }, want: "audit.checkpointInterval: must be at least a second"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.modify(c)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.want != "" && err == nil:
				t.Errorf("Validate() = nil, want an error containing %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Errorf("Validate() = %v\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

func FuzzLoad(f *testing.F) {
	f.Add("backend:\n  listen:\n    port: ${PORT}\ncatalog:\n  processingInterval: {minutes: 3}\n")
	f.Add("a: &x [*x]\n")
	f.Add("catalog: {rules: [{allow: [{kind: X, spec.type: y}]}]}")
	f.Fuzz(func(t *testing.T, content string) {
		p := filepath.Join(t.TempDir(), "c.yaml")
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := Load([]string{p}, envMap(map[string]string{"PORT": "1"}))
		if err == nil {
			_ = c.Validate()
		}
	})
}

func TestPostgresURL(t *testing.T) {
	f := false
	tests := []struct {
		name string
		conn DatabaseConnection
		want string
	}{
		{name: "url as given", conn: DatabaseConnection{String: "postgresql://u:p@h:5432/atrium?sslmode=disable"},
			want: "postgresql://u:p@h:5432/atrium?sslmode=disable"},
		{name: "map", conn: DatabaseConnection{Host: "db.internal", Port: 5433, User: "atrium", Password: "s3cr/t", Database: "catalog"},
			want: "postgres://atrium:s3cr%2Ft@db.internal:5433/catalog"},
		{name: "map without port", conn: DatabaseConnection{Host: "db", User: "atrium"},
			want: "postgres://atrium@db"},
		{name: "connectionString with overrides", conn: DatabaseConnection{ConnectionString: "postgres://u:p@h:5432/a?application_name=x", Password: "q", Database: "b"},
			want: "postgres://u:q@h:5432/b?application_name=x"},
		{name: "ssl true verifies", conn: DatabaseConnection{Host: "h", SSL: DatabaseSSL{Enabled: true}},
			want: "postgres://h?sslmode=verify-full"},
		{name: "ssl without verification", conn: DatabaseConnection{Host: "h", SSL: DatabaseSSL{Enabled: true, RejectUnauthorized: &f}},
			want: "postgres://h?sslmode=require"},
		{name: "ipv6 host", conn: DatabaseConnection{Host: "::1", Port: 5432},
			want: "postgres://[::1]:5432"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Database{Client: ClientPostgres, Connection: tt.conn}.PostgresURL()
			if got != tt.want {
				t.Errorf("PostgresURL() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPostgresTLS(t *testing.T) {
	if c, err := (Database{Connection: DatabaseConnection{SSL: DatabaseSSL{Enabled: true}}}).PostgresTLS(); c != nil || err != nil {
		t.Errorf("without a CA: got %v, %v; want nil, nil", c, err)
	}
	if _, err := (Database{Connection: DatabaseConnection{SSL: DatabaseSSL{Enabled: true, CA: "not a certificate"}}}).PostgresTLS(); err == nil {
		t.Error("a CA bundle with no certificate was accepted")
	}
}

func TestAuditConfig(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "app-config.yaml")
	if err := os.WriteFile(p, []byte(`audit:
  retention: {days: 90}
  checkpointInterval: PT15M
  signingKey: ${KEY}
  sink: {type: file, path: /var/log/atrium/audit.jsonl}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	key := "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	c, err := Load([]string{p}, func(k string) (string, bool) { return key, k == "KEY" })
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	want := Audit{Enabled: true, Retention: Duration(90 * 24 * time.Hour), CheckpointInterval: Duration(15 * time.Minute),
		SigningKey: key, Sink: AuditSink{Type: "file", Path: "/var/log/atrium/audit.jsonl"}}
	if diff := cmp.Diff(want, c.Audit); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
	if got, want := c.AuditArchiveDir(), filepath.Join(DefaultDataDir, "audit-archive"); got != want {
		t.Errorf("archive dir = %q, want %q", got, want)
	}
	if err := os.WriteFile(p, []byte("audit:\n  retention: forever\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load([]string{p}, os.LookupEnv); err == nil || !strings.Contains(err.Error(), "audit.retention") {
		t.Errorf("retention: forever loaded with %v, want an error naming audit.retention", err)
	}
}

func TestScaffolderConfig(t *testing.T) {
	c := Default()
	if !c.Scaffolder.LocalGit.Enabled || c.Scaffolder.ConcurrentTasksLimit != DefaultConcurrentTasksLimit || c.Scaffolder.AllowFileRemotes {
		t.Errorf("defaults = %+v", c.Scaffolder)
	}
	if got, want := c.LocalGitDir(), filepath.Join("data", "git"); got != want {
		t.Errorf("LocalGitDir = %q, want %q", got, want)
	}
	if got := c.LocalGitHost(); got != "localhost:7007" {
		t.Errorf("LocalGitHost = %q, want backend.baseUrl's host", got)
	}
	c.Backend.Database = Database{Client: ClientPostgres, Connection: DatabaseConnection{String: "postgres://h/a"}}
	if got, want := c.LocalGitDir(), filepath.Join(DefaultDataDir, "git"); got != want {
		t.Errorf("LocalGitDir on PostgreSQL = %q, want %q", got, want)
	}

	dir := t.TempDir()
	file := filepath.Join(dir, "app-config.yaml")
	if err := os.WriteFile(file, []byte("scaffolder:\n  concurrentTasksLimit: 3\n  allowFileRemotes: true\n  localGit:\n    enabled: false\n    directory: /srv/git\n    host: git.localhost\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load([]string{file}, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	want := Scaffolder{ConcurrentTasksLimit: 3, AllowFileRemotes: true, LocalGit: LocalGit{Directory: "/srv/git", Host: "git.localhost"}}
	if c.Scaffolder != want {
		t.Errorf("loaded %+v, want %+v", c.Scaffolder, want)
	}
	if c.LocalGitDir() != "/srv/git" || c.LocalGitHost() != "git.localhost" {
		t.Errorf("LocalGitDir %q, LocalGitHost %q", c.LocalGitDir(), c.LocalGitHost())
	}
}

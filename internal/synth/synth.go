// Package synth owns the synthetic organisation generator: it writes a
// large, realistic, deterministic software catalog (groups, users, domains,
// systems, components, APIs, resources) as Backstage catalog YAML, for
// benchmarks and load tests of ingestion, stitching and queries.
package synth

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Options controls the generated organisation's size and content.
type Options struct {
	// Components is the number of components; every other kind scales from
	// it (see Ratios). Must be at least 1.
	Components int
	// Seed makes the output deterministic: the same Components and Seed
	// produce byte-identical files.
	Seed int64
}

// Stats describes what Generate wrote.
type Stats struct {
	// Entities is the number of entities written, including one
	// Location per file in the root file.
	Entities int
	// ByKind counts entities per kind ("Component", "API", ...).
	ByKind map[string]int
	// Files lists every file written, the root Location first.
	Files []string
	// Root is the path of all.yaml, the Location that lists every other
	// file; register it as a file location to load the organisation.
	Root string
}

// Ratios are the number of entities of each kind per 10,000 components,
// chosen so that 10,000 components make about 17,700 entities, the shape
// of a large real catalog.
var Ratios = map[string]int{
	"API":      3000,
	"System":   800,
	"Domain":   100,
	"Group":    700,
	"User":     2500,
	"Resource": 600,
}

// EntitiesPerFile is how many entities go in one file.
const EntitiesPerFile = 1000

// RootFile is the name of the root Location file in the output directory.
const RootFile = "all.yaml"

// scaled returns the count of kind for n components, at least 1.
func scaled(kind string, n int) int {
	c := (n*Ratios[kind] + 5000) / 10000
	return max(c, 1)
}

// org is the generated organisation, held in memory as indexes so that
// cross-references can be made consistent before anything is written.
type org struct {
	rnd *rand.Rand
	n   int

	groups      []string // groups[0] is the root
	groupParent []int    // -1 for the root
	groupKids   [][]int
	groupType   []string
	members     [][]int // user indexes per group
	teams       []int   // group indexes that own things

	users    []string
	memberOf [][]int

	domains      []string
	domainOwner  []int
	systems      []string
	systemDomain []int
	systemOwner  []int

	components []string
	compSystem []int
	compOwner  []int

	apis      []string
	apiOwner  []int
	apiSystem []int
	apiType   []string
	provider  []int // API index provided by each component, -1 for none

	resources []string
	resSystem []int
	resOwner  []int
	resType   []string
}

// Generate writes a synthetic organisation of opts.Components components
// into dir (created if needed), deterministically from opts.Seed, and
// returns what it wrote. The root is dir/all.yaml, one Location per other
// file, each file holding up to EntitiesPerFile entities.
//
// Every reference resolves to a generated entity: each component has an
// owning team and a system, 0-3 kind-qualified dependsOn (components and
// resources), provides 0-1 and consumes 0-3 APIs; systems belong to
// domains; groups form a tree with parent and children consistent; users
// are members of 1-2 teams, listed on both sides.
func Generate(dir string, opts Options) (Stats, error) {
	if opts.Components < 1 {
		return Stats{}, errors.New("synth: Components must be at least 1")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Stats{}, err
	}
	o := build(opts)
	w := &writer{dir: dir, stats: Stats{ByKind: map[string]int{}}}
	o.write(w)
	if w.err != nil {
		return Stats{}, w.err
	}
	if err := w.writeRoot(); err != nil {
		return Stats{}, err
	}
	return w.stats, nil
}

var (
	wordsA = []string{"billing", "checkout", "catalog", "search", "pricing", "inventory", "payments", "identity", "ledger", "shipping", "routing", "tracking", "invoice", "customer", "order", "warehouse", "fleet", "label", "notification", "returns", "loyalty", "fraud", "tax", "partner", "carrier", "depot", "parcel", "dispatch", "forecast", "audit"}
	wordsB = []string{"engine", "gateway", "worker", "api", "store", "sync", "scheduler", "importer", "exporter", "indexer", "router", "cache", "processor", "monitor", "console", "portal", "adapter", "collector", "planner", "registry"}
	first  = []string{"ada", "ben", "chen", "dara", "eli", "fatou", "gus", "hira", "ivan", "jo", "kai", "lena", "mo", "nia", "omar", "pia", "quinn", "ravi", "sara", "tom", "uma", "vik", "wen", "xena", "yuki", "zoe"}
	last   = []string{"abbott", "baker", "costa", "diaz", "evans", "fischer", "garcia", "hughes", "ito", "jensen", "khan", "larsen", "moreau", "novak", "okoro", "patel", "quist", "rossi", "silva", "tanaka", "usman", "varga", "wong", "yilmaz", "zimmer"}
	tags   = []string{"go", "java", "kotlin", "python", "typescript", "react", "rust", "postgres", "kafka", "redis", "grpc", "graphql", "tier-1", "tier-2", "pci", "gdpr", "batch", "realtime"}
)

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

// weighted returns names[i] with probability weights[i]/sum.
func weighted(r *rand.Rand, names []string, weights []int) string {
	total := 0
	for _, w := range weights {
		total += w
	}
	x := r.IntN(total)
	for i, w := range weights {
		if x < w {
			return names[i]
		}
		x -= w
	}
	return names[len(names)-1]
}

func build(opts Options) *org {
	n := opts.Components
	o := &org{rnd: rand.New(rand.NewPCG(uint64(opts.Seed), 0x5eed_a7_1c)), n: n}
	r := o.rnd

	// Groups: a root organisation, departments under it, teams under them.
	g := scaled("Group", n)
	o.groups = append(o.groups, "org-root")
	o.groupType = append(o.groupType, "organization")
	o.groupParent = append(o.groupParent, -1)
	depts := 0
	if g >= 3 {
		depts = max(1, (g-1)/10)
	}
	for i := range depts {
		o.groups = append(o.groups, fmt.Sprintf("dept-%s-%d", pick(r, wordsA), i+1))
		o.groupType = append(o.groupType, "department")
		o.groupParent = append(o.groupParent, 0)
	}
	for i := range g - 1 - depts {
		parent := 0
		if depts > 0 {
			parent = 1 + i%depts
		}
		o.groups = append(o.groups, fmt.Sprintf("team-%s-%s-%d", pick(r, wordsA), pick(r, wordsB), i+1))
		o.groupType = append(o.groupType, "team")
		o.groupParent = append(o.groupParent, parent)
		o.teams = append(o.teams, len(o.groups)-1)
	}
	if len(o.teams) == 0 {
		// Too small for teams: the other groups own everything.
		for i := range o.groups {
			if i > 0 || len(o.groups) == 1 {
				o.teams = append(o.teams, i)
			}
		}
	}
	o.groupKids = make([][]int, len(o.groups))
	for i, p := range o.groupParent {
		if p >= 0 {
			o.groupKids[p] = append(o.groupKids[p], i)
		}
	}

	// Users: members of one or two teams, recorded on both sides.
	o.members = make([][]int, len(o.groups))
	for i := range scaled("User", n) {
		o.users = append(o.users, fmt.Sprintf("%s-%s-%d", pick(r, first), pick(r, last), i+1))
		t1 := pick(r, o.teams)
		groups := []int{t1}
		if r.IntN(4) == 0 {
			if t2 := pick(r, o.teams); t2 != t1 {
				groups = append(groups, t2)
			}
		}
		o.memberOf = append(o.memberOf, groups)
		for _, gi := range groups {
			o.members[gi] = append(o.members[gi], i)
		}
	}

	for i := range scaled("Domain", n) {
		o.domains = append(o.domains, fmt.Sprintf("domain-%s-%d", pick(r, wordsA), i+1))
		o.domainOwner = append(o.domainOwner, pick(r, o.teams))
	}
	for i := range scaled("System", n) {
		o.systems = append(o.systems, fmt.Sprintf("system-%s-%s-%d", pick(r, wordsA), pick(r, wordsB), i+1))
		o.systemDomain = append(o.systemDomain, i%len(o.domains))
		o.systemOwner = append(o.systemOwner, pick(r, o.teams))
	}
	for i := range scaled("Resource", n) {
		typ := weighted(r, []string{"database", "queue", "s3-bucket", "cache", "kafka-topic"}, []int{40, 20, 20, 10, 10})
		o.resources = append(o.resources, fmt.Sprintf("%s-%s-%d", pick(r, wordsA), typ, i+1))
		o.resType = append(o.resType, typ)
		o.resSystem = append(o.resSystem, r.IntN(len(o.systems)))
		o.resOwner = append(o.resOwner, pick(r, o.teams))
	}
	for i := range n {
		o.components = append(o.components, fmt.Sprintf("%s-%s-%d", pick(r, wordsA), pick(r, wordsB), i+1))
		s := r.IntN(len(o.systems))
		o.compSystem = append(o.compSystem, s)
		// Most components belong to the team that owns their system.
		owner := o.systemOwner[s]
		if r.IntN(5) == 0 {
			owner = pick(r, o.teams)
		}
		o.compOwner = append(o.compOwner, owner)
	}
	// APIs: each provided by exactly one component, spread evenly; a
	// component provides at most one when there are fewer APIs than
	// components.
	a := scaled("API", n)
	o.provider = make([]int, n)
	for i := range o.provider {
		o.provider[i] = -1
	}
	for i := range a {
		c := i * n / a
		if o.provider[c] < 0 {
			o.provider[c] = i
		}
		typ := weighted(r, []string{"openapi", "grpc", "asyncapi", "graphql"}, []int{60, 20, 10, 10})
		o.apis = append(o.apis, fmt.Sprintf("%s-%s-api-%d", pick(r, wordsA), pick(r, wordsB), i+1))
		o.apiType = append(o.apiType, typ)
		o.apiOwner = append(o.apiOwner, o.compOwner[c])
		o.apiSystem = append(o.apiSystem, o.compSystem[c])
	}
	return o
}

// writer emits entities into chunked files and tracks stats.
type writer struct {
	dir   string
	stats Stats
	err   error

	prefix string
	chunk  int
	inFile int
	f      *os.File
	b      *bufio.Writer
	files  []string // targets of the root Location, relative
}

// begin starts a new entity of kind, in file prefix-NNNN.yaml.
func (w *writer) begin(prefix, kind, apiVersion, name string) {
	if w.err != nil {
		return
	}
	if w.f == nil || prefix != w.prefix || w.inFile >= EntitiesPerFile {
		if prefix != w.prefix {
			w.chunk = 0
		}
		w.close()
		if w.err != nil {
			return
		}
		w.prefix = prefix
		w.chunk++
		w.inFile = 0
		rel := fmt.Sprintf("%s-%04d.yaml", prefix, w.chunk)
		f, err := os.Create(filepath.Join(w.dir, rel))
		if err != nil {
			w.err = err
			return
		}
		w.f, w.b = f, bufio.NewWriterSize(f, 256<<10)
		w.files = append(w.files, rel)
		w.stats.Files = append(w.stats.Files, filepath.Join(w.dir, rel))
		w.b.WriteString("# Generated by atrium's synthetic organisation generator (internal/synth).\n")
	}
	if w.inFile > 0 {
		w.b.WriteString("---\n")
	}
	w.inFile++
	w.stats.Entities++
	w.stats.ByKind[kind]++
	w.b.WriteString("apiVersion: ")
	w.b.WriteString(apiVersion)
	w.b.WriteString("\nkind: ")
	w.b.WriteString(kind)
	w.b.WriteString("\nmetadata:\n  name: ")
	w.b.WriteString(name)
	w.b.WriteByte('\n')
}

func (w *writer) close() {
	if w.f == nil {
		return
	}
	if err := w.b.Flush(); err != nil && w.err == nil {
		w.err = err
	}
	if err := w.f.Close(); err != nil && w.err == nil {
		w.err = err
	}
	w.f, w.b = nil, nil
}

// line writes one line of YAML.
func (w *writer) line(parts ...string) {
	if w.err != nil {
		return
	}
	for _, p := range parts {
		w.b.WriteString(p)
	}
	w.b.WriteByte('\n')
}

// list writes a block list of refs under key, or "key: []" if empty.
func (w *writer) list(indent, key, kind string, names []string) {
	if w.err != nil {
		return
	}
	if len(names) == 0 {
		w.line(indent, key, ": []")
		return
	}
	w.line(indent, key, ":")
	for _, n := range names {
		w.line(indent, "  - ", kind, n)
	}
}

func (w *writer) writeRoot() error {
	p := filepath.Join(w.dir, RootFile)
	var b strings.Builder
	b.WriteString("# Generated by atrium's synthetic organisation generator (internal/synth).\n")
	b.WriteString("# One Location per file, as a real catalog has one per repository.\n")
	for _, f := range w.files {
		b.WriteString("---\napiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: synthetic-")
		b.WriteString(strings.TrimSuffix(f, ".yaml"))
		b.WriteString("\nspec:\n  target: ./")
		b.WriteString(f)
		b.WriteByte('\n')
		w.stats.Entities++
		w.stats.ByKind["Location"]++
	}
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		return err
	}
	w.stats.Root = p
	w.stats.Files = append([]string{p}, w.stats.Files...)
	return nil
}

const (
	v1     = "backstage.io/v1alpha1"
	groupR = "group:default/"
)

func (o *org) names(idx []int, from []string) []string {
	out := make([]string, len(idx))
	for i, x := range idx {
		out[i] = from[x]
	}
	return out
}

func (o *org) write(w *writer) {
	r := o.rnd
	for i, g := range o.groups {
		w.begin("groups", "Group", v1, g)
		w.line("  title: ", titleCase(g))
		w.line("spec:")
		w.line("  type: ", o.groupType[i])
		w.line("  profile:")
		w.line("    displayName: ", titleCase(g))
		w.line("    email: ", g, "@synth.example")
		if p := o.groupParent[i]; p >= 0 {
			w.line("  parent: ", groupR, o.groups[p])
		}
		w.list("  ", "children", groupR, o.names(o.groupKids[i], o.groups))
		if len(o.members[i]) > 0 {
			w.list("  ", "members", "user:default/", o.names(o.members[i], o.users))
		}
	}
	for i, u := range o.users {
		w.begin("users", "User", v1, u)
		w.line("spec:")
		w.line("  profile:")
		w.line("    displayName: ", titleCase(u))
		w.line("    email: ", u, "@synth.example")
		w.list("  ", "memberOf", groupR, o.names(o.memberOf[i], o.groups))
	}
	for i, d := range o.domains {
		w.begin("domains", "Domain", v1, d)
		w.line("  description: ", strconv.Quote("The "+titleCase(d)+" business domain."))
		w.line("spec:")
		w.line("  owner: ", groupR, o.groups[o.domainOwner[i]])
	}
	for i, s := range o.systems {
		w.begin("systems", "System", v1, s)
		w.line("  description: ", strconv.Quote(titleCase(s)+", a generated system."))
		w.line("spec:")
		w.line("  owner: ", groupR, o.groups[o.systemOwner[i]])
		w.line("  domain: domain:default/", o.domains[o.systemDomain[i]])
	}
	for i, res := range o.resources {
		w.begin("resources", "Resource", v1, res)
		w.line("  description: ", strconv.Quote("A "+o.resType[i]+" used by "+o.systems[o.resSystem[i]]+"."))
		w.line("spec:")
		w.line("  type: ", o.resType[i])
		w.line("  owner: ", groupR, o.groups[o.resOwner[i]])
		w.line("  system: system:default/", o.systems[o.resSystem[i]])
		if i > 0 && r.IntN(4) == 0 {
			w.list("  ", "dependsOn", "resource:default/", []string{o.resources[r.IntN(i)]})
		}
	}
	for i, c := range o.components {
		typ := weighted(r, []string{"service", "website", "library"}, []int{60, 15, 25})
		life := weighted(r, []string{"production", "experimental", "deprecated"}, []int{70, 20, 10})
		w.begin("components", "Component", v1, c)
		w.line("  description: ", strconv.Quote("The "+titleCase(c)+" "+typ+"."))
		ntags := 1 + r.IntN(3)
		w.line("  tags:")
		seen := map[string]bool{}
		for range ntags {
			t := pick(r, tags)
			if !seen[t] {
				seen[t] = true
				w.line("    - ", t)
			}
		}
		w.line("  annotations:")
		w.line("    github.com/project-slug: synth-org/", c)
		if r.IntN(10) == 0 {
			w.line("  links:")
			w.line("    - url: https://grafana.synth.example/d/", c)
			w.line("      title: Dashboard")
			w.line("      icon: dashboard")
		}
		w.line("spec:")
		w.line("  type: ", typ)
		w.line("  lifecycle: ", life)
		w.line("  owner: ", groupR, o.groups[o.compOwner[i]])
		w.line("  system: system:default/", o.systems[o.compSystem[i]])
		if i > 0 && r.IntN(20) == 0 {
			w.line("  subcomponentOf: component:default/", o.components[r.IntN(i)])
		}
		if a := o.provider[i]; a >= 0 {
			w.list("  ", "providesApis", "api:default/", []string{o.apis[a]})
		}
		if k := r.IntN(4); k > 0 {
			var consumed []string
			for range k {
				a := r.IntN(len(o.apis))
				if a != o.provider[i] && !contains(consumed, o.apis[a]) {
					consumed = append(consumed, o.apis[a])
				}
			}
			if len(consumed) > 0 {
				w.list("  ", "consumesApis", "api:default/", consumed)
			}
		}
		if k := r.IntN(4); k > 0 {
			var deps []string
			for range k {
				var ref string
				if r.IntN(3) == 0 {
					ref = "resource:default/" + pick(r, o.resources)
				} else if j := r.IntN(len(o.components)); j != i {
					ref = "component:default/" + o.components[j]
				}
				if ref != "" && !contains(deps, ref) {
					deps = append(deps, ref)
				}
			}
			if len(deps) > 0 {
				w.list("  ", "dependsOn", "", deps)
			}
		}
	}
	for i, a := range o.apis {
		w.begin("apis", "API", v1, a)
		w.line("  description: ", strconv.Quote("The "+titleCase(a)+"."))
		w.line("  tags:")
		w.line("    - ", o.apiType[i])
		w.line("spec:")
		w.line("  type: ", o.apiType[i])
		w.line("  lifecycle: production")
		w.line("  owner: ", groupR, o.groups[o.apiOwner[i]])
		w.line("  system: system:default/", o.systems[o.apiSystem[i]])
		w.line("  definition: |")
		w.b.WriteString(definition(o.apiType[i], a))
	}
	w.close()
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// titleCase turns "billing-engine-12" into "Billing Engine 12".
func titleCase(name string) string {
	parts := strings.Split(name, "-")
	for i, p := range parts {
		if p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, " ")
}

// definition returns a small, valid API definition of the type, indented
// for a block scalar under spec.definition.
func definition(typ, name string) string {
	var s string
	switch typ {
	case "openapi":
		s = "openapi: 3.0.3\ninfo:\n  title: " + name + "\n  version: 1.0.0\npaths:\n  /items:\n    get:\n      summary: List items\n      responses:\n        '200':\n          description: OK\n"
	case "grpc":
		s = "syntax = \"proto3\";\npackage synth.v1;\nservice Items {\n  rpc GetItem(GetItemRequest) returns (Item);\n}\nmessage GetItemRequest { string id = 1; }\nmessage Item { string id = 1; string name = 2; }\n"
	case "asyncapi":
		s = "asyncapi: 2.6.0\ninfo:\n  title: " + name + "\n  version: 1.0.0\nchannels:\n  items:\n    subscribe:\n      message:\n        payload:\n          type: object\n"
	default:
		s = "type Item {\n  id: ID!\n  name: String!\n}\ntype Query {\n  item(id: ID!): Item\n}\n"
	}
	var b strings.Builder
	for _, l := range strings.SplitAfter(strings.TrimSuffix(s, "\n"), "\n") {
		b.WriteString("    ")
		b.WriteString(l)
	}
	b.WriteByte('\n')
	return b.String()
}

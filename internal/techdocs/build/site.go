package build

import (
	"net/url"
	"strings"
)

// The files a build writes besides pages and assets.
const (
	MetadataFile    = "techdocs_metadata.json"
	SearchIndexFile = "search/search_index.json"
	SiteFile        = "atrium/site.json"
)

// SiteInfo is atrium/site.json: what Atrium's reader needs to show a
// built site without reading its sources or configuration again. Paths
// in it are site-relative and slash-separated, not percent-encoded; the
// home page's path is "".
type SiteInfo struct {
	SiteName        string `json:"siteName"`        // site_name, or Options.SiteName without mkdocs.yml
	SiteDescription string `json:"siteDescription"` // site_description
	RepoURL         string `json:"repoUrl"`         // repo_url, when an http(s) URL
	EditURI         string `json:"editUri"`         // edit_uri, as configured or derived
	// Nav is the site's nav: the configured one, or MkDocs' default.
	Nav []NavEntry `json:"nav"`
	// Pages are all pages, in nav order and then, for pages the nav does
	// not list, by path.
	Pages []PageInfo `json:"pages"`
}

// NavEntry is one entry of the nav in site.json.
type NavEntry struct {
	// Title is the nav's title for the entry, or the page's own.
	Title string `json:"title"`
	// URL is the page's path, the external link, or "" for a section.
	URL string `json:"url"`
	// Source is the page's docs-relative Markdown path, "" for sections
	// and external links.
	Source   string     `json:"source,omitempty"`
	External bool       `json:"external"`
	Children []NavEntry `json:"children,omitempty"`
}

// PageInfo describes one built page in site.json.
type PageInfo struct {
	// Path is the page's URL directory: "a/b/" for a/b.md, "" for the home page.
	Path string `json:"path"`
	// Source is the docs-relative Markdown file, "a/b.md".
	Source string `json:"source"`
	// Title is the page's title as the nav gives it, or its own.
	Title string `json:"title"`
	// TOC is the page's table of contents, as the Renderer gave it.
	TOC []Heading `json:"toc"`
	// EditURL links to the source in its repository, when repo_url and
	// edit_uri allow one.
	EditURL string `json:"editUrl,omitempty"`
	// Prev and Next are the neighbours in nav order; pages the nav does
	// not list have none.
	Prev *PageLink `json:"prev,omitempty"`
	Next *PageLink `json:"next,omitempty"`
}

// PageLink names another page of the site.
type PageLink struct {
	Path  string `json:"path"`  // as PageInfo.Path
	Title string `json:"title"` // as PageInfo.Title
}

// metadata is techdocs_metadata.json, as techdocs-cli writes it.
type metadata struct {
	SiteName        string   `json:"site_name"`
	SiteDescription string   `json:"site_description"`
	BuildTimestamp  int64    `json:"build_timestamp"`
	Files           []string `json:"files"`
	Etag            string   `json:"etag"`
}

// searchIndex is search/search_index.json in the format of MkDocs' search
// plugin, which Backstage's search collator reads.
type searchIndex struct {
	Config searchConfig `json:"config"`
	Docs   []searchDoc  `json:"docs"`
}

type searchConfig struct {
	Lang      []string `json:"lang"`
	Separator string   `json:"separator"`
	Pipeline  []string `json:"pipeline"`
}

type searchDoc struct {
	Location string `json:"location"`
	Title    string `json:"title"`
	Text     string `json:"text"`
}

// newSearchIndex indexes pages (in site order): one document per page,
// titled as the nav titles it, and one per section of a page.
func newSearchIndex(pages []*page, title func(*page) string) *searchIndex {
	idx := &searchIndex{
		Config: searchConfig{Lang: []string{"en"}, Separator: `[\s\-]+`, Pipeline: []string{"stopWordFilter"}},
		Docs:   []searchDoc{},
	}
	for _, p := range pages {
		loc := escapePath(p.URL)
		idx.Docs = append(idx.Docs, searchDoc{Location: loc, Title: title(p), Text: p.rendered.Text})
		for _, s := range p.rendered.Sections {
			l := loc
			if s.ID != "" {
				l += "#" + url.PathEscape(s.ID)
			}
			idx.Docs = append(idx.Docs, searchDoc{Location: l, Title: s.Title, Text: s.Text})
		}
	}
	return idx
}

// navEntries turns the resolved nav into site.json's form.
func navEntries(nodes []*navNode) []NavEntry {
	out := make([]NavEntry, 0, len(nodes))
	for _, n := range nodes {
		e := NavEntry{Title: n.title}
		switch {
		case n.page != nil:
			e.URL, e.Source = n.page.URL, n.page.Rel
		case n.url != "":
			e.URL, e.External = n.url, true
		default:
			e.Children = navEntries(n.children)
		}
		out = append(out, e)
	}
	return out
}

// editURL is the link to edit a page's source, MkDocs-style: repo_url,
// then edit_uri resolved against it, then the page's path below
// docs_dir. A README standing in for index.md outside docs_dir is reached
// with "../". It is "" when the configuration allows no link.
func editURL(cfg *Config, f srcFile) string {
	if cfg.RepoURL == "" || cfg.EditURI == "" {
		return ""
	}
	base, err := url.Parse(cfg.RepoURL)
	if err != nil {
		return ""
	}
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
		base.RawPath = ""
	}
	editURI := cfg.EditURI
	if !strings.HasSuffix(editURI, "/") && !strings.ContainsAny(editURI, "?#") {
		editURI += "/"
	}
	rel := strings.TrimPrefix(f.From, cfg.DocsDir+"/")
	if rel == f.From {
		rel = strings.Repeat("../", strings.Count(cfg.DocsDir, "/")+1) + f.From
	}
	ref, err := url.Parse(editURI + escapePath(rel))
	if err != nil {
		return ""
	}
	u := base.ResolveReference(ref)
	if u.Scheme != "http" && u.Scheme != "https" {
		return ""
	}
	return u.String()
}

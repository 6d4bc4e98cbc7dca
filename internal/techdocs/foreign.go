package techdocs

import (
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/atrium-dev/atrium/internal/techdocs/build"
	"github.com/atrium-dev/atrium/internal/techdocs/publish"
)

// foreignSite describes a site Atrium did not build (MkDocs with
// techdocs-core, published by techdocs-cli), which has no site.json: its
// pages are the index.html files techdocs_metadata.json lists, in path
// order, titled after their folders; the nav lists them flat. The reader
// then shows such a site with less structure, but shows it.
func foreignSite(md *publish.Metadata) build.SiteInfo {
	info := build.SiteInfo{SiteName: md.SiteName, SiteDescription: md.SiteDescription}
	var paths []string
	for _, f := range md.Files {
		f = strings.TrimPrefix(f, "/")
		if p, ok := strings.CutSuffix(f, "index.html"); ok && (p == "" || strings.HasSuffix(p, "/")) {
			if !strings.HasPrefix(p, "search/") && !strings.HasPrefix(p, "assets/") {
				paths = append(paths, p)
			}
		}
	}
	sort.Slice(paths, func(i, j int) bool {
		if (paths[i] == "") != (paths[j] == "") {
			return paths[i] == ""
		}
		return paths[i] < paths[j]
	})
	for _, p := range paths {
		title := "Home"
		if p != "" {
			title = titleOf(path.Base(strings.TrimSuffix(p, "/")))
		}
		info.Pages = append(info.Pages, build.PageInfo{Path: p, Title: title})
		info.Nav = append(info.Nav, build.NavEntry{Title: title, URL: p})
	}
	for i := range info.Pages {
		if i > 0 {
			info.Pages[i].Prev = &build.PageLink{Path: info.Pages[i-1].Path, Title: info.Pages[i-1].Title}
		}
		if i+1 < len(info.Pages) {
			info.Pages[i].Next = &build.PageLink{Path: info.Pages[i+1].Path, Title: info.Pages[i+1].Title}
		}
	}
	return info
}

// titleOf makes a title of a file or folder name, as MkDocs does:
// "getting-started" is "Getting started".
func titleOf(name string) string {
	name = strings.NewReplacer("-", " ", "_", " ").Replace(name)
	if name == "" {
		return name
	}
	return strings.ToUpper(name[:1]) + name[1:]
}

// headingRE finds the h2 and h3 headings with ids of a sanitized article.
var headingRE = regexp.MustCompile(`<h([23])[^>]*\bid="([^"]+)"[^>]*>(.*?)</h[23]>`)

var tagRE = regexp.MustCompile(`<[^>]*>`)

// tocOf lists an article's h2 and h3 headings, for pages whose site has
// no site.json to give their TOC.
func tocOf(html []byte) []build.Heading {
	var out []build.Heading
	for _, m := range headingRE.FindAllSubmatch(html, 200) {
		text := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(tagRE.ReplaceAllString(string(m[3]), "")), "¶"))
		out = append(out, build.Heading{Level: int(m[1][0] - '0'), ID: string(m[2]), Text: text})
	}
	return out
}

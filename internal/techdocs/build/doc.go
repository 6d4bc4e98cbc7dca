// Package build turns a TechDocs source directory (an mkdocs.yml and its
// docs_dir of Markdown and assets) into a static site in the layout that
// Backstage's TechDocs publishers store and serve: one index.html per page
// (MkDocs' use_directory_urls layout), the assets copied as they are,
// techdocs_metadata.json, search/search_index.json in MkDocs' lunr format,
// and atrium/site.json, which holds what Atrium's reader needs (nav, pages,
// tables of contents) without reading the sources again.
//
// It replaces MkDocs and techdocs-core: it reads mkdocs.yml the way
// Backstage validates it, builds the nav as MkDocs does, and leaves the
// Markdown itself to a Renderer supplied by the caller. Every read goes
// through an os.Root on the source directory, so neither docs_dir, nav
// entries, links nor symlinks can reach a file outside it.
package build

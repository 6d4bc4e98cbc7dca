package build

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/atrium-dev/atrium/internal/derrors"
)

// Default limits on a source tree, for Options.MaxFiles and MaxBytes.
const (
	DefaultMaxFiles = 20_000
	DefaultMaxBytes = 512 << 20
)

// maxDirDepth bounds how deep the docs tree may nest, symlinked
// directories included.
const maxDirDepth = 64

// markdownExts are the file extensions MkDocs treats as pages.
var markdownExts = map[string]bool{".md": true, ".markdown": true, ".mdown": true, ".mkdn": true, ".mkd": true}

// isMarkdown reports whether name is a Markdown page by its extension.
func isMarkdown(name string) bool { return markdownExts[strings.ToLower(path.Ext(name))] }

// srcFile is one file of the docs tree.
type srcFile struct {
	// Rel is the docs-relative, slash-separated path: where it sits in
	// the site before use_directory_urls moves pages.
	Rel string
	// From is the path to read, relative to the source directory. It
	// differs from DocsDir/Rel only for a README standing in as index.md.
	From string
	Size int64
}

// source is everything a build reads, listed but not yet read.
type source struct {
	cfg        *Config
	configData []byte    // the configuration file, for the digest
	pages      []srcFile // Markdown, sorted by Rel
	assets     []srcFile // everything else, sorted by Rel
	warnings   []string
}

// limits bound the size of a source tree.
type limits struct {
	files int
	bytes int64
}

// loadSource reads the configuration and lists the docs tree under root.
func loadSource(root *os.Root, lim limits) (*source, error) {
	cfg, warnings, err := readConfig(root)
	if err != nil {
		return nil, err
	}
	src := &source{cfg: cfg, warnings: warnings}
	if cfg.File != "" {
		// Read again rather than threading the bytes through ReadConfig:
		// the file is small and this keeps ReadConfig's API plain.
		if src.configData, err = readFileLimited(root, cfg.File, maxConfigBytes); err != nil {
			return nil, fmt.Errorf("reading %s: %w", cfg.File, err)
		}
	}
	w := &walker{root: root, fsys: root.FS(), lim: lim, src: src}
	info, err := statInRoot(root, cfg.DocsDir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		src.warnings = append(src.warnings, fmt.Sprintf("docs_dir %q does not exist", cfg.DocsDir))
	case err != nil:
		return nil, err
	case !info.IsDir():
		return nil, derrors.Invalid("docs_dir %q is not a directory", cfg.DocsDir)
	default:
		if err := w.walk(cfg.DocsDir, "", []os.FileInfo{info}); err != nil {
			return nil, err
		}
	}
	if err := w.addIndexFallback(); err != nil {
		return nil, err
	}
	if len(src.pages) == 0 {
		return nil, derrors.Invalid("no Markdown pages found in %s/ and no README.md to use as the index page", cfg.DocsDir)
	}
	sort.Slice(src.pages, func(i, j int) bool { return src.pages[i].Rel < src.pages[j].Rel })
	sort.Slice(src.assets, func(i, j int) bool { return src.assets[i].Rel < src.assets[j].Rel })
	return src, nil
}

// walker lists a docs tree, enforcing the limits and refusing symlinks
// that leave the source directory.
type walker struct {
	root  *os.Root
	fsys  fs.FS
	lim   limits
	src   *source
	files int
	bytes int64
}

// walk lists dir (relative to the source directory), whose docs-relative
// path is rel. ancestors are the directories above it, to stop symlink
// cycles.
func (w *walker) walk(dir, rel string, ancestors []os.FileInfo) error {
	if len(ancestors) > maxDirDepth {
		return derrors.Invalid("%s: directories nest deeper than %d levels", dir, maxDirDepth)
	}
	entries, err := fs.ReadDir(w.fsys, dir)
	if err != nil {
		return fmt.Errorf("listing %s: %w", dir, err)
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue // hidden, as MkDocs skips them
		}
		full, r := path.Join(dir, name), path.Join(rel, name)
		info, err := statInRoot(w.root, full)
		if errors.Is(err, fs.ErrNotExist) && e.Type()&fs.ModeSymlink != 0 {
			w.src.warnings = append(w.src.warnings, fmt.Sprintf("%s: symbolic link to a missing file; ignored", full))
			continue
		}
		if err != nil {
			return err
		}
		switch {
		case info.IsDir():
			if cyclic(info, ancestors) {
				w.src.warnings = append(w.src.warnings, fmt.Sprintf("%s: symbolic link loops back to a parent directory; ignored", full))
				continue
			}
			if err := w.walk(full, r, append(ancestors, info)); err != nil {
				return err
			}
		case info.Mode().IsRegular():
			w.files++
			w.bytes += info.Size()
			if w.files > w.lim.files {
				return derrors.Invalid("%s holds more than %d files, the limit", w.src.cfg.DocsDir, w.lim.files)
			}
			if w.bytes > w.lim.bytes {
				return derrors.Invalid("%s holds more than %d bytes, the limit", w.src.cfg.DocsDir, w.lim.bytes)
			}
			f := srcFile{Rel: r, From: full, Size: info.Size()}
			if isMarkdown(name) {
				w.src.pages = append(w.src.pages, f)
			} else {
				w.src.assets = append(w.src.assets, f)
			}
		}
		// Devices, sockets and pipes are not documentation: skipped.
	}
	return nil
}

// statInRoot stats name in root, following symbolic links as long as
// they stay inside it. A link that leads out is refused with an
// ErrInvalid error naming it.
func statInRoot(root *os.Root, name string) (os.FileInfo, error) {
	info, err := root.Stat(name)
	if err == nil || errors.Is(err, fs.ErrNotExist) {
		return info, err
	}
	if li, lerr := root.Lstat(name); lerr == nil && li.Mode()&fs.ModeSymlink != 0 {
		return nil, derrors.Wrap(derrors.ErrInvalid, err, "%s: symbolic link resolves outside the source directory; refused", name)
	}
	return nil, fmt.Errorf("reading %s: %w", name, err)
}

func cyclic(info os.FileInfo, ancestors []os.FileInfo) bool {
	for _, a := range ancestors {
		if os.SameFile(info, a) {
			return true
		}
	}
	return false
}

// addIndexFallback gives the site an index page when docs_dir has none,
// as Backstage does before running MkDocs: docs/README.md already serves
// as the index (MkDocs maps README.md to index.html); otherwise the first
// of docs/readme.md, README.md and readme.md is used as index.md.
func (w *walker) addIndexFallback() error {
	src := w.src
	for _, p := range src.pages {
		if p.Rel == "index.md" || p.Rel == "README.md" {
			return nil
		}
	}
	docs := src.cfg.DocsDir
	src.warnings = append(src.warnings, docs+"/index.md not found")
	for _, cand := range []string{docs + "/readme.md", "README.md", "readme.md"} {
		info, err := statInRoot(w.root, cand)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			continue
		}
		if w.bytes+info.Size() > w.lim.bytes {
			return derrors.Invalid("%s holds more than %d bytes with %s, the limit", docs, w.lim.bytes, cand)
		}
		src.warnings = append(src.warnings, fmt.Sprintf("using %s as the index page", cand))
		src.pages = append(src.pages, srcFile{Rel: "index.md", From: cand, Size: info.Size()})
		return nil
	}
	return nil
}

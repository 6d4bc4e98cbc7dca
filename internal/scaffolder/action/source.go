package action

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
	"strings"

	"github.com/atrium-dev/atrium/internal/derrors"
	"github.com/atrium-dev/atrium/internal/githost"
	"github.com/atrium-dev/atrium/internal/scaffolder/workspace"
)

// templateSource is the template's directory, opened as an os.Root so that
// no url and no symlink inside it can lead a fetch outside it.
type templateSource struct {
	root *os.Root
	fsys fs.FS
	// tmp is the folder a repository's files were copied to, removed on
	// Close; "" for the template's own directory.
	tmp string
}

var schemeRE = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)

// Bounds on what a fetch copies out of a repository of Atrium's git host.
const (
	remoteMaxFiles = 10_000
	remoteMaxBytes = 100 << 20
)

// openSource opens rc.TemplateDir and checks url, returning the cleaned
// slash path of url inside it. Relative urls must stay inside the
// template directory. Absolute urls are supported on Atrium's own git
// host (rc.Git): the folder they name, or the folder holding the file they
// name, is copied out of the repository first. Other remote urls are not
// supported yet.
func openSource(rc *RunContext, url string) (*templateSource, string, error) {
	if schemeRE.MatchString(url) || strings.HasPrefix(url, "//") {
		return openRemote(rc, url)
	}
	if rc.TemplateDir == "" {
		return nil, "", derrors.Invalid("the template has no directory to fetch %q from", url)
	}
	rel, err := workspace.Clean(url)
	if err != nil {
		return nil, "", derrors.Invalid("url %q must be a relative path inside the template directory", url)
	}
	root, err := os.OpenRoot(rc.TemplateDir)
	if err != nil {
		return nil, "", fmt.Errorf("opening template directory: %w", err)
	}
	return &templateSource{root: root, fsys: root.FS()}, rel, nil
}

// openRemote copies the folder url names on Atrium's git host (or the
// folder of the file it names) into a temporary folder and opens it.
func openRemote(rc *RunContext, url string) (*templateSource, string, error) {
	var loc githost.Location
	ok := false
	if rc.Git != nil {
		var err error
		if loc, ok, err = rc.Git.Parse(url); ok && err != nil {
			return nil, "", derrors.Invalid("url %q: %v", url, err)
		}
	}
	if !ok {
		return nil, "", derrors.New(derrors.ErrNotImplemented, "url %q: only paths relative to the template and urls on this portal's git host are supported; other remote urls are not supported yet", url)
	}
	rel := "."
	if v, err := rc.Git.View(loc, 0); err != nil {
		return nil, "", err
	} else if !v.Dir {
		rel = path.Base(loc.Path)
		if loc.Path = path.Dir(loc.Path); loc.Path == "." {
			loc.Path = ""
		}
	}
	tmp, err := os.MkdirTemp("", "atrium-fetch-")
	if err != nil {
		return nil, "", err
	}
	if _, err := rc.Git.Export(loc, tmp, remoteMaxFiles, remoteMaxBytes); err != nil {
		os.RemoveAll(tmp)
		return nil, "", err
	}
	root, err := os.OpenRoot(tmp)
	if err != nil {
		os.RemoveAll(tmp)
		return nil, "", err
	}
	return &templateSource{root: root, fsys: root.FS(), tmp: tmp}, rel, nil
}

// openSourceFile opens the single file url names, as the :file fetch
// actions read it.
func openSourceFile(rc *RunContext, url string) (*templateSource, sourceEntry, error) {
	src, name, err := openSource(rc, url)
	if err != nil {
		return nil, sourceEntry{}, err
	}
	fi, err := src.stat(name)
	if err == nil && !fi.Mode().IsRegular() {
		err = derrors.Invalid("template path %q is not a file", name)
	}
	if err != nil {
		src.Close()
		return nil, sourceEntry{}, err
	}
	return src, sourceEntry{rel: name, full: name, info: fi}, nil
}

func (s *templateSource) Close() error {
	err := s.root.Close()
	if s.tmp != "" {
		os.RemoveAll(s.tmp)
	}
	return err
}

// stat follows symlinks inside the template directory and explains the
// ones that lead out of it.
func (s *templateSource) stat(name string) (fs.FileInfo, error) {
	fi, err := fs.Stat(s.fsys, name)
	if err == nil {
		return fi, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		if lfi, lerr := s.root.Lstat(name); lerr == nil && lfi.Mode()&fs.ModeSymlink != 0 {
			return nil, derrors.Invalid("template file %q is a symlink to nothing", name)
		}
		return nil, derrors.NotFound("template path %q does not exist", name)
	}
	return nil, derrors.Wrap(derrors.ErrInvalid, err, "template path %q leads outside the template directory", name)
}

// sourceEntry is one file or directory to copy, relative to the fetched
// directory.
type sourceEntry struct {
	rel  string // slash path relative to the fetched directory
	full string // slash path in the template directory
	info fs.FileInfo
}

// walk lists dir's tree (directories before their contents). Symlinks to
// files inside the template are read as files; symlinks that leave it and
// symlinks to directories are refused.
func (s *templateSource) walk(dir string) ([]sourceEntry, error) {
	fi, err := s.stat(dir)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, derrors.Invalid("template path %q is not a directory", dir)
	}
	var out []sourceEntry
	err = fs.WalkDir(s.fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		rel := strings.TrimPrefix(p, dir+"/")
		if dir == "." {
			rel = p
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			info, err = s.stat(p)
			if err != nil {
				return err
			}
			if info.IsDir() {
				return derrors.Invalid("template path %q is a symlink to a directory, which is not supported", p)
			}
		}
		if !info.IsDir() && !info.Mode().IsRegular() {
			return derrors.Invalid("template path %q is not a regular file", p)
		}
		out = append(out, sourceEntry{rel: rel, full: p, info: info})
		return nil
	})
	return out, err
}

// targetJoin joins a path below targetPath, both relative to the workspace.
func targetJoin(targetPath, rel string) string {
	return path.Join(targetPath, rel)
}

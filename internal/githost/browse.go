package githost

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/atrium-dev/atrium/internal/derrors"
)

// Repository is one repository of the host.
type Repository struct {
	Owner, Repo string
	// URL is its web address, CloneURL what git clones.
	URL, CloneURL string
	// Updated is when its directory last changed (a push).
	Updated time.Time
}

// Repositories lists the host's repositories, most recently updated first.
func (h *Host) Repositories() ([]Repository, error) {
	owners, err := os.ReadDir(h.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list repositories: %w", err)
	}
	var out []Repository
	for _, o := range owners {
		if !o.IsDir() || CheckName("owner", o.Name()) != nil {
			continue
		}
		repos, err := os.ReadDir(filepath.Join(h.dir, o.Name()))
		if err != nil {
			return nil, fmt.Errorf("list repositories: %w", err)
		}
		for _, r := range repos {
			name, ok := strings.CutSuffix(r.Name(), ".git")
			if !ok || !r.IsDir() || CheckName("repository", name) != nil {
				continue
			}
			var updated time.Time
			// A push rewrites refs or packed-refs; the folder's time follows.
			if fi, err := os.Stat(filepath.Join(h.dir, o.Name(), r.Name(), "refs", "heads")); err == nil {
				updated = fi.ModTime()
			}
			out = append(out, Repository{Owner: o.Name(), Repo: name, URL: h.URL(o.Name(), name),
				CloneURL: h.CloneURL(o.Name(), name), Updated: updated})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Updated.After(out[j].Updated) })
	return out, nil
}

// Entry is one item of a folder.
type Entry struct {
	// Name is the item's name, Path its path from the repository's root.
	Name, Path string
	Dir        bool
	// Mode is "file", "executable", "symlink" or "submodule" for non-folders.
	Mode string
	Size int64
}

// Commit is a summary of one commit.
type Commit struct {
	Hash, Short string
	// Subject is the first line of the message.
	Subject string
	Author  string
	When    time.Time
}

// View is what a Location shows: a folder's entries or a file's content,
// at a resolved commit.
type View struct {
	Location
	// Empty is set for a repository without commits.
	Empty bool
	// Ref is the ref shown (the default branch when Location.Ref is
	// empty); Branches the repository's branches.
	Ref      string
	Branches []string
	// Commit is the commit shown.
	Commit Commit
	// Dir is set for a folder, with its Entries (folders first).
	Dir     bool
	Entries []Entry
	// Content is a file's content up to the limit View was given; Size
	// is its full size, Truncated set when Content is shorter, Binary
	// when it holds a NUL byte.
	Content           []byte
	Size              int64
	Truncated, Binary bool
}

// View returns the folder or file loc names, with at most maxFile bytes
// of a file's content. Unknown repositories, refs and paths are
// derrors.ErrNotFound.
func (h *Host) View(loc Location, maxFile int64) (*View, error) {
	r, err := h.Open(loc.Owner, loc.Repo)
	if err != nil {
		return nil, err
	}
	v := &View{Location: loc, Ref: loc.Ref}
	if v.Branches, err = branches(r); err != nil {
		return nil, err
	}
	commit, ref, err := resolve(r, loc.Ref)
	if errors.Is(err, errEmpty) {
		v.Empty = true
		return v, nil
	}
	if err != nil {
		return nil, err
	}
	v.Ref, v.Commit = ref, summary(commit)
	tree, err := commit.Tree()
	if err != nil {
		return nil, fmt.Errorf("read %s/%s: %w", loc.Owner, loc.Repo, err)
	}
	if loc.Path != "" {
		entry, err := tree.FindEntry(loc.Path)
		if err != nil {
			return nil, derrors.NotFound("%s/%s has no %s at %s", loc.Owner, loc.Repo, loc.Path, ref)
		}
		if entry.Mode != filemode.Dir {
			f, err := tree.TreeEntryFile(entry)
			if err != nil {
				return nil, derrors.NotFound("%s/%s: %s is not a file", loc.Owner, loc.Repo, loc.Path)
			}
			v.Size = f.Size
			if v.Content, err = readBlob(f, maxFile); err != nil {
				return nil, err
			}
			v.Truncated = int64(len(v.Content)) < f.Size
			v.Binary = bytes.IndexByte(v.Content, 0) >= 0
			return v, nil
		}
		if tree, err = tree.Tree(loc.Path); err != nil {
			return nil, fmt.Errorf("read %s/%s: %w", loc.Owner, loc.Repo, err)
		}
	}
	v.Dir = true
	for _, e := range tree.Entries {
		item := Entry{Name: e.Name, Path: strings.TrimPrefix(loc.Path+"/"+e.Name, "/"), Dir: e.Mode == filemode.Dir}
		switch e.Mode {
		case filemode.Dir:
		case filemode.Executable:
			item.Mode = "executable"
		case filemode.Symlink:
			item.Mode = "symlink"
		case filemode.Submodule:
			item.Mode = "submodule"
		default:
			item.Mode = "file"
		}
		if !item.Dir && e.Mode != filemode.Submodule {
			if item.Size, err = tree.Size(e.Name); err != nil {
				return nil, fmt.Errorf("read %s/%s: %w", loc.Owner, loc.Repo, err)
			}
		}
		v.Entries = append(v.Entries, item)
	}
	sort.SliceStable(v.Entries, func(i, j int) bool { return v.Entries[i].Dir && !v.Entries[j].Dir })
	return v, nil
}

// ReadFile returns the file loc names, refusing files over max bytes, and
// the blob's hash (an ETag: it changes exactly when the content does).
func (h *Host) ReadFile(loc Location, max int64) ([]byte, string, error) {
	v, err := h.View(loc, max+1)
	if err != nil {
		return nil, "", err
	}
	switch {
	case v.Empty:
		return nil, "", derrors.NotFound("%s/%s has no commits", loc.Owner, loc.Repo)
	case v.Dir:
		return nil, "", derrors.Invalid("%s/%s: %q is a folder, not a file", loc.Owner, loc.Repo, loc.Path)
	case v.Size > max:
		return nil, "", derrors.Invalid("%s/%s: %s is %d bytes, over the limit of %d", loc.Owner, loc.Repo, loc.Path, v.Size, max)
	}
	return v.Content, plumbing.ComputeHash(plumbing.BlobObject, v.Content).String(), nil
}

// errEmpty is resolve's answer for a repository without commits.
var errEmpty = errors.New("the repository has no commits")

// resolve finds the commit ref names ("" for HEAD) and the ref's name to
// show.
func resolve(r *git.Repository, ref string) (*object.Commit, string, error) {
	if ref == "" {
		head, err := r.Head()
		if errors.Is(err, plumbing.ErrReferenceNotFound) {
			return nil, "", errEmpty
		}
		if err != nil {
			return nil, "", fmt.Errorf("read HEAD: %w", err)
		}
		c, err := r.CommitObject(head.Hash())
		if err != nil {
			return nil, "", fmt.Errorf("read HEAD: %w", err)
		}
		return c, head.Name().Short(), nil
	}
	h, err := r.ResolveRevision(plumbing.Revision(ref))
	if err != nil {
		return nil, "", derrors.NotFound("no branch, tag or commit %q", ref)
	}
	c, err := r.CommitObject(*h)
	if err != nil {
		return nil, "", derrors.NotFound("no commit %q", ref)
	}
	return c, ref, nil
}

func branches(r *git.Repository) ([]string, error) {
	it, err := r.Branches()
	if err != nil {
		return nil, fmt.Errorf("list branches: %w", err)
	}
	var out []string
	err = it.ForEach(func(ref *plumbing.Reference) error {
		out = append(out, ref.Name().Short())
		return nil
	})
	sort.Strings(out)
	return out, err
}

func summary(c *object.Commit) Commit {
	subject, _, _ := strings.Cut(strings.TrimSpace(c.Message), "\n")
	h := c.Hash.String()
	return Commit{Hash: h, Short: h[:7], Subject: subject, Author: c.Author.Name, When: c.Author.When}
}

func readBlob(f *object.File, max int64) ([]byte, error) {
	rd, err := f.Reader()
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	return io.ReadAll(io.LimitReader(rd, max))
}

// folder returns the tree of the folder loc names.
func (h *Host) folder(loc Location) (*object.Tree, error) {
	r, err := h.Open(loc.Owner, loc.Repo)
	if err != nil {
		return nil, err
	}
	commit, _, err := resolve(r, loc.Ref)
	if errors.Is(err, errEmpty) {
		return nil, derrors.NotFound("%s/%s has no commits", loc.Owner, loc.Repo)
	}
	if err != nil {
		return nil, err
	}
	tree, err := commit.Tree()
	if err != nil {
		return nil, fmt.Errorf("read %s/%s: %w", loc.Owner, loc.Repo, err)
	}
	if loc.Path == "" {
		return tree, nil
	}
	sub, err := tree.Tree(loc.Path)
	if err != nil {
		return nil, derrors.NotFound("%s/%s has no folder %s at %s", loc.Owner, loc.Repo, loc.Path, loc.Ref)
	}
	return sub, nil
}

// TreeHash returns the git hash of the folder loc names: it changes
// exactly when something in the folder does.
func (h *Host) TreeHash(loc Location) (string, error) {
	t, err := h.folder(loc)
	if err != nil {
		return "", err
	}
	return t.Hash.String(), nil
}

// Export writes the folder loc names into dir (an existing folder) and
// returns its tree hash. Executable bits are kept and symlinks written as
// symlinks, for the reader of dir to judge; submodules are left out. More
// than maxFiles files or maxBytes bytes in all is refused.
func (h *Host) Export(loc Location, dir string, maxFiles int, maxBytes int64) (string, error) {
	t, err := h.folder(loc)
	if err != nil {
		return "", err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return "", err
	}
	defer root.Close()
	files, total := 0, int64(0)
	err = t.Files().ForEach(func(f *object.File) error {
		files++
		total += f.Size
		if files > maxFiles || total > maxBytes {
			return derrors.Invalid("%s/%s: the folder has more than %d files or %d bytes", loc.Owner, loc.Repo, maxFiles, maxBytes)
		}
		name := filepath.FromSlash(f.Name)
		if d := filepath.Dir(name); d != "." {
			if err := root.MkdirAll(d, 0o755); err != nil {
				return err
			}
		}
		content, err := f.Contents()
		if err != nil {
			return err
		}
		switch f.Mode {
		case filemode.Symlink:
			return root.Symlink(content, name)
		case filemode.Executable:
			return root.WriteFile(name, []byte(content), 0o755)
		default:
			return root.WriteFile(name, []byte(content), 0o644)
		}
	})
	if err != nil {
		return "", fmt.Errorf("export %s/%s: %w", loc.Owner, loc.Repo, err)
	}
	return t.Hash.String(), nil
}

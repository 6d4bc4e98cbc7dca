package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// FileReader reads `file` location targets: a path or a glob (doublestar
// syntax: `**`, `*`, `?`, `[a-z]`, `{a,b}`).
type FileReader struct {
	// Limits bound each file read.
	Limits Limits
	// Root, if set, confines reads to this directory: relative targets are
	// resolved against it, and every path must stay inside it after
	// symlinks are resolved (enforced by os.Root, which also refuses
	// absolute symlinks, even ones pointing inside). Anything outside is an
	// error wrapping ErrNotAllowed. Without Root, relative targets are
	// resolved against the working directory.
	Root string
}

// Read returns the files matching target, sorted by path.
//
// A glob that matches nothing returns an empty list and no error; a plain
// path that does not exist returns an error wrapping fs.ErrNotExist (callers
// honour `presence: optional` by checking for it). Directories matched by a
// glob are skipped; a plain path naming a directory is an error. A file over
// Limits.MaxBytes is an error wrapping ErrTooLarge that names the file and
// the limit.
func (r *FileReader) Read(ctx context.Context, target string) ([]File, error) {
	lim := r.Limits.withDefaults()
	if strings.TrimSpace(target) == "" {
		return nil, errors.New("read file: empty target")
	}
	ctx, cancel := context.WithTimeout(ctx, lim.Timeout)
	defer cancel()

	fsys, base, rel, closeFS, err := r.open(target)
	if err != nil {
		return nil, err
	}
	defer closeFS()

	fsys = ctxFS{ctx: ctx, fsys: fsys}
	glob := isGlob(rel)
	var names []string
	if glob {
		if !doublestar.ValidatePattern(rel) {
			return nil, fmt.Errorf("read %s: invalid glob pattern", target)
		}
		err := doublestar.GlobWalk(fsys, rel, func(p string, d fs.DirEntry) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			names = append(names, p)
			return nil
		}, doublestar.WithFilesOnly(), doublestar.WithNoFollow(), doublestar.WithFailOnIOErrors())
		if err == nil {
			err = ctx.Err() // the walk skips directories it cannot open
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", target, markEscape(err))
		}
		slices.Sort(names)
	} else {
		names = []string{rel}
	}

	files := make([]File, 0, len(names))
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("read %s: %w", target, err)
		}
		path := filepath.Join(base, filepath.FromSlash(name))
		data, err := readFile(fsys, name, path, lim.MaxBytes)
		if errors.Is(err, errIsDir) && glob {
			continue // a symlink to a directory, not followed (as Backstage's glob)
		}
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(data)
		files = append(files, File{Path: path, Data: data, ETag: hex.EncodeToString(sum[:])})
	}
	return files, nil
}

// open returns the file system to read from, the absolute directory it is
// rooted at, and target as a slash-separated path inside it. With a Root
// the file system is an os.Root, which refuses to follow symlinks out of
// the directory.
func (r *FileReader) open(target string) (fsys fs.FS, base, rel string, closeFS func(), err error) {
	if r.Root == "" {
		abs, err := filepath.Abs(target)
		if err != nil {
			return nil, "", "", nil, fmt.Errorf("read %s: %w", target, err)
		}
		// Everything up to the first glob meta character is the directory
		// to walk from; for a plain path, its parent.
		dir, pattern := doublestar.SplitPattern(filepath.ToSlash(abs))
		if !isGlob(pattern) {
			dir, pattern = filepath.ToSlash(filepath.Dir(abs)), filepath.ToSlash(filepath.Base(abs))
		}
		return os.DirFS(filepath.FromSlash(dir)), filepath.FromSlash(dir), pattern, func() {}, nil
	}
	root, err := filepath.Abs(r.Root)
	if err != nil {
		return nil, "", "", nil, fmt.Errorf("read %s: root: %w", target, err)
	}
	abs := target
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(root, abs)
	}
	relPath, err := filepath.Rel(root, filepath.Clean(abs))
	if err != nil || relPath == ".." || strings.HasPrefix(relPath, ".."+string(filepath.Separator)) {
		return nil, "", "", nil, fmt.Errorf("read %s: outside the root %s: %w", target, root, ErrNotAllowed)
	}
	rt, err := os.OpenRoot(root)
	if err != nil {
		return nil, "", "", nil, fmt.Errorf("read %s: root: %w", target, err)
	}
	return rt.FS(), root, filepath.ToSlash(relPath), func() { rt.Close() }, nil
}

// readFile reads one regular file, refusing anything over maxBytes.
func readFile(fsys fs.FS, name, path string, maxBytes int64) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, unwrapPathError(err))
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, unwrapPathError(err))
	}
	if info.IsDir() {
		return nil, fmt.Errorf("read %s: %w", path, errIsDir)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("read %s: not a regular file", path)
	}
	if info.Size() > maxBytes {
		return nil, fmt.Errorf("read %s: file is %d bytes, exceeds the limit of %d bytes: %w", path, info.Size(), maxBytes, ErrTooLarge)
	}
	// The file may grow between Stat and read.
	data, err := io.ReadAll(io.LimitReader(f, maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, unwrapPathError(err))
	}
	if int64(len(data)) > maxBytes {
		return nil, fmt.Errorf("read %s: exceeds the limit of %d bytes: %w", path, maxBytes, ErrTooLarge)
	}
	return data, nil
}

// unwrapPathError drops the *fs.PathError wrapper, whose message repeats a
// relative path, keeping the cause (fs.ErrNotExist and friends). os.Root's
// refusal to leave the root is not exported, so it is recognised by its
// text and marked ErrNotAllowed.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return markEscape(err)
}

func markEscape(err error) error {
	cause := err
	var pe *fs.PathError
	if errors.As(err, &pe) {
		cause = pe.Err
	}
	if cause.Error() == "path escapes from parent" {
		return fmt.Errorf("%w (outside the root): %w", err, ErrNotAllowed)
	}
	return err
}

var errIsDir = errors.New("is a directory")

// ctxFS stops a glob walk when the read's context ends; a `**` over a large
// tree is otherwise unbounded in time.
type ctxFS struct {
	ctx  context.Context
	fsys fs.FS
}

func (c ctxFS) Open(name string) (fs.File, error) {
	if err := c.ctx.Err(); err != nil {
		return nil, err
	}
	return c.fsys.Open(name)
}

// isGlob reports whether a path uses glob syntax.
func isGlob(p string) bool {
	return strings.ContainsAny(p, "*?[{")
}

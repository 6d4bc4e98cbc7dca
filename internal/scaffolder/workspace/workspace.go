// Package workspace owns the directory a scaffolder task writes into: every
// path an action gives it is checked to stay inside the root, every file
// operation goes through an os.Root (so a symlink swapped in between a check
// and a use still cannot lead outside), and the number of files and bytes a
// task may produce is capped.
package workspace

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"github.com/atrium-dev/atrium/internal/derrors"
)

// Limits caps what one workspace may hold.
type Limits struct {
	// MaxFiles is the most regular files the workspace may hold.
	MaxFiles int
	// MaxBytes is the most bytes all regular files together may hold.
	MaxBytes int64
}

// DefaultLimits are the limits used when New is given a zero Limits.
var DefaultLimits = Limits{MaxFiles: 10_000, MaxBytes: 100 << 20}

// ErrLimit is returned (wrapped) when a write would exceed the workspace's
// Limits. Test with errors.Is.
var ErrLimit = errors.New("workspace limit exceeded")

// Workspace is a task's working directory. All methods take slash-separated
// paths relative to the root; they are safe for concurrent use.
type Workspace struct {
	dir    string
	root   *os.Root
	limits Limits

	mu    sync.Mutex
	files int
	bytes int64
}

// New creates dir if needed and returns a Workspace rooted at it. Files
// already in dir count against limits. Zero fields of limits take the
// DefaultLimits values.
func New(dir string, limits Limits) (*Workspace, error) {
	if limits.MaxFiles <= 0 {
		limits.MaxFiles = DefaultLimits.MaxFiles
	}
	if limits.MaxBytes <= 0 {
		limits.MaxBytes = DefaultLimits.MaxBytes
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("workspace: %w", err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("workspace: %w", err)
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("workspace: %w", err)
	}
	w := &Workspace{dir: abs, root: root, limits: limits}
	w.files, w.bytes, err = w.usage(".")
	if err != nil {
		root.Close()
		return nil, err
	}
	return w, nil
}

// Close releases the root directory handle; it does not delete anything.
func (w *Workspace) Close() error { return w.root.Close() }

// Dir returns the absolute host path of the workspace root.
func (w *Workspace) Dir() string { return w.dir }

// Limits returns the limits the workspace enforces.
func (w *Workspace) Limits() Limits { return w.limits }

// Usage returns how many regular files and bytes the workspace holds, as
// counted by its own writes and removals.
func (w *Workspace) Usage() (files int, bytes int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.files, w.bytes
}

// Clean checks rel lexically and returns it cleaned, slash-separated and
// relative to the root ("." for the root itself; "" means the root too). It
// refuses absolute paths, NUL bytes and paths that climb out with "..".
func Clean(rel string) (string, error) {
	if strings.IndexByte(rel, 0) >= 0 {
		return "", derrors.Invalid("path %q contains a NUL byte", rel)
	}
	if rel == "" {
		return ".", nil
	}
	if path.IsAbs(rel) || filepath.IsAbs(rel) || filepath.VolumeName(rel) != "" {
		return "", derrors.Invalid("path %q is absolute; it must be relative to the workspace", rel)
	}
	c := path.Clean(filepath.ToSlash(rel))
	if !filepath.IsLocal(filepath.FromSlash(c)) {
		return "", derrors.Invalid("path %q escapes the workspace", rel)
	}
	return c, nil
}

// Resolve checks rel and returns the absolute host path it names inside the
// workspace. Besides Clean's checks it follows every existing component of
// the path and refuses it if a symlink on the way points outside the root.
// The answer is only advice for code that must hand a path to another
// program: the workspace's own methods re-check on every use.
func (w *Workspace) Resolve(rel string) (string, error) {
	c, err := Clean(rel)
	if err != nil {
		return "", err
	}
	if c == "." {
		return w.dir, nil
	}
	parts := strings.Split(c, "/")
	for i := range parts {
		prefix := strings.Join(parts[:i+1], "/")
		fi, err := w.root.Lstat(prefix)
		if errors.Is(err, fs.ErrNotExist) {
			break // the rest does not exist yet, so it holds no symlink
		}
		if err != nil {
			return "", derrors.Wrap(derrors.ErrInvalid, err, "path %q cannot be resolved in the workspace", rel)
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			continue
		}
		// Stat through the root follows the link and fails if it leads
		// outside; a dangling link inside the root is allowed.
		if _, err := w.root.Stat(prefix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", derrors.Wrap(derrors.ErrInvalid, err, "path %q goes through symlink %q that points outside the workspace", rel, prefix)
		}
	}
	return filepath.Join(w.dir, filepath.FromSlash(c)), nil
}

// FS returns a read-only view of the workspace, for fs.WalkDir and globbing.
func (w *Workspace) FS() fs.FS { return w.root.FS() }

// Stat returns the FileInfo of rel without following a final symlink.
func (w *Workspace) Stat(rel string) (fs.FileInfo, error) {
	c, err := Clean(rel)
	if err != nil {
		return nil, err
	}
	return w.root.Lstat(c)
}

// Exists reports whether rel names anything in the workspace (a dangling
// symlink counts).
func (w *Workspace) Exists(rel string) (bool, error) {
	_, err := w.Stat(rel)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// MkdirAll creates the directory rel and its parents.
func (w *Workspace) MkdirAll(rel string, perm fs.FileMode) error {
	c, err := Clean(rel)
	if err != nil {
		return err
	}
	if c == "." {
		return nil
	}
	return w.root.MkdirAll(c, perm)
}

// ReadFile returns the contents of rel.
func (w *Workspace) ReadFile(rel string) ([]byte, error) {
	c, err := Clean(rel)
	if err != nil {
		return nil, err
	}
	return w.root.ReadFile(c)
}

// ReadDir lists the directory rel, sorted by name.
func (w *Workspace) ReadDir(rel string) ([]fs.DirEntry, error) {
	c, err := Clean(rel)
	if err != nil {
		return nil, err
	}
	return fs.ReadDir(w.root.FS(), c)
}

// Walk walks the tree at rel like fs.WalkDir; paths given to fn are relative
// to the workspace root. Symlinks are reported, not followed.
func (w *Workspace) Walk(rel string, fn fs.WalkDirFunc) error {
	c, err := Clean(rel)
	if err != nil {
		return err
	}
	return fs.WalkDir(w.root.FS(), c, fn)
}

// WriteFile writes data to rel with perm, creating parent directories.
func (w *Workspace) WriteFile(rel string, data []byte, perm fs.FileMode) error {
	return w.WriteFrom(rel, bytes.NewReader(data), perm)
}

// WriteFrom writes everything r yields to rel with perm, creating parent
// directories, and stops with ErrLimit as soon as the workspace would hold
// too many files or bytes (the partial file is removed).
func (w *Workspace) WriteFrom(rel string, r io.Reader, perm fs.FileMode) error {
	c, err := Clean(rel)
	if err != nil {
		return err
	}
	if c == "." {
		return derrors.Invalid("cannot write a file at the workspace root")
	}
	if dir := path.Dir(c); dir != "." {
		if err := w.root.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	// Reserve the file slot first, releasing the old file's bytes if we
	// replace one.
	var oldSize int64
	isNew, exists := true, false
	if fi, err := w.root.Lstat(c); err == nil {
		exists = true
		if fi.IsDir() {
			return derrors.Invalid("cannot write file %q: a directory is in the way", c)
		}
		if fi.Mode().IsRegular() {
			isNew = false
			oldSize = fi.Size()
		}
	}
	w.mu.Lock()
	if isNew && w.files+1 > w.limits.MaxFiles {
		w.mu.Unlock()
		return fmt.Errorf("writing %q: at most %d files allowed: %w", c, w.limits.MaxFiles, ErrLimit)
	}
	if isNew {
		w.files++
	}
	w.bytes -= oldSize
	w.mu.Unlock()

	// Remove first so an existing symlink at rel is replaced, not followed.
	// From here on a failure leaves no file at c, so it frees one slot
	// whether the slot was reserved above or held by the old file.
	if exists {
		if err := w.root.Remove(c); err != nil {
			if isNew {
				w.release(1, 0)
			} else {
				w.release(0, -oldSize) // the old file is still there
			}
			return err
		}
	}
	f, err := w.root.OpenFile(c, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		w.release(1, 0)
		return err
	}
	written, err := w.copyLimited(f, r, c)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = w.root.Remove(c)
		w.release(1, written)
		return err
	}
	// OpenFile applies the umask; set the mode the caller asked for.
	if err := w.root.Chmod(c, perm); err != nil {
		return err
	}
	return nil
}

// copyLimited copies r into f, charging each chunk to the byte budget.
func (w *Workspace) copyLimited(f io.Writer, r io.Reader, name string) (int64, error) {
	var written int64
	buf := make([]byte, 32<<10)
	for {
		n, rerr := r.Read(buf)
		if n > 0 {
			w.mu.Lock()
			over := w.bytes+int64(n) > w.limits.MaxBytes
			if !over {
				w.bytes += int64(n)
			}
			w.mu.Unlock()
			if over {
				return written, fmt.Errorf("writing %q: at most %d bytes allowed in the workspace: %w", name, w.limits.MaxBytes, ErrLimit)
			}
			written += int64(n)
			if _, err := f.Write(buf[:n]); err != nil {
				return written, err
			}
		}
		if rerr == io.EOF {
			return written, nil
		}
		if rerr != nil {
			return written, rerr
		}
	}
}

func (w *Workspace) release(files int, bytes int64) {
	w.mu.Lock()
	w.files -= files
	w.bytes -= bytes
	w.mu.Unlock()
}

// Remove deletes rel and, if it is a directory, everything below it. A
// missing rel is not an error. The root itself cannot be removed.
func (w *Workspace) Remove(rel string) error {
	c, err := Clean(rel)
	if err != nil {
		return err
	}
	if c == "." {
		return derrors.Invalid("cannot remove the workspace root")
	}
	files, bytes, err := w.usage(c)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	if err := w.root.RemoveAll(c); err != nil {
		return err
	}
	w.release(files, bytes)
	return nil
}

// Rename moves from to to, creating the parents of to. If to exists it is
// an error unless overwrite is set, in which case to is removed first.
func (w *Workspace) Rename(from, to string, overwrite bool) error {
	cf, err := Clean(from)
	if err != nil {
		return err
	}
	ct, err := Clean(to)
	if err != nil {
		return err
	}
	if cf == "." || ct == "." {
		return derrors.Invalid("cannot rename the workspace root")
	}
	if _, err := w.root.Lstat(cf); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return derrors.NotFound("cannot rename %q: it does not exist", cf)
		}
		return err
	}
	if cf == ct {
		return nil
	}
	if strings.HasPrefix(ct, cf+"/") {
		return derrors.Invalid("cannot move %q into itself (%q)", cf, ct)
	}
	exists, err := w.Exists(ct)
	if err != nil {
		return err
	}
	if exists {
		if !overwrite {
			return derrors.Conflict("cannot rename %q to %q: the destination exists (set overwrite to replace it)", cf, ct)
		}
		if err := w.Remove(ct); err != nil {
			return err
		}
	}
	if dir := path.Dir(ct); dir != "." {
		if err := w.root.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	return w.root.Rename(cf, ct)
}

// usage counts the regular files and their bytes at rel.
func (w *Workspace) usage(rel string) (files int, bytes int64, err error) {
	err = fs.WalkDir(w.root.FS(), rel, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		files++
		bytes += fi.Size()
		return nil
	})
	return files, bytes, err
}

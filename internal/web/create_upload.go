package web

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"path"
	"slices"
	"strings"
	"sync"
	"time"
)

// The template editor's files: what a post uploads (an archive, files,
// a folder) read into one map of slash-separated paths, within limits,
// and the stash that keeps them between the editor's posts.

// Limits of the template editor's files.
const (
	// maxEditorFiles and maxEditorBytes bound the template's files, as
	// read from the uploads (archives unpacked).
	maxEditorFiles = 1000
	maxEditorBytes = 10 << 20
	// maxEditorYAML bounds the template's YAML.
	maxEditorYAML = 1 << 20
	// maxEditorPost bounds the editor's post: the files (an archive
	// compresses, so its own size is within the files' limit), the YAML,
	// the values and the multipart framing.
	maxEditorPost = maxEditorBytes + maxEditorYAML + 1<<20
)

// uploadRoutes are the browser routes whose posts may carry files
// (multipart/form-data), with their body limits; secure refuses
// multipart posts to any other.
var uploadRoutes = map[string]int64{"/create/edit": maxEditorPost}

// uploadError is a problem with the uploaded files; its message is for
// the user.
type uploadError struct{ msg string }

func (e *uploadError) Error() string { return e.msg }

func uploadErrorf(format string, args ...any) error {
	return &uploadError{msg: fmt.Sprintf(format, args...)}
}

// fileSet collects a template's files within the editor's limits.
type fileSet struct {
	files map[string][]byte
	size  int
}

// newFileSet starts from the files kept from earlier posts.
func newFileSet(kept map[string][]byte) *fileSet {
	s := &fileSet{files: maps.Clone(kept)}
	if s.files == nil {
		s.files = map[string][]byte{}
	}
	for _, b := range s.files {
		s.size += len(b)
	}
	return s
}

// room returns how many more bytes the set may take, for name (which
// replaces a file of the same path).
func (s *fileSet) room(name string) int {
	return maxEditorBytes - s.size + len(s.files[name])
}

// add adds (or replaces) a file at name, a path as the upload gave it.
func (s *fileSet) add(name string, data []byte) error {
	p, err := uploadPath(name)
	if err != nil {
		return err
	}
	old, replaced := s.files[p]
	if !replaced && len(s.files) >= maxEditorFiles {
		return uploadErrorf("The template's files are more than %d: send fewer.", maxEditorFiles)
	}
	if s.size-len(old)+len(data) > maxEditorBytes {
		return uploadErrorf("The template's files are larger than %d MiB together: send fewer or smaller files.", maxEditorBytes>>20)
	}
	s.files[p], s.size = data, s.size-len(old)+len(data)
	return nil
}

// uploadPath checks and cleans a file's path inside the template: a
// relative path that stays inside it. Backslashes count as separators,
// as Windows archivers write them.
func uploadPath(name string) (string, error) {
	p := strings.ReplaceAll(name, `\`, "/")
	if strings.HasPrefix(p, "/") || (len(p) > 1 && p[1] == ':') {
		return "", uploadErrorf("%q is an absolute path: files must stay inside the template's folder.", name)
	}
	for seg := range strings.SplitSeq(p, "/") {
		if seg == ".." {
			return "", uploadErrorf("%q leads out of the template's folder (..): such paths are refused.", name)
		}
	}
	if strings.ContainsRune(p, 0) {
		return "", uploadErrorf("%q is not a valid path.", name)
	}
	p = path.Clean(p)
	if p == "." || p == "" {
		return "", uploadErrorf("A file has no name.")
	}
	return p, nil
}

// readUploads adds the files of the post's inputs to s: "archive" (.zip,
// .tar.gz, .tgz or .tar, unpacked with their paths), "files" (at the
// top of the template's folder) and "folder" (a folder picked whole: the
// browser names its files folder/..., and the folder's own name is
// dropped).
func (s *fileSet) readUploads(form *multipart.Form) error {
	for _, fh := range form.File["archive"] {
		if fh.Filename == "" && fh.Size == 0 {
			continue // the input was left empty
		}
		data, err := readPart(fh)
		if err != nil {
			return err
		}
		if err := s.addArchive(fh.Filename, data); err != nil {
			return err
		}
	}
	for _, input := range []string{"files", "folder"} {
		for _, fh := range form.File[input] {
			if fh.Filename == "" && fh.Size == 0 {
				continue
			}
			name := partPath(fh)
			if input == "folder" {
				if _, rest, ok := strings.Cut(strings.ReplaceAll(name, `\`, "/"), "/"); ok {
					name = rest
				}
			} else {
				name = path.Base(strings.ReplaceAll(name, `\`, "/"))
			}
			if fh.Size > int64(s.room(name)) {
				return uploadErrorf("The template's files are larger than %d MiB together: send fewer or smaller files.", maxEditorBytes>>20)
			}
			data, err := readPart(fh)
			if err != nil {
				return err
			}
			if err := s.add(name, data); err != nil {
				return err
			}
		}
	}
	return nil
}

// partPath is the file name a browser sent for an uploaded file, with
// the folders a folder upload gives it (multipart.FileHeader.Filename
// keeps only the last element).
func partPath(fh *multipart.FileHeader) string {
	if _, params, err := mime.ParseMediaType(fh.Header.Get("Content-Disposition")); err == nil && params["filename"] != "" {
		return params["filename"]
	}
	return fh.Filename
}

func readPart(fh *multipart.FileHeader) ([]byte, error) {
	f, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// addArchive unpacks an archive's regular files into s. Links are
// refused (they could lead anywhere); folders need no entry.
func (s *fileSet) addArchive(name string, data []byte) error {
	lower := strings.ToLower(name)
	switch {
	case strings.HasSuffix(lower, ".zip"):
		return s.addZip(name, data)
	case strings.HasSuffix(lower, ".tar.gz"), strings.HasSuffix(lower, ".tgz"):
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return uploadErrorf("%s is not a gzip-compressed archive: %v", name, err)
		}
		return s.addTar(name, zr)
	case strings.HasSuffix(lower, ".tar"):
		return s.addTar(name, bytes.NewReader(data))
	}
	return uploadErrorf("%s is not an archive: upload a .zip, .tar.gz or .tgz file, or add the files themselves below.", name)
}

func (s *fileSet) addZip(name string, data []byte) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) { // insecure paths are refused below, by name
		return uploadErrorf("%s cannot be read as a zip archive: %v", name, err)
	}
	for _, zf := range zr.File {
		if strings.HasSuffix(zf.Name, "/") || zf.FileInfo().IsDir() {
			continue
		}
		if !zf.Mode().IsRegular() {
			return uploadErrorf("%s: %s is not a regular file (a link?): archives may hold files and folders only.", name, zf.Name)
		}
		p, err := uploadPath(zf.Name)
		if err != nil {
			return uploadErrorf("%s: %v", name, err)
		}
		room := s.room(p)
		if zf.UncompressedSize64 > uint64(room) {
			return uploadErrorf("The template's files are larger than %d MiB together once unpacked: send fewer or smaller files.", maxEditorBytes>>20)
		}
		rc, err := zf.Open()
		if err != nil {
			return uploadErrorf("%s: %s cannot be read: %v", name, zf.Name, err)
		}
		// The declared size may lie: read no more than the room left.
		b, err := io.ReadAll(io.LimitReader(rc, int64(room)+1))
		rc.Close()
		if err != nil {
			return uploadErrorf("%s: %s cannot be read: %v", name, zf.Name, err)
		}
		if err := s.add(p, b); err != nil {
			return err
		}
	}
	return nil
}

func (s *fileSet) addTar(name string, r io.Reader) error {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil && !errors.Is(err, tar.ErrInsecurePath) {
			return uploadErrorf("%s cannot be read as a tar archive: %v", name, err)
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			continue
		case tar.TypeReg:
		default:
			return uploadErrorf("%s: %s is not a regular file (a link?): archives may hold files and folders only.", name, hdr.Name)
		}
		p, err := uploadPath(hdr.Name)
		if err != nil {
			return uploadErrorf("%s: %v", name, err)
		}
		room := s.room(p)
		if hdr.Size > int64(room) {
			return uploadErrorf("The template's files are larger than %d MiB together once unpacked: send fewer or smaller files.", maxEditorBytes>>20)
		}
		b, err := io.ReadAll(io.LimitReader(tr, int64(room)+1))
		if err != nil {
			return uploadErrorf("%s: %s cannot be read: %v", name, hdr.Name, err)
		}
		if err := s.add(p, b); err != nil {
			return err
		}
	}
}

// The stash keeps the files a template editor's post uploaded, so that
// the next post (the user edits the YAML or a value and runs again)
// need not send them again. Carrying them in the page instead (hidden
// fields) would put up to 13 MiB of base64 in every page and post; a
// stash costs memory on the server instead, which is bounded
// (maxStashBytes, entries expire after stashTTL unused) and needs no
// worker: expired entries are dropped whenever the stash is used. An
// entry is found by a random id and belongs to the browser that
// uploaded it (its CSRF cookie), so an id seen by someone else is of no
// use to them. Entries live in the memory of one server: behind a load
// balancer without sticky sessions the next post may reach another, and
// the page then asks for the files again.

// Limits of the stash.
const (
	stashTTL      = 30 * time.Minute
	maxStashBytes = 64 << 20
)

// fileStash is the editor's stash.
type fileStash struct {
	mu      sync.Mutex
	entries map[string]*stashEntry
	size    int
	now     func() time.Time
}

type stashEntry struct {
	owner string
	files map[string][]byte
	size  int
	used  time.Time
}

func newFileStash() *fileStash {
	return &fileStash{entries: map[string]*stashEntry{}, now: time.Now}
}

// stashOwner names the browser of a request: a hash of its CSRF token.
func stashOwner(token string) string {
	sum := sha256.Sum256([]byte("atrium-editor-stash\x00" + token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// get returns the files stashed under id for owner.
func (s *fileStash) get(owner, id string) (map[string][]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire()
	e, ok := s.entries[id]
	if !ok || e.owner != owner {
		return nil, false
	}
	e.used = s.now()
	return e.files, true
}

// put stashes files for owner, replacing the entry id if owner has it,
// and returns the entry's id. The oldest entries make room if needed.
func (s *fileStash) put(owner, id string, files map[string][]byte) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire()
	if e, ok := s.entries[id]; ok && e.owner == owner {
		s.drop(id)
	} else {
		b := make([]byte, 16)
		rand.Read(b)
		id = base64.RawURLEncoding.EncodeToString(b)
	}
	e := &stashEntry{owner: owner, files: files, used: s.now()}
	for _, b := range files {
		e.size += len(b)
	}
	for s.size+e.size > maxStashBytes && len(s.entries) > 0 {
		ids := slices.Collect(maps.Keys(s.entries))
		oldest := slices.MinFunc(ids, func(a, b string) int { return s.entries[a].used.Compare(s.entries[b].used) })
		s.drop(oldest)
	}
	s.entries[id] = e
	s.size += e.size
	return id
}

// expire drops the entries unused for stashTTL.
func (s *fileStash) expire() {
	for id, e := range s.entries {
		if s.now().Sub(e.used) > stashTTL {
			s.drop(id)
		}
	}
}

func (s *fileStash) drop(id string) {
	s.size -= s.entries[id].size
	delete(s.entries, id)
}

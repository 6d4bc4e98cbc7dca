package source

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
)

// ResolveTarget resolves a location target against the location that
// referenced it, as Backstage does for Location entities' target/targets.
//
// An absolute target (an http(s) URL, or an absolute path) is returned as
// it is (paths cleaned). Against a URL base, a relative target resolves as
// a link would (url.ResolveReference). Against a file base, a relative
// target is taken relative to the directory of the base file.
//
// "../" is allowed and may leave the base's directory, as in Backstage:
// which files a catalog may read is decided by the reader (FileReader.Root,
// URLReader.Allow), not by how targets are written.
func ResolveTarget(base, target string) (string, error) {
	if strings.TrimSpace(target) == "" {
		return "", errors.New("resolve target: empty target")
	}
	if isURL(target) {
		return target, nil
	}
	if isURL(base) {
		b, err := url.Parse(base)
		if err != nil {
			return "", fmt.Errorf("resolve %s against %s: %w", target, base, err)
		}
		ref, err := url.Parse(target)
		if err != nil {
			return "", fmt.Errorf("resolve %s against %s: %w", target, base, err)
		}
		return b.ResolveReference(ref).String(), nil
	}
	if filepath.IsAbs(target) {
		return filepath.Clean(target), nil
	}
	if base == "" {
		return filepath.Clean(target), nil
	}
	return filepath.Join(filepath.Dir(base), target), nil
}

// isURL reports whether s is an absolute http(s) URL.
func isURL(s string) bool {
	scheme, _, ok := strings.Cut(s, "://")
	if !ok {
		return false
	}
	switch strings.ToLower(scheme) {
	case "http", "https":
		return true
	}
	return false
}

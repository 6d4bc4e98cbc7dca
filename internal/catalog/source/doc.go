// Package source owns reading catalog files from location targets and
// parsing them into entity documents.
//
// Reading is where untrusted configuration meets the file system and the
// network, so every read is bounded: a FileReader can be confined to a root
// directory (symlinks included), a URLReader only talks http(s) to hosts on
// its allow list and never dials loopback, private, link-local or metadata
// addresses, and both cap size and time.
//
// Parsing keeps positions: a Document remembers the line and column of every
// field, so validation errors can point at "catalog-info.yaml:12:10" instead
// of at an entity name. Parse is fuzzed and guards against the usual YAML
// denial-of-service shapes (alias bombs, deep nesting).
package source

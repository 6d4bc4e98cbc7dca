package entity

import "strings"

// Problem is one thing wrong with an entity document, pointing at the field
// it concerns so that callers holding the source (a YAML file) can report
// file, line and column.
type Problem struct {
	// Path is the dotted path of the offending field ("spec.owner",
	// "metadata.tags.2"); empty for the document as a whole.
	Path string `json:"path,omitempty"`
	// Message says what is wrong and what was expected.
	Message string `json:"message"`
}

// Error returns "path: message", or the message alone for the whole document.
func (p Problem) Error() string {
	if p.Path == "" {
		return p.Message
	}
	return p.Path + ": " + p.Message
}

// Problems is a list of Problem that is itself an error.
type Problems []Problem

// Error joins the problems with "; ".
func (ps Problems) Error() string {
	msgs := make([]string, len(ps))
	for i, p := range ps {
		msgs[i] = p.Error()
	}
	return strings.Join(msgs, "; ")
}

package catalog

import (
	"fmt"

	"github.com/atrium-dev/atrium/internal/catalog/entity"
	"github.com/atrium-dev/atrium/internal/catalog/source"
)

// Diagnostic is one problem found in a catalog file, at a position.
type Diagnostic struct {
	File         string
	Line, Column int
	Message      string
}

func (d Diagnostic) String() string {
	return fmt.Sprintf("%s:%d:%d: %s", d.File, d.Line, d.Column, d.Message)
}

// ValidateFile checks a catalog file offline with the same parsing and
// rules ingestion applies (kinds nil means the built-in kinds), and returns
// every problem with its position. Location targets are not followed.
func ValidateFile(kinds *entity.KindRegistry, file string, data []byte) []Diagnostic {
	if kinds == nil {
		kinds = entity.BuiltinKinds()
	}
	docs, err := source.Parse(file, data)
	if err != nil {
		if pe, ok := err.(*source.ParseError); ok {
			return []Diagnostic{{File: pe.File, Line: pe.Line, Column: pe.Column, Message: pe.Message}}
		}
		return []Diagnostic{{File: file, Line: 1, Column: 1, Message: err.Error()}}
	}
	var out []Diagnostic
	for _, d := range docs {
		_, _, problems := check(kinds, d.Data)
		for _, p := range problems {
			line, col := d.Pos(p.Path)
			out = append(out, Diagnostic{File: file, Line: line, Column: col, Message: p.Error()})
		}
	}
	return out
}

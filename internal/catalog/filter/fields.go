package filter

import (
	"strings"

	"github.com/atrium-dev/atrium/internal/derrors"
)

// ParseFields parses Backstage's `fields` query parameters: dotted paths
// (`kind,metadata.name`), comma-separated and/or repeated, trimmed, empty
// ones dropped. Paths keep their case, since JSON keys are case-sensitive.
// Array indexing (`metadata.tags[0]`) is rejected. It returns nil when no
// path remains, meaning "the whole entity". Errors are derrors.ErrInvalid.
func ParseFields(values []string) ([]string, error) {
	var fields []string
	for _, v := range values {
		for f := range strings.SplitSeq(v, ",") {
			f = strings.TrimSpace(f)
			if f == "" {
				continue
			}
			if strings.Contains(f, "[") {
				return nil, derrors.Invalid("Invalid fields, array type fields are not supported (got %s)", quote(f))
			}
			if err := checkText("fields", f); err != nil {
				return nil, err
			}
			fields = append(fields, f)
		}
	}
	return fields, nil
}

package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/atrium-dev/atrium/internal/derrors"
)

// queryParams parses the query string of r and rejects, with Backstage's
// message, the first parameter (in request order) that is not allowed.
func queryParams(r *http.Request, allowed ...string) (url.Values, error) {
	raw := r.URL.RawQuery
	values, err := url.ParseQuery(raw)
	if err != nil {
		return nil, invalid("Malformed query string")
	}
	for pair := range strings.SplitSeq(raw, "&") {
		if pair == "" {
			continue
		}
		key, _, _ := strings.Cut(pair, "=")
		key, _ = url.QueryUnescape(key) // ParseQuery above has vetted it
		if !slices.Contains(allowed, key) {
			return nil, invalid("Unknown query parameter '%s'", key)
		}
	}
	return values, nil
}

// intParam reads an optional integer parameter the way Backstage's
// parseIntegerParam does: one value, in canonical decimal form.
func intParam(q url.Values, name string) (n int, ok bool, err error) {
	vs, ok := q[name]
	if !ok {
		return 0, false, nil
	}
	if len(vs) != 1 {
		return 0, true, invalid("Invalid %s, not an integer on string form", name)
	}
	n, err = strconv.Atoi(vs[0])
	if err != nil || strconv.Itoa(n) != vs[0] {
		return 0, true, invalid("Invalid %s, not an integer", name)
	}
	return n, true, nil
}

// stringParam reads an optional parameter that may appear at most once.
func stringParam(q url.Values, name string) (s string, ok bool, err error) {
	vs, ok := q[name]
	if !ok {
		return "", false, nil
	}
	if len(vs) != 1 {
		return "", true, invalid("Invalid %s, not a string", name)
	}
	return vs[0], true, nil
}

// boolParam reads an optional boolean parameter, accepting the spellings
// Backstage's yn accepts. Unlike yn it rejects anything else, so that a typo
// in dryRun cannot turn a dry run into a write.
func boolParam(q url.Values, name string) (bool, error) {
	s, ok, err := stringParam(q, name)
	if err != nil || !ok {
		return false, err
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "t", "yes", "y", "on", "1":
		return true, nil
	case "false", "f", "no", "n", "off", "0":
		return false, nil
	}
	return false, invalid("Invalid %s, must be a boolean", name)
}

// bodyRules say how strictly decodeBody treats a JSON body.
type bodyRules struct {
	// strict rejects keys the target struct does not know, where Backstage's
	// schema is strict.
	strict bool
	// allowEmpty accepts `{}`; Backstage's requireRequestBody rejects it.
	allowEmpty bool
}

// decodeBody reads r's JSON object body into v, enforcing the content type,
// the size limit and, per rules, unknown keys and emptiness.
func decodeBody(w http.ResponseWriter, r *http.Request, maxBytes int64, rules bodyRules, v any) error {
	ct := strings.ToLower(r.Header.Get("Content-Type"))
	switch {
	case ct == "":
		return invalid("Content-Type missing")
	case ct != "application/json" && !strings.HasPrefix(ct, "application/json;"):
		return invalid("Illegal Content-Type")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return &httpError{
				status:  http.StatusRequestEntityTooLarge,
				name:    "PayloadTooLargeError",
				message: fmt.Sprintf("Request body is larger than the limit of %d bytes", maxBytes),
			}
		}
		return fmt.Errorf("api: read request body: %w", err)
	}
	body = bytes.TrimSpace(body)
	switch {
	case len(body) == 0:
		return invalid("Missing request body")
	case body[0] != '{':
		return invalid("Expected body to be a JSON object")
	case !rules.allowEmpty && isEmptyObject(body):
		return invalid("Empty request body")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if rules.strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return malformed(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalid("Malformed request: unexpected data after the JSON object")
	}
	return nil
}

// malformed turns a decoding error into a client-safe InputError. The
// decoder's messages describe only the client's own input.
func malformed(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return invalid("Malformed request: invalid JSON at offset %d: %s", syntax.Offset, syntax.Error())
	case errors.As(err, &typ):
		if typ.Field == "" {
			return invalid("Malformed request: unexpected %s", typ.Value)
		}
		return invalid("Malformed request: '%s' must not be %s", typ.Field, article(typ.Value))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return invalid("Malformed request: unexpected end of JSON input")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return invalid("Malformed request: unknown key '%s'", field)
	}
	return derrors.Wrap(derrors.ErrInvalid, err, "Malformed request body")
}

func article(jsonType string) string {
	switch jsonType {
	case "array", "object":
		return "an " + jsonType
	}
	return "a " + jsonType
}

// isEmptyObject reports whether a trimmed body is `{}`, spaces allowed inside.
func isEmptyObject(body []byte) bool {
	return len(body) >= 2 && body[0] == '{' && body[len(body)-1] == '}' &&
		len(bytes.TrimSpace(body[1:len(body)-1])) == 0
}

// isJSONObject reports whether raw, if present, is a JSON object.
func isJSONObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{'
}

// isJSONNull reports whether raw is absent or the JSON null.
func isJSONNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

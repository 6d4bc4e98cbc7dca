package derrors

import (
	"bytes"
	"encoding/json"
	"net/http"
)

// backstageNames are Backstage's error names for the kinds, as its error
// body carries them.
var backstageNames = map[error]string{
	ErrInvalid:         "InputError",
	ErrUnauthenticated: "AuthenticationError",
	ErrForbidden:       "NotAllowedError",
	ErrNotFound:        "NotFoundError",
	ErrConflict:        "ConflictError",
	ErrNotImplemented:  "NotImplementedError",
	ErrUnavailable:     "ServiceUnavailableError",
}

// BackstageName returns Backstage's error name for kind ("NotFoundError"),
// or "Error" for nil or a kind it has no name for.
func BackstageName(kind error) string {
	if n, ok := backstageNames[kind]; ok {
		return n
	}
	return "Error"
}

// backstageBody is Backstage's JSON error body.
type backstageBody struct {
	Error struct {
		Name    string `json:"name"`
		Message string `json:"message"`
	} `json:"error"`
	Request struct {
		Method string `json:"method"`
		URL    string `json:"url"`
	} `json:"request"`
	Response struct {
		StatusCode int `json:"statusCode"`
	} `json:"response"`
}

// WriteBackstageError writes Backstage's error body,
// {"error":{"name","message"},"request":{"method","url"},"response":{"statusCode"}},
// for r (whose URL is reported as the handler saw it) with status.
func WriteBackstageError(w http.ResponseWriter, r *http.Request, status int, name, message string) {
	var body backstageBody
	body.Error.Name = name
	body.Error.Message = message
	body.Request.Method = r.Method
	body.Request.URL = r.URL.RequestURI()
	body.Response.StatusCode = status
	// Messages quote user input such as "<asc or desc>": as Backstage's
	// JSON, without HTML escaping.
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(body) // strings and an int: cannot fail
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}

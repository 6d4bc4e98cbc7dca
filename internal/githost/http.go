package githost

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/pktline"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/server"
)

// maxUploadPackRequest bounds a clone's request body (its wants and
// haves): a clone of one branch sends a few hundred bytes.
const maxUploadPackRequest = 1 << 20

// CloneHandler serves git's smart HTTP protocol, read only, for the
// repositories under the host's web base path:
//
//	GET  <base>/<owner>/<repo>.git/info/refs?service=git-upload-pack
//	POST <base>/<owner>/<repo>.git/git-upload-pack
//
// It answers protocol version 0 without multi_ack or side-band, which git
// clients fall back to: enough to clone and fetch. Pushes
// (git-receive-pack) are refused: repositories here are written by
// publish:git only.
func (h *Host) CloneHandler() http.Handler {
	srv := server.NewServer(loader{h})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		owner, repo, op, ok := h.splitGitPath(r.URL.Path)
		if !ok {
			http.NotFound(w, r)
			return
		}
		if r.URL.Query().Get("service") == "git-receive-pack" || op == "git-receive-pack" {
			http.Error(w, "pushing is not supported: repositories on this host are created by software templates", http.StatusForbidden)
			return
		}
		ep := &transport.Endpoint{Protocol: "file", Path: owner + "/" + repo}
		sess, err := srv.NewUploadPackSession(ep, nil)
		if err != nil {
			gitError(w, err)
			return
		}
		defer sess.Close()
		switch {
		case op == "info/refs" && r.Method == http.MethodGet:
			if r.URL.Query().Get("service") != "git-upload-pack" {
				http.Error(w, "only the smart protocol is served: ask for ?service=git-upload-pack", http.StatusForbidden)
				return
			}
			refs, err := sess.AdvertisedReferencesContext(r.Context())
			if err != nil {
				gitError(w, err)
				return
			}
			refs.Prefix = [][]byte{[]byte("# service=git-upload-pack"), pktline.Flush}
			var buf bytes.Buffer
			if err := refs.Encode(&buf); err != nil {
				gitError(w, err)
				return
			}
			w.Header().Set("Content-Type", "application/x-git-upload-pack-advertisement")
			w.Header().Set("Cache-Control", "no-cache")
			w.Write(buf.Bytes())
		case op == "git-upload-pack" && r.Method == http.MethodPost:
			if r.Header.Get("Content-Encoding") != "" {
				// git only compresses requests larger than a clone's.
				http.Error(w, "compressed requests are not supported", http.StatusUnsupportedMediaType)
				return
			}
			req, err := readUploadPackRequest(io.LimitReader(r.Body, maxUploadPackRequest))
			if err != nil {
				http.Error(w, "bad upload-pack request: "+err.Error(), http.StatusBadRequest)
				return
			}
			resp, err := sess.UploadPack(r.Context(), req)
			if err != nil {
				gitError(w, err)
				return
			}
			w.Header().Set("Content-Type", "application/x-git-upload-pack-result")
			w.Header().Set("Cache-Control", "no-cache")
			// Errors past this point reach git as a truncated pack.
			resp.Encode(w)
		default:
			w.Header().Set("Allow", "GET, POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		}
	})
}

// splitGitPath reads <base>/<owner>/<repo>.git/<op>.
func (h *Host) splitGitPath(p string) (owner, repo, op string, ok bool) {
	rest, found := strings.CutPrefix(p, strings.TrimSuffix(h.web.Path, "/")+"/")
	if !found {
		return "", "", "", false
	}
	parts := strings.SplitN(rest, "/", 3)
	if len(parts) != 3 {
		return "", "", "", false
	}
	repo, found = strings.CutSuffix(parts[1], ".git")
	if !found || CheckName("owner", parts[0]) != nil || CheckName("repository", repo) != nil {
		return "", "", "", false
	}
	return parts[0], repo, parts[2], true
}

// readUploadPackRequest decodes a stateless upload-pack request: wants
// and capabilities, a flush, then haves up to "done".
func readUploadPackRequest(r io.Reader) (*packp.UploadPackRequest, error) {
	req := packp.NewUploadPackRequest()
	if err := req.UploadRequest.Decode(r); err != nil {
		return nil, err
	}
	s := pktline.NewScanner(r)
	for s.Scan() {
		line := strings.TrimSuffix(string(s.Bytes()), "\n")
		switch {
		case line == "done":
			return req, nil
		case line == "":
			continue // a flush between rounds
		case strings.HasPrefix(line, "have "):
			h := strings.TrimPrefix(line, "have ")
			if len(h) != 40 {
				return nil, fmt.Errorf("malformed have line %q", line)
			}
			req.Haves = append(req.Haves, plumbing.NewHash(h))
		default:
			return nil, fmt.Errorf("unexpected line %q", line)
		}
	}
	return req, s.Err()
}

func gitError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, transport.ErrRepositoryNotFound):
		http.Error(w, "repository not found", http.StatusNotFound)
	case errors.Is(err, transport.ErrEmptyUploadPackRequest):
		http.Error(w, "the request wants nothing", http.StatusBadRequest)
	default:
		http.Error(w, "git: "+err.Error(), http.StatusInternalServerError)
	}
}

// loader gives the upload-pack server the host's repositories only.
type loader struct{ h *Host }

func (l loader) Load(ep *transport.Endpoint) (storer.Storer, error) {
	owner, repo, ok := strings.Cut(ep.Path, "/")
	if !ok {
		return nil, transport.ErrRepositoryNotFound
	}
	r, err := l.h.Open(owner, repo)
	if err != nil {
		return nil, transport.ErrRepositoryNotFound
	}
	return r.Storer, nil
}

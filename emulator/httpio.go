package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
)

// maxBody is the largest request body accepted (413 beyond).
const maxBody = 1 << 20

var errTooLarge = errors.New("request body exceeds 1 MiB")

// readBody reads the whole body, up to maxBody.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxBody {
		return nil, errTooLarge
	}
	return b, nil
}

// bodyPresent reports whether a body carries a JSON value other than null.
func bodyPresent(body []byte) bool {
	t := bytes.TrimSpace(body)
	return len(t) != 0 && !bytes.Equal(t, []byte("null"))
}

// decodeJSON parses body into v. An empty or null body leaves v alone
// and reports false.
func decodeJSON(body []byte, v any) (bool, *apiError) {
	if !bodyPresent(body) {
		return false, nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return true, badBody(jsonProblem(err))
	}
	return true, nil
}

// jsonProblem describes a decoding error without echoing the input.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return "malformed JSON"
	case errors.As(err, &te):
		return "field '" + te.Field + "' has the wrong type"
	default:
		return "malformed JSON"
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil { // only our own types are encoded; this is a bug
		status, b = http.StatusInternalServerError, []byte(`{"error":"encode response"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

func writeNoContent(w http.ResponseWriter) { w.WriteHeader(http.StatusNoContent) }

// writeCollection writes the common envelope holding items.
func writeCollection[T any](w http.ResponseWriter, status int, ctype string, items []T) {
	writeJSON(w, status, collection{
		Metadata:  collectionMeta{CollectionType: ctype, CollectionTotal: len(items)},
		Resources: nonNil(items),
	})
}

func nonNil[T any](items []T) []T {
	if items == nil {
		return []T{}
	}
	return items
}

// statusWriter records what a request was answered, for the request log
// and the activity record.
type statusWriter struct {
	http.ResponseWriter
	status int
	reason string // Key Protect reason code of an error answer
	iamID  string // the verified bearer token's identity
	keyID  string // the key the request resolved or created
	// discard: the answer is to be lost (DropResponses); nothing reaches
	// the connection.
	discard bool
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	if !w.discard {
		w.ResponseWriter.WriteHeader(code)
	}
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.discard {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

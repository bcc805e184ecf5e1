package main

import (
	"cmp"
	"encoding/json"
	"net/url"
	"os"
	"strings"
)

// webUILink is the Web UI page of a workflow run under BYOK_UI_URL (the
// Web UI's base address; `make stack` sets it), or "" when unset.
func webUILink(workflowID, runID string) string {
	base := strings.TrimRight(os.Getenv("BYOK_UI_URL"), "/")
	if base == "" {
		return ""
	}
	ns := cmp.Or(os.Getenv("TEMPORAL_NAMESPACE"), "default")
	return base + "/namespaces/" + url.PathEscape(ns) + "/workflows/" + url.PathEscape(workflowID) + "/" + url.PathEscape(runID) + "/history"
}

// withWebUI adds "webUi" as the last member of the JSON object b when the
// command started a workflow; other documents pass unchanged.
func withWebUI(b []byte, link string) []byte {
	b = []byte(strings.TrimSpace(string(b)))
	if link == "" || len(b) < 2 || b[0] != '{' {
		return b
	}
	q, _ := json.Marshal(link)
	body := strings.TrimSpace(string(b[1 : len(b)-1]))
	sep := ","
	if body == "" {
		sep = ""
	}
	return []byte("{" + body + sep + `"webUi":` + string(q) + "}")
}

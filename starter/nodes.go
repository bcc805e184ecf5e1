package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/byokflow/byokflow/contract"
)

// nodeRow is one node of the Nodes page, as printed and as JSON.
type nodeRow struct {
	Node         string `json:"node"`
	Host         string `json:"host"`
	Role         string `json:"role,omitempty"`
	State        string `json:"state"`
	ServerUp     bool   `json:"serverUp"`
	Address      string `json:"address,omitempty"`
	Replication  string `json:"replication,omitempty"`
	LagBytes     int64  `json:"lagBytes"`
	Storage      string `json:"storage,omitempty"`
	StorageKeyID string `json:"storageKeyId,omitempty"`
	StorageKey   string `json:"storageKey,omitempty"`
	KeyVersion   string `json:"keyVersion"`
	CheckValue   string `json:"checkValue"`
	ReportedAt   string `json:"reportedAt"`
	Detail       string `json:"detail,omitempty"`
}

// reportTime is RFC 3339 with milliseconds, so reports of the same second
// still order.
const reportTime = "2006-01-02T15:04:05.000Z07:00"

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(reportTime)
}

func rfc3339Ptr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return rfc3339(*t)
}

func rowsFromReports(reports []contract.NodeReport) []nodeRow {
	rows := make([]nodeRow, 0, len(reports))
	for _, r := range reports {
		rows = append(rows, nodeRow{
			Node: r.NodeID, Host: r.Host, Role: string(r.Role), State: string(r.State), ServerUp: r.ServerUp,
			Address: r.Address, Replication: r.Replication, LagBytes: r.LagBytes, Storage: r.Storage,
			StorageKeyID: r.StorageKeyID, StorageKey: r.StorageKey, KeyVersion: r.KeyVersionID,
			CheckValue: r.KeyCheckValue, ReportedAt: rfc3339(r.ReportedAt), Detail: r.Detail,
		})
	}
	return rows
}

// printNodes writes the Nodes page as a table, and the detail of every
// node that is not active below it.
func printNodes(w io.Writer, rows []nodeRow) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tHOST\tROLE\tSTATE\tSERVER\tREPLICATION\tSTORAGE\tFSCRYPT KEY\tKEY VERSION\tCHECK VALUE\tREPORTED AT")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Node, r.Host, dash(r.Role), r.State,
			serverCell(r), replicationCell(r), dash(r.Storage), storageKeyCell(r), r.KeyVersion, r.CheckValue, r.ReportedAt)
	}
	tw.Flush()
	for _, r := range rows {
		if r.State != string(contract.KeyActive) && r.Detail != "" {
			fmt.Fprintf(w, "  %s: %s\n", r.Node, r.Detail)
		}
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func serverCell(r nodeRow) string {
	if r.ServerUp {
		return "up " + r.Address
	}
	return "down"
}

func replicationCell(r nodeRow) string {
	if r.Replication == "" {
		return "-"
	}
	return fmt.Sprintf("%s (lag %d B)", r.Replication, r.LagBytes)
}

// storageKeyCell is the fscrypt key identifier, shortened, and its state.
func storageKeyCell(r nodeRow) string {
	if r.StorageKeyID == "" {
		return "-"
	}
	id := r.StorageKeyID
	if len(id) > 12 {
		id = id[:12] + "…"
	}
	return id + " " + r.StorageKey
}

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
	Node       string `json:"node"`
	Host       string `json:"host"`
	State      string `json:"state"`
	KeyVersion string `json:"keyVersion"`
	CheckValue string `json:"checkValue"`
	ReportedAt string `json:"reportedAt"`
	Detail     string `json:"detail,omitempty"`
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
			Node: r.NodeID, Host: r.Host, State: string(r.State), KeyVersion: r.KeyVersionID,
			CheckValue: r.KeyCheckValue, ReportedAt: rfc3339(r.ReportedAt), Detail: r.Detail,
		})
	}
	return rows
}

// printNodes writes the Nodes page as a table.
func printNodes(w io.Writer, rows []nodeRow) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tHOST\tSTATE\tKEY VERSION\tCHECK VALUE\tREPORTED AT")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Node, r.Host, r.State, r.KeyVersion, r.CheckValue, r.ReportedAt)
	}
	tw.Flush()
}

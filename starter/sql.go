package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"text/tabwriter"

	"github.com/jackc/pgx/v5"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/contract"
)

// runSQL runs SQL on an instance's primary (or, with --node, on one of its
// nodes; a standby is read-only) and prints the rows of the last
// statement: how a user (and the tests) put data in and read it back. It
// logs in as the instance's admin role with the password kept for the
// operator, over SCRAM-SHA-256.
func runSQL(ctx context.Context, a *app, args []string) error {
	fs := newFlags(a, "sql")
	instance := fs.String("instance", "", "name of the instance (required)")
	nodeID := fs.String("node", "", "node to run on (default: the primary); a standby is read-only")
	query := fs.String("c", "", "SQL to run; several statements may be separated by ';' (required)")
	asJSON := fs.Bool("json", false, "print the rows as one JSON document")
	if err := parse(fs, args, map[string]*string{"instance": instance, "c": query}); err != nil {
		return err
	}
	if err := contract.ValidateInstanceName(*instance); err != nil {
		return usagef("sql: %v", err)
	}
	conn, err := connectInstance(ctx, *instance, *nodeID)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	results, err := conn.PgConn().Exec(ctx, *query).ReadAll()
	if err != nil {
		return fmt.Errorf("run SQL in instance %s: %w", *instance, err)
	}
	last := results[len(results)-1]
	cols := make([]string, len(last.FieldDescriptions))
	for i, f := range last.FieldDescriptions {
		cols[i] = f.Name
	}
	if *asJSON {
		return a.printJSON(sqlRows(cols, last.Rows))
	}
	printRows(a, cols, last.Rows, last.CommandTag.String())
	return nil
}

// endpoint is where one node of an instance serves, from its latest report.
type endpoint struct {
	database, node, address string
	role                    string
}

// findEndpoint picks the node of instance that SQL goes to (the primary
// when nodeID is empty) and checks from its latest report that it serves;
// a node that does not fails with a typed error saying why and what to do.
func findEndpoint(ctx context.Context, instance, nodeID string) (endpoint, error) {
	cat, err := openCatalog(ctx)
	if err != nil {
		return endpoint{}, err
	}
	defer cat.Close()
	inst, err := getInstance(ctx, cat, instance)
	if err != nil {
		return endpoint{}, fmt.Errorf("connect to instance %s: %w", instance, err)
	}
	nodes, err := cat.LatestStatus(ctx, instance)
	if err != nil {
		return endpoint{}, err
	}
	for _, n := range nodes {
		if (nodeID == "" && n.Ordinal == 0) || n.NodeID == nodeID {
			return servingEndpoint(instance, inst, n)
		}
	}
	return endpoint{}, usagef("connect to instance %s: it has no node %q", instance, nodeID)
}

// servingEndpoint is node n's endpoint, or why it does not serve.
func servingEndpoint(instance string, inst catalog.Instance, n catalog.NodeStatus) (endpoint, error) {
	what := fmt.Sprintf("connect to node %s of instance %s", n.NodeID, instance)
	switch {
	case inst.SuspendedBy == string(contract.SuspendedByKeyDisabled) && n.State == catalog.KeySuspended:
		return endpoint{}, contract.NewError(contract.ErrTypeKeySuspended, fmt.Sprintf("%s: the customer disabled "+
			"root key %s in Key Protect: the node's server is stopped and its storage locked; enable the key in "+
			"Key Protect and byokflow resumes the instance by itself at its next reconciliation", what,
			inst.RootKeyID), nil)
	case inst.State == catalog.InstanceKeyDestroyed || inst.SuspendedBy == string(contract.SuspendedByKeyDestroyed):
		return endpoint{}, contract.NewError(contract.ErrTypeKeyDestroyed, fmt.Sprintf("%s: root key %s is "+
			"deleted in Key Protect: the node stays locked; restore the key in Key Protect within 30 days of its "+
			"deletion and byokflow resumes the instance by itself; after that its storage is removed", what,
			inst.RootKeyID), nil)
	case n.State == catalog.KeySuspended:
		return endpoint{}, contract.NewError(contract.ErrTypeKeySuspended, fmt.Sprintf("%s: the node's key is "+
			"suspended (%s): its server is stopped and its storage locked; enable root key %s in Key Protect, "+
			"then run `starter resume --instance %s`", what, n.Detail, inst.RootKeyID, instance), nil)
	case n.State == catalog.KeyDestroyed:
		return endpoint{}, contract.NewError(contract.ErrTypeKeyDestroyed, what+": the node's key is destroyed: "+
			"its data is unrecoverable", nil)
	case !n.ServerUp || n.Address == "":
		return endpoint{}, contract.NewError(contract.ErrTypeNodeNotServing, fmt.Sprintf("%s: the node does not "+
			"serve (state %s%s): `starter status --instance %s` shows every node", what, n.State,
			detailSuffix(n.Detail), instance), nil)
	}
	return endpoint{database: inst.DatabaseName, node: n.NodeID, address: n.Address, role: n.Role}, nil
}

func detailSuffix(d string) string {
	if d == "" {
		return ""
	}
	return ": " + d
}

// connString is the libpq connection string of e with the operator's
// passfile: what `starter connect` prints and what sql uses.
func (e endpoint) connString(c credentials) string {
	host, port, _ := net.SplitHostPort(e.address)
	u := url.URL{Scheme: "postgresql", User: url.User(contract.AdminRole), Host: net.JoinHostPort(host, port),
		Path: "/" + e.database}
	q := url.Values{"sslmode": {"disable"}, "passfile": {c.path}, "application_name": {"byokflow-starter"}}
	u.RawQuery = q.Encode()
	return u.String()
}

// connectInstance connects to a node of an instance as its admin role.
func connectInstance(ctx context.Context, instance, nodeID string) (*pgx.Conn, error) {
	e, err := findEndpoint(ctx, instance, nodeID)
	if err != nil {
		return nil, err
	}
	c, err := readCredentials(instance)
	if err != nil {
		return nil, err
	}
	conn, err := pgx.Connect(ctx, e.connString(c))
	if err != nil {
		return nil, fmt.Errorf("connect to node %s of instance %s at %s: %w: `starter status --instance %s` "+
			"shows whether it serves", e.node, instance, e.address, err, instance)
	}
	return conn, nil
}

// runConnect prints the libpq connection string of an instance's primary
// (or of --node), for psql and drivers; the password stays in the passfile
// it names.
func runConnect(ctx context.Context, a *app, args []string) error {
	fs := newFlags(a, "connect")
	instance := fs.String("instance", "", "name of the instance (required)")
	nodeID := fs.String("node", "", "node to connect to (default: the primary)")
	if err := parse(fs, args, map[string]*string{"instance": instance}); err != nil {
		return err
	}
	if err := contract.ValidateInstanceName(*instance); err != nil {
		return usagef("connect: %v", err)
	}
	e, err := findEndpoint(ctx, *instance, *nodeID)
	if err != nil {
		return err
	}
	c, err := readCredentials(*instance)
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, e.connString(c))
	return nil
}

// sqlRows turns text-format rows into JSON objects; NULL becomes null.
func sqlRows(cols []string, rows [][][]byte) []map[string]*string {
	out := make([]map[string]*string, 0, len(rows))
	for _, r := range rows {
		m := make(map[string]*string, len(cols))
		for i, c := range cols {
			if r[i] != nil {
				s := string(r[i])
				m[c] = &s
			} else {
				m[c] = nil
			}
		}
		out = append(out, m)
	}
	return out
}

func printRows(a *app, cols []string, rows [][][]byte, tag string) {
	if len(cols) == 0 {
		fmt.Fprintln(a.stdout, tag)
		return
	}
	tw := tabwriter.NewWriter(a.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(cols, "\t"))
	for _, r := range rows {
		vals := make([]string, len(r))
		for i, v := range r {
			vals[i] = string(v)
			if v == nil {
				vals[i] = "NULL"
			}
		}
		fmt.Fprintln(tw, strings.Join(vals, "\t"))
	}
	tw.Flush()
}

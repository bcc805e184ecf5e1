package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/jackc/pgx/v5"

	"github.com/byokflow/byokflow/contract"
)

// runSQL runs SQL in an instance's database and prints the rows of the last
// statement: how a user (and the tests) put data in and read it back.
func runSQL(ctx context.Context, a *app, args []string) error {
	fs := newFlags(a, "sql")
	instance := fs.String("instance", "", "name of the instance (required)")
	query := fs.String("c", "", "SQL to run; several statements may be separated by ';' (required)")
	asJSON := fs.Bool("json", false, "print the rows as one JSON document")
	if err := parse(fs, args, map[string]*string{"instance": instance, "c": query}); err != nil {
		return err
	}
	if err := contract.ValidateInstanceName(*instance); err != nil {
		return usagef("sql: %v", err)
	}
	conn, err := connectInstance(ctx, *instance)
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

// connectInstance connects to the database of an instance, on the server of
// BYOK_DATABASE_URL.
func connectInstance(ctx context.Context, instance string) (*pgx.Conn, error) {
	cat, err := openCatalog(ctx)
	if err != nil {
		return nil, err
	}
	inst, err := cat.GetInstance(ctx, instance)
	cat.Close()
	if err != nil {
		return nil, fmt.Errorf("connect to instance %s: %w", instance, err)
	}
	u, err := url.Parse(os.Getenv("BYOK_DATABASE_URL"))
	if err != nil {
		return nil, fmt.Errorf("connect to instance %s: parse BYOK_DATABASE_URL: %w", instance, err)
	}
	u.Path = "/" + inst.DatabaseName
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		return nil, fmt.Errorf("connect to database %s of instance %s (state %s): %w", inst.DatabaseName, instance, inst.State, err)
	}
	return conn, nil
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

package node

import (
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// fixtureSchema is an instance database with what a restore must bring
// back: many column types (text with COPY's special characters, numeric,
// bytea, timestamptz, jsonb, arrays, an enum, interval, float), NULLs, an
// identity and a serial column, a generated column, a composite primary
// key, a type without binary I/O (aclitem, copied as text), unique and
// secondary indexes, foreign keys, a check constraint, a
// quoted name in another schema, a partitioned table, a view, a
// materialized view, a function and a trigger.
const fixtureSchema = `
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE customers (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL UNIQUE,
  balance numeric(14,2),
  photo bytea,
  joined timestamptz,
  profile jsonb,
  tags text[],
  mood mood,
  note text);
CREATE TABLE orders (
  id serial PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES customers (id),
  placed timestamptz NOT NULL DEFAULT now(),
  total numeric CHECK (total >= 0),
  total_cents bigint GENERATED ALWAYS AS ((total * 100)::bigint) STORED,
  ratio double precision,
  span interval);
CREATE INDEX orders_customer_placed_idx ON orders (customer_id, placed DESC);
CREATE TABLE order_lines (
  order_id integer NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  line smallint NOT NULL,
  sku text NOT NULL,
  qty integer NOT NULL,
  PRIMARY KEY (order_id, line));
CREATE SCHEMA archive;
CREATE TABLE archive."Closed Accounts" ("Key" text PRIMARY KEY, closed date, reason varchar(200));
CREATE TABLE events (id bigint, at date NOT NULL, payload text) PARTITION BY RANGE (at);
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE grants (id int PRIMARY KEY, acl aclitem);
CREATE VIEW big_spenders AS
  SELECT customer_id, sum(total) AS spent FROM orders GROUP BY customer_id HAVING sum(total) > 1000;
CREATE MATERIALIZED VIEW order_counts AS SELECT customer_id, count(*) AS n FROM orders GROUP BY customer_id;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.placed := now(); RETURN NEW; END $$;
CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch();
`

// plaintextMarker is in many rows of the fixture; no backup file may hold it.
const plaintextMarker = "PLAINTEXT-MARKER-7f3a"

// fixtureData fills the fixture with n customers, 2n orders, 6n order
// lines and n events, and moves the orders sequence past the last id.
const fixtureData = `
INSERT INTO customers (name, balance, photo, joined, profile, tags, mood, note)
SELECT 'customer ' || g || E' \t tab\\back\nline ü€ \\N',
  CASE WHEN g % 7 = 0 THEN NULL ELSE (g * 12.34) % 100000 END,
  CASE WHEN g % 5 = 0 THEN NULL ELSE decode(repeat(md5(g::text), 4), 'hex') END,
  timestamptz '2024-01-01 00:00:00+00' + g * interval '37 minutes 13.123456 seconds',
  jsonb_build_object('g', g, 'list', jsonb_build_array('a', g % 3), 'x', g::float8 / 7),
  CASE WHEN g % 11 = 0 THEN NULL ELSE ARRAY['t' || g % 4, NULL, 'quote"d', 'com,ma'] END,
  (ARRAY['sad', 'ok', 'happy']::mood[])[g % 3 + 1],
  CASE WHEN g % 3 = 0 THEN NULL ELSE '` + plaintextMarker + ` ' || repeat(md5(g::text), 4) END
FROM generate_series(1, {n}) g;
INSERT INTO orders (customer_id, placed, total, ratio, span)
SELECT g % {n} + 1, timestamptz '2024-06-01 12:00:00+02' + g * interval '1 minute',
  (g % 5000) / 3.0, g / 3.0::float8, g * interval '1 second 7 microseconds'
FROM generate_series(1, 2 * {n}) g;
INSERT INTO order_lines SELECT o, l, 'SKU-' || md5((o * 10 + l)::text), l * 3
FROM generate_series(1, 2 * {n}) o, generate_series(1, 3) l;
INSERT INTO archive."Closed Accounts"
SELECT 'k' || g, date '2020-01-01' + g, CASE WHEN g % 2 = 0 THEN NULL ELSE 'moved' END FROM generate_series(1, 100) g;
INSERT INTO events SELECT g, date '2024-06-01' + g % 400, md5(g::text) FROM generate_series(1, {n}) g;
INSERT INTO grants SELECT g, CASE WHEN g % 2 = 0 THEN NULL ELSE
  makeaclitem(0, (SELECT oid FROM pg_roles WHERE rolname = current_user), 'SELECT', g % 3 = 0) END
FROM generate_series(1, 10) g;
REFRESH MATERIALIZED VIEW order_counts;
SELECT nextval('orders_id_seq') FROM generate_series(1, 5);
`

// fixtureRelations are what fingerprint compares, views included.
var fixtureRelations = []string{"customers", "orders", "order_lines", `archive."Closed Accounts"`,
	"events", "events_2024", "events_2025", "grants", "big_spenders", "order_counts"}

// schemaQueries describe a database's schema as rows of text.
var schemaQueries = []string{
	`SELECT table_schema || '.' || table_name || '.' || column_name || ' ' || data_type || ' ' || udt_name ||
  ' ' || is_nullable || ' ' || coalesce(column_default, '') || ' ' || is_identity || ' ' || is_generated ||
  ' ' || coalesce(generation_expression, '')
FROM information_schema.columns WHERE table_schema IN ('public', 'archive')
ORDER BY table_schema, table_name, ordinal_position`,
	`SELECT schemaname || '.' || indexname || ' ' || indexdef FROM pg_indexes
WHERE schemaname IN ('public', 'archive') ORDER BY 1`,
	`SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
WHERE connamespace IN ('public'::regnamespace, 'archive'::regnamespace) ORDER BY 1`,
	`SELECT tgrelid::regclass::text || ' ' || tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1`,
	`SELECT schemaname || '.' || sequencename || ' ' || coalesce(last_value::text, 'null') FROM pg_sequences ORDER BY 1`,
	`SELECT schemaname || '.' || viewname || ' ' || definition FROM pg_views WHERE schemaname = 'public' ORDER BY 1`,
}

// fillFixture creates the fixture schema in the database of conn and n
// customers' worth of rows.
func (h *harness) fillFixture(conn *pgx.Conn, n int) {
	h.t.Helper()
	_, err := conn.Exec(h.ctx, fixtureSchema)
	require.NoError(h.t, err)
	_, err = conn.Exec(h.ctx, strings.ReplaceAll(fixtureData, "{n}", strconv.Itoa(n)))
	require.NoError(h.t, err)
}

// fingerprint is a description of the content and schema of the database
// of conn: per relation its row count and the md5 of its rows in text
// form, then the schema rows.
func (h *harness) fingerprint(conn *pgx.Conn) []string {
	h.t.Helper()
	var out []string
	for _, rel := range fixtureRelations {
		var sum string
		err := conn.QueryRow(h.ctx, "SELECT count(*) || ' ' || coalesce(md5(string_agg(t::text, ',' "+
			"ORDER BY t::text)), '') FROM "+rel+" t").Scan(&sum)
		require.NoError(h.t, err, rel)
		out = append(out, rel+" "+sum)
	}
	for _, q := range schemaQueries {
		rows, err := conn.Query(h.ctx, q)
		require.NoError(h.t, err, q)
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(h.t, err, q)
		out = append(out, lines...)
	}
	return out
}

package node

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDumpWriter_FramesReadBackInOrder(t *testing.T) {
	var buf bytes.Buffer
	d := newDumpWriter(&buf)
	require.NoError(t, d.jsonFrame(frameHeaderJSON, dumpHeader{Format: 1, BackupID: "b1"}))
	schema := bytes.Repeat([]byte("CREATE TABLE x ();\n"), maxFrame/10) // spans two frames
	require.NoError(t, d.frame(framePreData, schema))
	require.NoError(t, d.jsonFrame(frameTable, dumpTable{Schema: "public", Name: "t", Columns: []string{"a"}}))
	var rows bytes.Buffer
	for i := range 100000 { // many small writes, as COPY makes them: one per row
		line := []byte(strings.Repeat("x", i%50) + "\n")
		rows.Write(line)
		_, err := d.Write(line)
		require.NoError(t, err)
	}
	require.Greater(t, rows.Len(), maxFrame, "spans several data frames")
	require.NoError(t, d.endTable(100000))
	require.NoError(t, d.jsonFrame(frameTrailer, dumpTrailer{Tables: 1, Rows: 100000}))
	require.NoError(t, d.close())

	r, err := newDumpReader(&buf)
	require.NoError(t, err)
	var h dumpHeader
	require.NoError(t, r.expect(frameHeaderJSON, &h))
	require.Equal(t, "b1", h.BackupID)
	var gotSchema []byte
	for range 2 {
		kind, err := r.next()
		require.NoError(t, err)
		require.Equal(t, framePreData, kind)
		gotSchema, err = r.payload(gotSchema)
		require.NoError(t, err)
	}
	require.Equal(t, schema, gotSchema)
	var table dumpTable
	require.NoError(t, r.expect(frameTable, &table))
	data := &tableData{d: r}
	got, err := io.ReadAll(data)
	require.NoError(t, err)
	require.Equal(t, rows.Bytes(), got)
	require.Equal(t, int64(100000), data.rows)
	var z dumpTrailer
	require.NoError(t, r.expect(frameTrailer, &z))
	_, err = r.next()
	require.ErrorIs(t, err, errMalformed, "input ends")
}

func TestDumpReader_BadMagicIsMalformed(t *testing.T) {
	_, err := newDumpReader(strings.NewReader("NOTADUMP\x01"))
	require.ErrorIs(t, err, errMalformed)
	_, err = newDumpReader(strings.NewReader("BYOKDUMP\x02"))
	require.ErrorIs(t, err, errMalformed)
}

func TestDumpReader_OversizedFrameIsMalformed(t *testing.T) {
	_, err := (&dumpReader{r: strings.NewReader("D\x00\x10\x00\x01")}).next()
	require.ErrorIs(t, err, errMalformed)
}

func TestTableData_ForeignFrameInsideTableIsMalformed(t *testing.T) {
	var buf bytes.Buffer
	d := newDumpWriter(&buf)
	_, _ = d.Write([]byte("row\n"))
	require.NoError(t, d.flush())
	require.NoError(t, d.frame(framePostData, []byte("SELECT 1;")))
	require.NoError(t, d.close())
	r, err := newDumpReader(&buf)
	require.NoError(t, err)
	data := &tableData{d: r}
	_, err = io.ReadAll(data)
	require.ErrorIs(t, err, errMalformed)
	require.ErrorIs(t, data.err, errMalformed, "kept for after the COPY")
}

func TestLoader_FramesOutOfOrderAreMalformed(t *testing.T) {
	for name, kinds := range map[string][]byte{
		"schema after data":         {framePreData, frameTable, framePreData},
		"post-data before data":     {framePostData, frameTable},
		"two sequence frames":       {frameSequences, frameSequences},
		"trailer without sequences": {framePreData, frameTrailer},
		"data outside a table":      {frameData},
		"second header":             {frameHeaderJSON},
	} {
		t.Run(name, func(t *testing.T) {
			l := &loader{}
			var err error
			for _, k := range kinds {
				if err = l.enter(context.Background(), k); err != nil {
					break
				}
			}
			require.ErrorIs(t, err, errMalformed)
		})
	}
}

func TestStripRestrict_RemovesOnlyPsqlCommands(t *testing.T) {
	script := "--\n-- PostgreSQL database dump\n--\n\n\\restrict AbC123\n\nSET x = 1;\n" +
		"CREATE FUNCTION f() RETURNS text AS $$\n\\restrict other\n$$ LANGUAGE sql;\n" +
		"\\unrestrict other\n\\unrestrict AbC123\n"
	got := string(stripRestrict([]byte(script)))
	require.Equal(t, "--\n-- PostgreSQL database dump\n--\n\n\nSET x = 1;\n"+
		"CREATE FUNCTION f() RETURNS text AS $$\n\\restrict other\n$$ LANGUAGE sql;\n\\unrestrict other\n", got)
	require.Equal(t, "SELECT 1;\n", string(stripRestrict([]byte("SELECT 1;\n"))), "older pg_dump")
}

func TestCopySQL_QuotesNamesAndListsColumns(t *testing.T) {
	require.Equal(t, `COPY "archive"."Closed Accounts" ("Key", "closed") FROM STDIN`,
		copySQL(dumpTable{Schema: "archive", Name: "Closed Accounts", Columns: []string{"Key", "closed"},
			Format: copyText}, "FROM STDIN"))
	require.Equal(t, `COPY "public"."empty" TO STDOUT (FORMAT binary)`,
		copySQL(dumpTable{Schema: "public", Name: "empty", Format: copyBinary}, "TO STDOUT"))
}

package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// restrictLine matches the `\restrict <key>` line with which pg_dump (since
// 15.14 and its peers) opens a plain-format script for psql; the script
// closes with `\unrestrict <key>`. They are psql commands, not SQL, and
// are dropped from the dump.
var restrictLine = regexp.MustCompile(`(?m)^\\restrict ([A-Za-z0-9]+)\r?\n`)

// schemaDump runs pg_dump for one section ("pre-data" or "post-data") of
// database in the exported snapshot, so the schema is the one the data
// was copied under. Owners and privileges are left out: a restore goes
// into a new instance whose roles may differ, and its objects belong to
// the restoring role. It connects over the node server's unix socket (peer
// authentication): no password is involved.
func (c dataConfig) schemaDump(ctx context.Context, database, snapshot, section string) ([]byte, error) {
	prog, err := c.pgDump()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, prog, "--section="+section, "--snapshot="+snapshot,
		"--no-owner", "--no-privileges", "--encoding=UTF8", "--no-password", "--host="+c.socketDir,
		"--port="+strconv.Itoa(c.port), "--username=postgres", "--dbname="+database)
	cmd.SysProcAttr = dieWithParent()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("dump %s schema of database %s with %s: %w: %s", section, database, prog, err,
			firstLine(stderr.String()))
	}
	return stripRestrict(out), nil
}

// schemaDumpLate runs schemaDump in its own goroutine and delivers the
// section's SQL, encoded as frames of kind, on the returned channel.
func (c dataConfig) schemaDumpLate(ctx context.Context, database, snapshot, section string, kind byte) <-chan late {
	ch := make(chan late, 1)
	go func() {
		sql, err := c.schemaDump(ctx, database, snapshot, section)
		ch <- late{b: appendFrames(nil, kind, sql), err: err}
	}()
	return ch
}

// stripRestrict removes pg_dump's `\restrict KEY` and `\unrestrict KEY`
// lines, leaving SQL only.
func stripRestrict(script []byte) []byte {
	m := restrictLine.FindSubmatchIndex(script)
	if m == nil {
		return script
	}
	key := string(script[m[2]:m[3]])
	script = slices.Delete(script, m[0], m[1])
	un := regexp.MustCompile(`(?m)^\\unrestrict ` + regexp.QuoteMeta(key) + `\r?\n?`)
	return un.ReplaceAll(script, nil)
}

// firstLine is the first line of pg_dump's error output, at most 300 bytes.
func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}

// findPGDump finds pg_dump: configured (when not empty), else the one next
// to `pg_config --bindir`, else the newest /usr/lib/postgresql/*/bin/pg_dump,
// else pg_dump on PATH.
func findPGDump(configured string) (string, error) {
	if configured != "" {
		return configured, nil
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "pg_dump")
		if isExecutable(p) {
			return p, nil
		}
	}
	if p := newestPackaged(); p != "" {
		return p, nil
	}
	p, err := exec.LookPath("pg_dump")
	if err != nil {
		return "", errors.New("find pg_dump: not next to pg_config, under /usr/lib/postgresql nor on PATH: " +
			"install the PostgreSQL client programs of the server's major version or newer")
	}
	return p, nil
}

// newestPackaged is the pg_dump of the newest major version under
// /usr/lib/postgresql (Debian's layout), or "".
func newestPackaged() string {
	paths, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_dump")
	best, bestMajor := "", -1
	for _, p := range paths {
		major, err := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(p))))
		if err == nil && major > bestMajor && isExecutable(p) {
			best, bestMajor = p, major
		}
	}
	return best
}

func isExecutable(p string) bool {
	info, err := os.Stat(p)
	return err == nil && !info.IsDir() && info.Mode()&0o111 != 0
}

package main

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/internal/scram"
)

// credentials is the admin password of one instance, kept for the operator
// in a file only they can read: $BYOK_CREDENTIALS_DIR/<instance>.pgpass
// (default <user config dir>/byokflow/credentials), in libpq's passfile
// format so that psql and every libpq driver can use it as it is
// (`starter connect` prints a connection string naming it). The password
// never leaves this machine: workflows carry only its SCRAM verifier.
type credentials struct {
	path     string
	password string
}

// credentialsDir is where the operator's instance credentials live.
func credentialsDir() (string, error) {
	if d := os.Getenv("BYOK_CREDENTIALS_DIR"); d != "" {
		return d, nil
	}
	base, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the credentials directory: %w: set BYOK_CREDENTIALS_DIR", err)
	}
	return filepath.Join(base, "byokflow", "credentials"), nil
}

// credentialsPath is instance's file in the credentials directory; a name
// that is no valid instance name (a path such as ../x) is refused, so no
// file is ever written or read outside the directory.
func credentialsPath(instance string) (string, error) {
	if err := contract.ValidateInstanceName(instance); err != nil {
		return "", fmt.Errorf("find the credentials of instance %q: %w", instance, err)
	}
	dir, err := credentialsDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, instance+".pgpass"), nil
}

// ensureCredentials returns instance's credentials, making a new random
// password (0600 file, 0700 directory) when there is none yet, so that a
// provision re-run after a lost answer keeps the password it had. made
// says whether this call made them.
func ensureCredentials(instance string) (c credentials, made bool, err error) {
	c, err = readCredentials(instance)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return c, false, err
	}
	password, err := scram.NewPassword()
	if err != nil {
		return c, false, err
	}
	c.password = password
	if err := os.MkdirAll(filepath.Dir(c.path), 0o700); err != nil {
		return c, false, fmt.Errorf("keep the admin password of instance %s: %w: set BYOK_CREDENTIALS_DIR "+
			"to a directory you can write", instance, err)
	}
	line := fmt.Sprintf("*:*:*:%s:%s\n", contract.AdminRole, password)
	if err := os.WriteFile(c.path, []byte(line), 0o600); err != nil {
		return c, false, fmt.Errorf("keep the admin password of instance %s in %s: %w: set BYOK_CREDENTIALS_DIR "+
			"to a directory you can write", instance, c.path, err)
	}
	return c, true, nil
}

// readCredentials reads instance's credentials file; a missing file wraps
// fs.ErrNotExist.
func readCredentials(instance string) (credentials, error) {
	path, err := credentialsPath(instance)
	c := credentials{path: path}
	if err != nil {
		return c, err
	}
	f, err := os.Open(path)
	if err != nil {
		return c, fmt.Errorf("read the admin password of instance %s: %w: it is kept on the machine "+
			"that provisioned the instance (BYOK_CREDENTIALS_DIR)", instance, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if sc.Scan() {
		fields := strings.SplitN(sc.Text(), ":", 5)
		if len(fields) == 5 && fields[3] == contract.AdminRole {
			c.password = fields[4]
			return c, nil
		}
	}
	return c, fmt.Errorf("read the admin password of instance %s: %s is not a passfile line for %s: "+
		"restore the file the provision wrote", instance, path, contract.AdminRole)
}

// verifier is the SCRAM-SHA-256 verifier of the password, which is what a
// workflow may carry.
func (c credentials) verifier() (string, error) { return scram.Verifier(c.password) }

// removeCredentials deletes instance's credentials once it is shredded.
func removeCredentials(instance string) error {
	path, err := credentialsPath(instance)
	if err == nil {
		err = os.Remove(path)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

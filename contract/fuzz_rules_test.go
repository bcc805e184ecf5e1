package contract

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// The documented id rules, written out by hand so that the fuzzer checks
// the validators against something other than their own expressions.

func all(errs ...error) error { return errors.Join(errs...) }

func check(ok bool, what string) error {
	if ok {
		return nil
	}
	return errors.New(what)
}

func atLeast(d, min time.Duration) error { return check(d >= min, fmt.Sprintf("%s below %s", d, min)) }

// onlyOf reports whether every byte of s is in set.
func onlyOf(s, set string) bool {
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune(set, rune(s[i])) {
			return false
		}
	}
	return true
}

const (
	lower  = "abcdefghijklmnopqrstuvwxyz"
	digits = "0123456789"
	hex    = digits + "abcdefABCDEF"
)

// instanceOK: 3-40 lower-case letters, digits or dashes, a letter first;
// so no path, quote, space, NUL or non-ASCII.
func instanceOK(s string) error {
	return check(len(s) >= 3 && len(s) <= 40 && strings.ContainsRune(lower, rune(s[0])) && onlyOf(s, lower+digits+"-"),
		fmt.Sprintf("instance name %q", s))
}

// uuidOK: 8-4-4-4-12 hex digits.
func uuidOK(s string) error {
	ok := len(s) == 36
	for i := 0; ok && i < len(s); i++ {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			ok = s[i] == '-'
		} else {
			ok = strings.ContainsRune(hex, rune(s[i]))
		}
	}
	return check(ok, fmt.Sprintf("uuid %q", s))
}

// keyRefOK: a UUID or an alias of 2-90 letters, digits, '-' or '_' that
// is not a word Key Protect reserves.
func keyRefOK(s string) error {
	if uuidOK(s) == nil {
		return nil
	}
	reserved := map[string]bool{"key": true, "keys": true, "rotate": true, "wrap": true, "unwrap": true, "policy": true}
	return check(len(s) >= 2 && len(s) <= 90 && onlyOf(s, lower+strings.ToUpper(lower)+digits+"-_") && !reserved[s],
		fmt.Sprintf("root key id %q", s))
}

// backupIDOK: a plain file name: 1-128 letters, digits, '.', '_' or '-',
// starting with a letter or digit (so never "." or ".." or a path).
func backupIDOK(s string) error {
	alnum := lower + strings.ToUpper(lower) + digits
	return check(len(s) >= 1 && len(s) <= 128 && strings.ContainsRune(alnum, rune(s[0])) && onlyOf(s, alnum+"._-"),
		fmt.Sprintf("backup id %q", s))
}

// verifierOK: a SCRAM-SHA-256 verifier, never a plain password.
func verifierOK(s string) error {
	return check(strings.HasPrefix(s, "SCRAM-SHA-256$") && strings.Count(s, "$") == 2, "admin verifier")
}

func nodesOK(n int) error {
	return check(n >= MinNodes && n <= MaxNodes, fmt.Sprintf("node count %d", n))
}

func deadlineOK(d Duration) error {
	return check(d.D() >= time.Minute && d.D() <= MaxNodeDeadline, fmt.Sprintf("node deadline %s", d))
}

//go:build !byoktest

package encryption

// testHookKeyMade sees every data key made. Production builds do nothing;
// end-to-end tests build with -tags byoktest (testhook_byoktest.go) to
// learn every key a process held, so their secret scan can look for it.
func testHookKeyMade([]byte) {}

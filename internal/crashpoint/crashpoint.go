// Package crashpoint lets the reliability suite crash a worker at a chosen
// activity step: in binaries built with -tags byoktest, the activity type
// BYOK_TEST_HOLD_ACTIVITY names is held on its first attempt, either when
// it starts (TYPE) or once its work is done but before its result is sent
// (TYPE:after), until the process is killed. The suite sees the attempt
// running in Temporal (a pending activity, started) and then kills the
// process: a crash at exactly that step, found from Temporal's own record
// rather than by sleeping.
//
// Production builds (without the tag) get no interceptor: Interceptors
// returns nil. It imports only the Temporal SDK.
package crashpoint

// EnvHold names the activity step to hold: TYPE or TYPE:after.
const EnvHold = "BYOK_TEST_HOLD_ACTIVITY"

// Package emulator is a local IBM Key Protect v2 and IAM server for
// development and tests. The real IBM Go clients (keyprotect-go-client,
// platform-services-go-sdk iampolicymanagementv1 with go-sdk-core's
// IamAuthenticator) work against it unchanged, on one host and port:
//
//   - IAM tokens: POST /identity/token and /oidc/token (HS256 JWTs).
//   - IAM policy management: /v1/policies (create, list, get, delete).
//   - Key Protect: /api/v2/... (keys, key actions, versions, policies,
//     instance policies, registrations, aliases, key rings, import tokens
//     and secure import).
//   - The activity record of Key Protect requests, standing in for
//     Activity Tracker: GET /admin/v1/activity and Server.Activity.
//   - Rotation by rotation policy, on a clock that tests move forward:
//     Server.Advance and, with Config.DevClock, /admin/v1/clock.
//
// The wire contract is the public Key Protect v2 and IAM API as those
// clients see it; README.md in this folder lists the emulator's own
// choices (error codes for access denials, fixed development values, what
// answers 501).
//
// State lives in memory and, when Config.DataDir is set, in a data
// directory rewritten atomically after every change; key material is kept
// there encrypted under a master key of the same directory. Wrap, unwrap
// and rewrap change no state; like every Key Protect request they only
// append a line to the activity record.
//
// This package must import nothing but the standard library: no IBM
// client, no other package of this repository. Test helpers that drive it
// with the real clients live in emulatortest.
package emulator

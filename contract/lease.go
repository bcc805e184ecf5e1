package contract

import "time"

// The liveness lease of a host: its node agent checks the host in with the
// control plane (WorkflowNodeCheckIn, no reports) every
// HostCheckInInterval, and the control plane stamps the host's last-seen
// time as it records each check-in. A host not seen for HostLease (three
// missed check-ins) counts as down: its nodes are not serving, and the
// Nodes page shows their instances degraded (a standby down) or
// unavailable (the primary down) until the host checks in again and its
// nodes report serving.
const (
	HostCheckInInterval = 5 * time.Second
	HostLease           = 3 * HostCheckInInterval
)

// HostLeaseWorkflowID is the workflow id of host's periodic check-ins,
// apart from its start-up check-in ("node-checkin-" + host), which
// carries reports a lease check-in must not replace.
func HostLeaseWorkflowID(host string) string { return "node-lease-" + host }

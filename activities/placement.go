package activities

import (
	"fmt"
	"slices"
	"strings"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/contract"
)

// instanceCRN is the CRN byokflow gives an instance and registers with its
// root key: crn:v1:bluemix:public:<service>:<region>:a/<account>:<instance id>::
// It is derived from the instance id alone, so every attempt of every
// provision of that name yields the same CRN, and Key Protect's
// registration list shows the instance by name.
func instanceCRN(cfg Config, instanceID string) string {
	return fmt.Sprintf("crn:v1:bluemix:public:%s:%s:a/%s:%s::", cfg.ServiceName, cfg.Region, cfg.AccountID, instanceID)
}

// databaseName is the instance's database: byok_ and the instance id with
// dashes as underscores (at most 45 characters, a valid identifier).
func databaseName(instanceID string) string {
	return "byok_" + strings.ReplaceAll(instanceID, "-", "_")
}

// nodeID is the stable id of the n-th node (1-based) of an instance.
func nodeID(instanceID string, n int) string {
	return fmt.Sprintf("%s-%d", instanceID, n)
}

// placeNodes places count nodes round-robin over the hosts in name order:
// node <instance>-1 on the first host, -2 on the second, and so on. The
// same hosts always give the same placement. Ordinal 0 is the primary.
func placeNodes(instanceID string, count int, hosts []catalog.Host) []catalog.Node {
	sorted := slices.Clone(hosts)
	slices.SortFunc(sorted, func(a, b catalog.Host) int { return strings.Compare(a.Name, b.Name) })
	nodes := make([]catalog.Node, count)
	for i := range nodes {
		h := sorted[i%len(sorted)]
		queue := h.TaskQueue
		if queue == "" {
			queue = contract.NodeTaskQueue(h.Name)
		}
		nodes[i] = catalog.Node{InstanceID: instanceID, NodeID: nodeID(instanceID, i+1),
			Host: h.Name, TaskQueue: queue, Ordinal: i}
	}
	return nodes
}

// placements converts catalog nodes (ordered by ordinal) for the contract.
func placements(nodes []catalog.Node) []contract.NodePlacement {
	out := make([]contract.NodePlacement, len(nodes))
	for i, n := range nodes {
		out[i] = contract.NodePlacement{NodeID: n.NodeID, Host: n.Host, TaskQueue: n.TaskQueue}
	}
	return out
}

package main

import (
	"context"
	"fmt"

	"github.com/byokflow/byokflow/internal/ibmenv"
)

// runKeysPolicy sets Key Protect's own rotation policy of a root key with
// the operator's credentials: Key Protect then rotates the key every N
// months by itself. It rotates only the key; byokflow's reconciliation
// notices the new version and rewraps the nodes and backups.
func runKeysPolicy(ctx context.Context, a *app, args []string) error {
	fs := newFlags(a, "keys policy")
	rootKey := fs.String("root-key", "", "id or alias of the root key (required)")
	months := fs.Int("rotation-months", -1, "rotate every this many months (1-12); 0 disables the policy (required)")
	kpInstance := fs.String("kp-instance", "", "Key Protect instance of the key (default BYOK_KP_INSTANCE_ID)")
	asJSON := fs.Bool("json", false, "print one JSON document")
	if err := parse(fs, args, map[string]*string{"root-key": rootKey}); err != nil {
		return err
	}
	if *months < 0 || *months > 12 {
		return usagef("keys policy: --rotation-months %d: give 1 to 12, or 0 to disable Key Protect's rotation policy", *months)
	}
	client, err := ibmenv.Read(nil).ForKPInstance(*kpInstance).OperatorKP()
	if err != nil {
		return err
	}
	if *months == 0 {
		_, err = client.DisableRotationPolicy(ctx, *rootKey)
	} else {
		_, err = client.SetRotationPolicy(ctx, *rootKey, *months, true)
	}
	if err != nil {
		return fmt.Errorf("set the rotation policy of root key %s in Key Protect instance %s: %w: check the key id "+
			"(`starter keys list`) and that IBMCLOUD_API_KEY has Manager on the instance", *rootKey, client.Config.InstanceID, err)
	}
	if *asJSON {
		return a.printJSON(map[string]any{"rootKeyId": *rootKey, "rotationMonths": *months, "enabled": *months > 0})
	}
	if *months == 0 {
		fmt.Fprintf(a.stdout, "root key %s: Key Protect's rotation policy disabled\n", *rootKey)
		return nil
	}
	fmt.Fprintf(a.stdout, "root key %s: Key Protect rotates it every %d months; byokflow's reconciliation "+
		"rewraps the nodes to each new version\n", *rootKey, *months)
	return nil
}

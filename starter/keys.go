package main

import (
	"context"
	"fmt"

	"github.com/byokflow/byokflow/internal/ibmenv"
)

// runKeysCreate creates a root key with the operator's credentials; it works
// against real Key Protect as well as the emulator.
func runKeysCreate(ctx context.Context, a *app, args []string) error {
	fs := newFlags(a, "keys create")
	name := fs.String("name", "", "name of the new root key (required)")
	kpInstance := fs.String("kp-instance", "", "Key Protect instance of the key (default BYOK_KP_INSTANCE_ID)")
	asJSON := fs.Bool("json", false, "print one JSON document")
	if err := parse(fs, args, map[string]*string{"name": name}); err != nil {
		return err
	}
	client, err := ibmenv.Read(nil).ForKPInstance(*kpInstance).OperatorKP()
	if err != nil {
		return err
	}
	key, err := client.CreateRootKey(ctx, *name, nil)
	if err != nil {
		return fmt.Errorf("create root key %q: %w", *name, err)
	}
	if *asJSON {
		return a.printJSON(map[string]string{"id": key.ID, "name": key.Name})
	}
	fmt.Fprintf(a.stdout, "created root key %s (%s)\n", key.ID, key.Name)
	return nil
}

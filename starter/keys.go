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
		return fmt.Errorf("create root key %q in Key Protect instance %s: %w: check BYOK_KP_URL and that "+
			"IBMCLOUD_API_KEY has Writer or Manager on the instance", *name, client.Config.InstanceID, err)
	}
	if *asJSON {
		return a.printJSON(map[string]string{"id": key.ID, "name": key.Name})
	}
	fmt.Fprintf(a.stdout, "created root key %s (%s)\n", key.ID, key.Name)
	return nil
}

// importOutput is the JSON document of `starter keys import --json`.
type importOutput struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	KeyVersion string `json:"keyVersion"`
	Imported   bool   `json:"imported"`
	Secure     bool   `json:"secure"`
}

// runKeysImport creates a root key from the operator's own material, with
// the operator's credentials: by default through an import token (secure
// import), with --secure=false as a plain payload (TLS only).
func runKeysImport(ctx context.Context, a *app, args []string) error {
	fs := newFlags(a, "keys import")
	name := fs.String("name", "", "name of the new root key (required)")
	file := fs.String("material-file", "", "file of 16, 24 or 32 raw bytes of key material (required)")
	secure := fs.Bool("secure", true, "import through an import token (false: plain payload over TLS)")
	kpInstance := fs.String("kp-instance", "", "Key Protect instance of the key (default BYOK_KP_INSTANCE_ID)")
	asJSON := fs.Bool("json", false, "print one JSON document")
	if err := parse(fs, args, map[string]*string{"name": name, "material-file": file}); err != nil {
		return err
	}
	env := ibmenv.Read(nil).ForKPInstance(*kpInstance)
	client, err := env.OperatorKP()
	if err != nil {
		return err
	}
	material, err := readMaterial(*file)
	if err != nil {
		return err
	}
	sealed, err := sealMaterial(ctx, client, env.KPInstanceID, material, *secure)
	clear(material)
	if err != nil {
		return fmt.Errorf("import root key %q: %w", *name, err)
	}
	key, err := client.CreateImportedRootKey(ctx, *name, nil, sealed.payload, sealed.nonce, sealed.iv)
	if err != nil {
		return fmt.Errorf("import root key %q into Key Protect instance %s: %w: nothing was imported; "+
			"check the material file and run the command again", *name, env.KPInstanceID, err)
	}
	out := importOutput{ID: key.ID, Name: key.Name, KeyVersion: versionOf(key), Imported: key.Imported, Secure: *secure}
	if *asJSON {
		return a.printJSON(out)
	}
	how := map[bool]string{true: "with an import token", false: "as a plain payload"}[*secure]
	fmt.Fprintf(a.stdout, "imported root key %s (%s) %s\n", key.ID, key.Name, how)
	return nil
}

package main

import (
	"context"
	"fmt"

	kp "github.com/IBM/keyprotect-go-client"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/internal/ibmenv"
)

// rotateWithMaterial rotates the instance's imported root key in Key
// Protect with the operator's new material, with the operator's
// credentials, before the workflow rewraps the nodes (MaterialRotated): the
// material never enters a workflow. It rotates only while Key Protect still
// reports the version recorded at the instance's last completed rotation,
// so running the command again after a failure never rotates twice; the
// workflow then only rewraps.
func rotateWithMaterial(ctx context.Context, a *app, instanceID, file string, secure bool) error {
	material, err := readMaterial(file)
	if err != nil {
		return err
	}
	defer clear(material)
	inst, err := rotatableInstance(ctx, instanceID)
	if err != nil {
		return err
	}
	env := ibmenv.Read(nil).ForKPInstance(inst.KPInstanceID)
	client, err := env.OperatorKP()
	if err != nil {
		return err
	}
	what := fmt.Sprintf("rotate root key %s of instance %s in Key Protect instance %s", inst.RootKeyID, instanceID, inst.KPInstanceID)
	key, err := client.GetKeyMetadata(ctx, inst.RootKeyID)
	if err != nil {
		return fmt.Errorf("%s: read the key: %w: check that IBMCLOUD_API_KEY has a role on the instance", what, err)
	}
	if !key.Imported {
		return fmt.Errorf("%s: Key Protect generated this key, so it rotates without new material: "+
			"run `starter rotate --instance %s` without --material-file", what, instanceID)
	}
	if v := versionOf(key); v != inst.KeyVersionID {
		fmt.Fprintf(a.stderr, "root key %s is at version %s, past version %s recorded for instance %s: "+
			"not rotating it again, rewrapping the nodes\n", key.ID, v, inst.KeyVersionID, instanceID)
		return nil
	}
	sealed, err := sealMaterial(ctx, client, inst.KPInstanceID, material, secure)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := client.RotateV2(ctx, key.ID, sealed.forRotation()); err != nil {
		return fmt.Errorf("%s: %w: the key was not rotated; check the material file and run the command again", what, err)
	}
	return nil
}

// rotatableInstance reads the instance from the catalog and requires it
// active, with a recorded key version.
func rotatableInstance(ctx context.Context, id string) (catalog.Instance, error) {
	cat, err := openCatalog(ctx)
	if err != nil {
		return catalog.Instance{}, err
	}
	defer cat.Close()
	inst, err := getInstance(ctx, cat, id)
	if err != nil {
		return inst, fmt.Errorf("rotate root key of instance %s: %w", id, err)
	}
	if inst.State != catalog.InstanceActive || inst.KeyVersionID == "" {
		return inst, fmt.Errorf("rotate root key of instance %s: the instance is %s: only an active instance "+
			"rotates; check it with `starter status --instance %s`", id, inst.State, id)
	}
	return inst, nil
}

func versionOf(k *kp.Key) string {
	if k.KeyVersion == nil {
		return ""
	}
	return k.KeyVersion.ID
}

package main

import (
	"context"
	"fmt"
	"io"

	kp "github.com/IBM/keyprotect-go-client"

	"github.com/byokflow/byokflow/internal/ibmenv"
)

// keyShowOutput is the JSON document of `starter keys show --json`.
type keyShowOutput struct {
	ID             string            `json:"id"`
	Name           string            `json:"name"`
	KPInstance     string            `json:"kpInstance"`
	CRN            string            `json:"crn"`
	State          string            `json:"state"`
	Imported       bool              `json:"imported"`
	CreatedAt      string            `json:"createdAt"`
	LastRotatedAt  string            `json:"lastRotatedAt,omitempty"`
	KeyVersion     string            `json:"keyVersion"`
	Versions       []versionRow      `json:"versions"`
	Rotation       *rotationPolicy   `json:"rotationPolicy,omitempty"`
	DualAuthDelete bool              `json:"dualAuthDelete"`
	Registrations  []registrationRow `json:"registrations"`
	Instances      []string          `json:"instances"`
}

type versionRow struct {
	ID        string `json:"id"`
	CreatedAt string `json:"createdAt"`
}

type rotationPolicy struct {
	Enabled        bool `json:"enabled"`
	IntervalMonths int  `json:"intervalMonths"`
}

type registrationRow struct {
	ResourceCRN        string `json:"resourceCrn"`
	KeyVersion         string `json:"keyVersion"`
	PreventKeyDeletion bool   `json:"preventKeyDeletion"`
}

// runKeysShow shows one root key as Key Protect reports it (state,
// versions, policies, registrations) and the byokflow instances on it.
func runKeysShow(ctx context.Context, a *app, args []string) error {
	fs := newFlags(a, "keys show")
	keyID := fs.String("root-key", "", "id or alias of the root key (required)")
	kpInstance := fs.String("kp-instance", "", "Key Protect instance of the key (default BYOK_KP_INSTANCE_ID)")
	asJSON := fs.Bool("json", false, "print one JSON document")
	if err := parse(fs, args, map[string]*string{"root-key": keyID}); err != nil {
		return err
	}
	env := ibmenv.Read(nil).ForKPInstance(*kpInstance)
	out, err := showKey(ctx, env, *keyID)
	if err != nil {
		return fmt.Errorf("show root key %s of Key Protect instance %s: %w: check the key id and "+
			"that IBMCLOUD_API_KEY has a role on the instance", *keyID, env.KPInstanceID, err)
	}
	onKey, err := instancesByKey(ctx, env.KPInstanceID)
	if err != nil {
		return err
	}
	out.Instances = append([]string{}, onKey[out.ID]...)
	if *asJSON {
		return a.printJSON(out)
	}
	printKey(a.stdout, out)
	return nil
}

// showKey reads the key, its versions, policies and registrations.
func showKey(ctx context.Context, env ibmenv.Env, id string) (keyShowOutput, error) {
	client, err := env.OperatorKP()
	if err != nil {
		return keyShowOutput{}, err
	}
	key, err := client.GetKeyMetadata(ctx, id)
	if err != nil {
		return keyShowOutput{}, err
	}
	out := keyShowOutput{ID: key.ID, Name: key.Name, KPInstance: env.KPInstanceID, CRN: key.CRN,
		State: keyStateName(key.State), Imported: key.Imported, KeyVersion: versionOf(key),
		CreatedAt: rfc3339Ptr(key.CreationDate), LastRotatedAt: rfc3339Ptr(key.LastRotateDate)}
	all := true
	versions, err := client.ListKeyVersions(ctx, key.ID, &kp.ListKeyVersionsOptions{AllKeyStates: &all})
	if err != nil {
		return out, err
	}
	for _, v := range versions.KeyVersion {
		out.Versions = append(out.Versions, versionRow{ID: v.ID, CreatedAt: rfc3339Ptr(v.CreationDate)})
	}
	if err := addPolicies(ctx, client, &out); err != nil {
		return out, err
	}
	return out, addRegistrations(ctx, client, &out)
}

func addPolicies(ctx context.Context, client *kp.Client, out *keyShowOutput) error {
	policies, err := client.GetPolicies(ctx, out.ID)
	if err != nil {
		return err
	}
	for _, p := range policies {
		if r := p.Rotation; r != nil {
			out.Rotation = &rotationPolicy{Enabled: r.Enabled != nil && *r.Enabled, IntervalMonths: r.Interval}
		}
		if d := p.DualAuth; d != nil && d.Enabled != nil {
			out.DualAuthDelete = *d.Enabled
		}
	}
	return nil
}

func addRegistrations(ctx context.Context, client *kp.Client, out *keyShowOutput) error {
	regs, err := client.ListRegistrations(ctx, out.ID, "")
	if err != nil {
		return err
	}
	out.Registrations = []registrationRow{}
	for _, r := range regs.Registrations {
		out.Registrations = append(out.Registrations, registrationRow{ResourceCRN: r.ResourceCrn,
			KeyVersion: r.KeyVersion.ID, PreventKeyDeletion: r.PreventKeyDeletion})
	}
	return nil
}

func printKey(w io.Writer, k keyShowOutput) {
	fmt.Fprintf(w, "root key %s (%s) in Key Protect instance %s\n", k.ID, k.Name, k.KPInstance)
	fmt.Fprintf(w, "  state %s, imported %t, created %s, last rotated %s\n", k.State, k.Imported, k.CreatedAt, orNever(k.LastRotatedAt))
	fmt.Fprintf(w, "  versions (newest first):\n")
	for _, v := range k.Versions {
		fmt.Fprintf(w, "    %s  %s\n", v.ID, v.CreatedAt)
	}
	rotation := "none"
	if r := k.Rotation; r != nil {
		rotation = fmt.Sprintf("enabled %t, every %d months", r.Enabled, r.IntervalMonths)
	}
	fmt.Fprintf(w, "  rotation policy: %s; dual-authorization delete: %t\n", rotation, k.DualAuthDelete)
	fmt.Fprintf(w, "  registrations:\n")
	for _, r := range k.Registrations {
		fmt.Fprintf(w, "    %s  version %s  prevent deletion %t\n", r.ResourceCRN, r.KeyVersion, r.PreventKeyDeletion)
	}
	fmt.Fprintf(w, "  byokflow instances: %v\n", k.Instances)
}

func orNever(s string) string {
	if s == "" {
		return "never"
	}
	return s
}

package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	kp "github.com/IBM/keyprotect-go-client"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/internal/ibmenv"
)

// keyRow is one root key of `starter keys list`.
type keyRow struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	State      string   `json:"state"`
	Imported   bool     `json:"imported"`
	KeyVersion string   `json:"keyVersion"`
	Instances  []string `json:"instances"`
}

// keyStates names Key Protect's key states.
var keyStates = map[int]string{1: "Active", 2: "Suspended", 3: "Deactivated", 5: "Destroyed"}

func keyStateName(s int) string {
	if n, ok := keyStates[s]; ok {
		return n
	}
	return fmt.Sprintf("state %d", s)
}

// listPage is how many keys one Key Protect list call returns.
const listPage = 200

// runKeysList lists the root keys of the Key Protect instance (not the
// deleted ones), with the byokflow instances created on each.
func runKeysList(ctx context.Context, a *app, args []string) error {
	fs := newFlags(a, "keys list")
	kpInstance := fs.String("kp-instance", "", "Key Protect instance (default BYOK_KP_INSTANCE_ID)")
	asJSON := fs.Bool("json", false, "print one JSON document")
	if err := parse(fs, args, nil); err != nil {
		return err
	}
	env := ibmenv.Read(nil).ForKPInstance(*kpInstance)
	keys, err := listRootKeys(ctx, env)
	if err != nil {
		return err
	}
	onKey, err := instancesByKey(ctx, env.KPInstanceID)
	if err != nil {
		return err
	}
	rows := make([]keyRow, 0, len(keys))
	for _, k := range keys {
		rows = append(rows, keyRow{ID: k.ID, Name: k.Name, State: keyStateName(k.State), Imported: k.Imported,
			KeyVersion: versionOf(&k), Instances: append([]string{}, onKey[k.ID]...)})
	}
	if *asJSON {
		return a.printJSON(rows)
	}
	tw := tabwriter.NewWriter(a.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ROOT KEY\tNAME\tSTATE\tIMPORTED\tKEY VERSION\tINSTANCES")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%t\t%s\t%s\n", r.ID, r.Name, r.State, r.Imported, r.KeyVersion, strings.Join(r.Instances, ","))
	}
	return tw.Flush()
}

// listRootKeys pages through the instance's root keys.
func listRootKeys(ctx context.Context, env ibmenv.Env) ([]kp.Key, error) {
	client, err := env.OperatorKP()
	if err != nil {
		return nil, err
	}
	root, limit := false, uint32(listPage)
	var all []kp.Key
	for offset := uint32(0); ; offset += limit {
		page, err := client.ListKeys(ctx, &kp.ListKeysOptions{Extractable: &root, Limit: &limit, Offset: &offset})
		if err != nil {
			return nil, fmt.Errorf("list root keys of Key Protect instance %s: %w: check BYOK_KP_URL and "+
				"that IBMCLOUD_API_KEY has a role on the instance", env.KPInstanceID, err)
		}
		all = append(all, page.Keys...)
		if len(page.Keys) < listPage {
			return all, nil
		}
	}
}

// instancesByKey maps root key ids of the Key Protect instance to the
// byokflow instances created on them, as "name (state)".
func instancesByKey(ctx context.Context, kpInstance string) (map[string][]string, error) {
	cat, err := openCatalog(ctx)
	if err != nil {
		return nil, err
	}
	defer cat.Close()
	all, err := cat.ListInstances(ctx)
	if err != nil {
		return nil, fmt.Errorf("list the instances on each root key: %w", err)
	}
	out := map[string][]string{}
	for _, in := range all {
		if in.KPInstanceID == kpInstance {
			out[in.RootKeyID] = append(out[in.RootKeyID], instanceLabel(in))
		}
	}
	return out, nil
}

func instanceLabel(in catalog.Instance) string { return fmt.Sprintf("%s (%s)", in.ID, in.State) }

package activities

import (
	"context"
	"fmt"
	"net/http"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/internal/ibmenv"
	"github.com/byokflow/byokflow/internal/kprecords"
)

// Dial builds the real clients from env, once, and returns the activities
// over them: the operator's Key Protect client (token from
// env.IAMURL+"/oidc/token"), the operator's IAM policy client and the
// service's registrar (both go-sdk-core IamAuthenticators on env.IAMURL,
// whose tokens also tell the identities' IAM ids for the audit),
// and the catalog on env.DatabaseURL (which holds the catalog alone: every
// instance runs its own servers on its nodes). The
// Key Protect clients of another instance an input names are built on
// first use and kept. Every client caches its IAM token: call Dial once
// per worker and Close on shutdown.
func Dial(ctx context.Context, env ibmenv.Env) (*Activities, error) {
	clients, err := dialIBM(env)
	if err != nil {
		return nil, err
	}
	cat, err := catalog.Open(ctx, env.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("dial catalog at %s: %w", ibmenv.RedactURL(env.DatabaseURL), err)
	}
	clients.Catalog = cat
	a := New(ConfigOf(env), clients)
	a.closers = []func(){cat.Close}
	return a, nil
}

// dialIBM builds the IBM clients of env: those of its Key Protect
// instance, and factories for the clients of any other instance (same
// endpoint and identities, another Bluemix-Instance).
func dialIBM(env ibmenv.Env) (Clients, error) {
	keys, err := env.OperatorKP()
	if err != nil {
		return Clients{}, err
	}
	operatorAuth, err := env.OperatorAuthenticator()
	if err != nil {
		return Clients{}, err
	}
	policies, err := env.Policies(operatorAuth)
	if err != nil {
		return Clients{}, err
	}
	serviceAuth, err := env.ServiceAuthenticator()
	if err != nil {
		return Clients{}, err
	}
	ids := ibmenv.NewIAMIDs()
	iamID := func(service bool) (string, error) {
		if service {
			return ids.Of(serviceAuth)
		}
		return ids.Of(operatorAuth)
	}
	registrarFor := func(id string) (Registrar, error) {
		return NewServiceRegistrar(env.KPURL, id, serviceAuth, &http.Client{Timeout: ibmenv.ClientTimeout}), nil
	}
	keysFor := func(id string) (KeyAdmin, error) { return env.ForKPInstance(id).OperatorKP() }
	registrar, _ := registrarFor(env.KPInstanceID)
	recordsFor := func(id string) (KeyRecords, error) {
		return kprecords.New(env.KPURL, id, operatorAuth, &http.Client{Timeout: ibmenv.ClientTimeout}), nil
	}
	records, _ := recordsFor(env.KPInstanceID)
	return Clients{Keys: keys, Registrar: registrar, KeysFor: keysFor, RegistrarFor: registrarFor,
		Records: records, RecordsFor: recordsFor, Policies: policies, IAMID: iamID}, nil
}

// ConfigOf is the activities' configuration from the environment.
func ConfigOf(e ibmenv.Env) Config {
	return Config{AccountID: e.AccountID, KPInstanceID: e.KPInstanceID,
		ServiceName: e.ServiceName, Region: e.Region}
}

package activities

import (
	"context"
	"fmt"
	"net/http"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/internal/ibmenv"
)

// Dial builds the real clients from env, once, and returns the activities
// over them: the operator's Key Protect client (token from
// env.IAMURL+"/oidc/token"), the operator's IAM policy client and the
// service's registrar (both go-sdk-core IamAuthenticators on env.IAMURL),
// the catalog and a pool for instance databases on env.DatabaseURL. Every
// client caches its IAM token: call Dial once per worker and Close on
// shutdown.
func Dial(ctx context.Context, env ibmenv.Env) (*Activities, error) {
	clients, err := dialIBM(env)
	if err != nil {
		return nil, err
	}
	cat, err := catalog.Open(ctx, env.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("dial catalog at %s: %w", ibmenv.RedactURL(env.DatabaseURL), err)
	}
	pool, err := pgxpool.New(ctx, env.DatabaseURL)
	if err != nil {
		cat.Close()
		return nil, fmt.Errorf("dial database server at %s: %w", ibmenv.RedactURL(env.DatabaseURL), err)
	}
	clients.Catalog, clients.Admin = cat, NewPGAdmin(pool)
	a := New(ConfigOf(env), clients)
	a.closers = []func(){cat.Close, pool.Close}
	return a, nil
}

// dialIBM builds the IBM clients of env.
func dialIBM(env ibmenv.Env) (Clients, error) {
	keys, err := env.OperatorKP()
	if err != nil {
		return Clients{}, err
	}
	policies, err := env.Policies()
	if err != nil {
		return Clients{}, err
	}
	serviceAuth, err := env.ServiceAuthenticator()
	if err != nil {
		return Clients{}, err
	}
	registrar := NewServiceRegistrar(env.KPURL, env.KPInstanceID, serviceAuth, &http.Client{Timeout: ibmenv.ClientTimeout})
	return Clients{Keys: keys, Registrar: registrar, Policies: policies}, nil
}

// ConfigOf is the activities' configuration from the environment.
func ConfigOf(e ibmenv.Env) Config {
	return Config{AccountID: e.AccountID, KPInstanceID: e.KPInstanceID,
		ServiceName: e.ServiceName, Region: e.Region}
}

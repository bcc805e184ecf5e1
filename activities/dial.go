package activities

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/IBM/go-sdk-core/v5/core"
	kp "github.com/IBM/keyprotect-go-client"
	"github.com/IBM/platform-services-go-sdk/iampolicymanagementv1"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/byokflow/byokflow/catalog"
)

// clientTimeout bounds one HTTP call to Key Protect or IAM; it stays below
// the workflows' 30 s start-to-close timeout of a control activity.
const clientTimeout = 20 * time.Second

// Dial builds the real clients from env, once, and returns the activities
// over them: the operator's Key Protect client (token from
// env.IAMURL+"/oidc/token"), the operator's IAM policy client and the
// service's registrar (both go-sdk-core IamAuthenticators on env.IAMURL),
// the catalog and a pool for instance databases on env.DatabaseURL. Every
// client caches its IAM token: call Dial once per worker and Close on
// shutdown.
func Dial(ctx context.Context, env Env) (*Activities, error) {
	env = env.withDefaults()
	clients, err := dialIBM(env)
	if err != nil {
		return nil, err
	}
	cat, err := catalog.Open(ctx, env.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("dial catalog at %s: %w", redactURL(env.DatabaseURL), err)
	}
	pool, err := pgxpool.New(ctx, env.DatabaseURL)
	if err != nil {
		cat.Close()
		return nil, fmt.Errorf("dial database server at %s: %w", redactURL(env.DatabaseURL), err)
	}
	clients.Catalog, clients.Admin = cat, NewPGAdmin(pool)
	a := New(env.Config(), clients)
	a.closers = []func(){cat.Close, pool.Close}
	return a, nil
}

// dialIBM builds the IBM clients of env (after withDefaults).
func dialIBM(env Env) (Clients, error) {
	keys, err := kp.New(kp.ClientConfig{BaseURL: env.KPURL, APIKey: env.OperatorAPIKey,
		TokenURL: env.IAMURL + "/oidc/token", InstanceID: env.KPInstanceID,
		Verbose: kp.VerboseNone, Timeout: clientTimeout.Seconds()}, kp.DefaultTransport())
	if err != nil {
		return Clients{}, fmt.Errorf("dial Key Protect at %s: %w", env.KPURL, err)
	}
	policies, err := iampolicymanagementv1.NewIamPolicyManagementV1(&iampolicymanagementv1.IamPolicyManagementV1Options{
		URL: env.IAMURL, Authenticator: &core.IamAuthenticator{ApiKey: env.OperatorAPIKey, URL: env.IAMURL}})
	if err != nil {
		return Clients{}, fmt.Errorf("dial IAM policy management at %s: %w", env.IAMURL, err)
	}
	policies.Service.SetHTTPClient(&http.Client{Timeout: clientTimeout})
	serviceAuth := &core.IamAuthenticator{ApiKey: env.ServiceAPIKey, URL: env.IAMURL}
	if err := serviceAuth.Validate(); err != nil {
		return Clients{}, fmt.Errorf("dial IAM for the service identity at %s: %w", env.IAMURL, err)
	}
	registrar := NewServiceRegistrar(env.KPURL, env.KPInstanceID, serviceAuth, &http.Client{Timeout: clientTimeout})
	return Clients{Keys: keys, Registrar: registrar, Policies: policies}, nil
}

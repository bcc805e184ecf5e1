// Package ibmenv reads the IBM Cloud settings of design.md section 7 from the
// environment and builds the real SDK clients from them, once per process so
// their IAM tokens are cached. Pointing the variables at real IBM Cloud
// endpoints needs no code change; the emulator is only a default.
//
// It imports the IBM SDKs and nothing of ours.
package ibmenv

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/IBM/go-sdk-core/v5/core"
	kp "github.com/IBM/keyprotect-go-client"
	"github.com/IBM/platform-services-go-sdk/iampolicymanagementv1"
)

// DefaultServiceName is the IAM service name of Hyper Protect DBaaS for
// PostgreSQL, the source service of the step-2 authorization policy.
const DefaultServiceName = "hyperp-dbaas-postgresql"

// Env holds the settings. The API keys are secrets: Env has no String method
// that prints them, and callers must never log it.
type Env struct {
	OperatorAPIKey string // IBMCLOUD_API_KEY
	ServiceAPIKey  string // BYOK_SERVICE_API_KEY
	ServiceName    string // BYOK_SERVICE_NAME, default DefaultServiceName
	KPURL          string // BYOK_KP_URL
	KPInstanceID   string // BYOK_KP_INSTANCE_ID
	IAMURL         string // BYOK_IAM_URL
	AccountID      string // BYOK_ACCOUNT_ID
	Region         string // BYOK_REGION, default us-south
}

// FromEnv reads Env from the process environment.
func FromEnv() Env {
	e := Env{
		OperatorAPIKey: os.Getenv("IBMCLOUD_API_KEY"),
		ServiceAPIKey:  os.Getenv("BYOK_SERVICE_API_KEY"),
		ServiceName:    os.Getenv("BYOK_SERVICE_NAME"),
		KPURL:          strings.TrimSuffix(os.Getenv("BYOK_KP_URL"), "/"),
		KPInstanceID:   os.Getenv("BYOK_KP_INSTANCE_ID"),
		IAMURL:         strings.TrimSuffix(os.Getenv("BYOK_IAM_URL"), "/"),
		AccountID:      os.Getenv("BYOK_ACCOUNT_ID"),
		Region:         os.Getenv("BYOK_REGION"),
	}
	if e.ServiceName == "" {
		e.ServiceName = DefaultServiceName
	}
	if e.Region == "" {
		e.Region = "us-south"
	}
	if e.IAMURL == "" {
		e.IAMURL = "https://iam.cloud.ibm.com"
	}
	return e
}

// Require returns an error naming every listed variable that is unset, with
// the hint to source .run/env.
func (e Env) Require(names ...string) error {
	values := map[string]string{
		"IBMCLOUD_API_KEY": e.OperatorAPIKey, "BYOK_SERVICE_API_KEY": e.ServiceAPIKey,
		"BYOK_KP_URL": e.KPURL, "BYOK_KP_INSTANCE_ID": e.KPInstanceID,
		"BYOK_ACCOUNT_ID": e.AccountID,
	}
	var missing []string
	for _, n := range names {
		if values[n] == "" {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing settings %s: set them, or run 'make stack' and '. .run/env' for the local stack", strings.Join(missing, ", "))
	}
	return nil
}

// keepAlive is shared by every Key Protect client of the process: unlike
// kp.DefaultTransport it keeps connections open, which more than doubles the
// wrap and unwrap rate a node agent gets (emulator BenchmarkWrapUnwrap).
var keepAlive = http.DefaultTransport.(*http.Transport).Clone()

// TokenURL is the IAM token endpoint keyprotect-go-client uses.
func (e Env) TokenURL() string { return e.IAMURL + "/oidc/token" }

// OperatorKP returns a Key Protect client acting as the operator (customer)
// on KPInstanceID.
func (e Env) OperatorKP() (*kp.Client, error) {
	if err := e.Require("IBMCLOUD_API_KEY", "BYOK_KP_URL", "BYOK_KP_INSTANCE_ID"); err != nil {
		return nil, err
	}
	return e.kpClient(e.OperatorAPIKey, e.KPInstanceID)
}

// ServiceKP returns a Key Protect client acting as the DBaaS service identity
// on KPInstanceID; Key Protect lets it wrap and unwrap only while the step-2
// authorization policy exists.
func (e Env) ServiceKP() (*kp.Client, error) {
	if err := e.Require("BYOK_SERVICE_API_KEY", "BYOK_KP_URL", "BYOK_KP_INSTANCE_ID"); err != nil {
		return nil, err
	}
	return e.kpClient(e.ServiceAPIKey, e.KPInstanceID)
}

func (e Env) kpClient(apiKey, instanceID string) (*kp.Client, error) {
	c, err := kp.New(kp.ClientConfig{
		BaseURL:    e.KPURL,
		APIKey:     apiKey,
		TokenURL:   e.TokenURL(),
		InstanceID: instanceID,
		Verbose:    kp.VerboseNone,
	}, keepAlive)
	if err != nil {
		return nil, fmt.Errorf("configure Key Protect client for %s: %w", e.KPURL, err)
	}
	return c, nil
}

// ServiceAuthenticator returns a caching IAM authenticator for the service
// identity, for Key Protect calls the kp client lacks (registrations).
func (e Env) ServiceAuthenticator() (*core.IamAuthenticator, error) {
	if e.ServiceAPIKey == "" {
		return nil, errors.New("missing setting BYOK_SERVICE_API_KEY: set it, or '. .run/env' for the local stack")
	}
	return core.NewIamAuthenticatorBuilder().SetApiKey(e.ServiceAPIKey).SetURL(e.IAMURL).Build()
}

// Policies returns an IAM policy management client acting as the operator.
func (e Env) Policies() (*iampolicymanagementv1.IamPolicyManagementV1, error) {
	if err := e.Require("IBMCLOUD_API_KEY", "BYOK_ACCOUNT_ID"); err != nil {
		return nil, err
	}
	auth, err := core.NewIamAuthenticatorBuilder().SetApiKey(e.OperatorAPIKey).SetURL(e.IAMURL).Build()
	if err != nil {
		return nil, fmt.Errorf("configure IAM authenticator for %s: %w", e.IAMURL, err)
	}
	return iampolicymanagementv1.NewIamPolicyManagementV1(&iampolicymanagementv1.IamPolicyManagementV1Options{
		URL: e.IAMURL, Authenticator: auth,
	})
}

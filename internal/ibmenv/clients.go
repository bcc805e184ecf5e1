package ibmenv

import (
	"fmt"
	"net/http"
	"time"

	"github.com/IBM/go-sdk-core/v5/core"
	kp "github.com/IBM/keyprotect-go-client"
	"github.com/IBM/platform-services-go-sdk/iampolicymanagementv1"
)

// ClientTimeout bounds one HTTP call to Key Protect or IAM; it stays below
// the workflows' 30 s start-to-close timeout of a control activity.
const ClientTimeout = 20 * time.Second

// keepAlive is shared by every Key Protect client of the process: unlike
// kp.DefaultTransport it keeps connections open, which more than doubles the
// wrap and unwrap rate a node agent gets (emulator BenchmarkWrapUnwrap).
var keepAlive = http.DefaultTransport.(*http.Transport).Clone()

// OperatorKP returns a Key Protect client acting as the operator (the
// customer) on KPInstanceID; it fetches its IAM token from IAMURL/oidc/token
// and caches it.
func (e Env) OperatorKP() (*kp.Client, error) {
	if err := e.Require("IBMCLOUD_API_KEY", "BYOK_KP_INSTANCE_ID"); err != nil {
		return nil, err
	}
	return e.kpClient(e.OperatorAPIKey)
}

// ServiceKP returns a Key Protect client acting as the DBaaS service
// identity on KPInstanceID; Key Protect lets it wrap and unwrap only while
// the step-2 authorization policy exists.
func (e Env) ServiceKP() (*kp.Client, error) {
	if err := e.Require("BYOK_SERVICE_API_KEY", "BYOK_KP_INSTANCE_ID"); err != nil {
		return nil, err
	}
	return e.kpClient(e.ServiceAPIKey)
}

// CodecKP returns a Key Protect client acting as the platform identity on
// the Key Protect instance of the payload codec's root key.
func (e Env) CodecKP() (*kp.Client, error) {
	if err := e.Require("BYOK_CODEC_API_KEY", "BYOK_CODEC_KP_INSTANCE_ID"); err != nil {
		return nil, err
	}
	return e.ForKPInstance(e.CodecKPInstanceID).kpClient(e.CodecAPIKey)
}

func (e Env) kpClient(apiKey string) (*kp.Client, error) {
	c, err := kp.New(kp.ClientConfig{BaseURL: e.KPURL, APIKey: apiKey, TokenURL: e.IAMURL + "/oidc/token",
		InstanceID: e.KPInstanceID, Verbose: kp.VerboseNone, Timeout: ClientTimeout.Seconds()}, keepAlive)
	if err != nil {
		return nil, fmt.Errorf("dial Key Protect at %s: %w", e.KPURL, err)
	}
	return c, nil
}

// Policies returns an IAM policy management client acting as the operator
// with auth (an OperatorAuthenticator).
func (e Env) Policies(auth *core.IamAuthenticator) (*iampolicymanagementv1.IamPolicyManagementV1, error) {
	policies, err := iampolicymanagementv1.NewIamPolicyManagementV1(&iampolicymanagementv1.IamPolicyManagementV1Options{
		URL: e.IAMURL, Authenticator: auth})
	if err != nil {
		return nil, fmt.Errorf("dial IAM policy management at %s: %w", e.IAMURL, err)
	}
	policies.Service.SetHTTPClient(&http.Client{Timeout: ClientTimeout})
	return policies, nil
}

// ServiceAuthenticator returns a caching IAM authenticator for the service
// identity, for the Key Protect calls keyprotect-go-client lacks
// (registrations).
func (e Env) ServiceAuthenticator() (*core.IamAuthenticator, error) {
	return e.authenticator(e.ServiceAPIKey, "service")
}

// OperatorAuthenticator returns a caching IAM authenticator for the
// operator identity, for IAM policy management and the Key Protect records
// keyprotect-go-client does not read (internal/kprecords).
func (e Env) OperatorAuthenticator() (*core.IamAuthenticator, error) {
	if err := e.Require("IBMCLOUD_API_KEY"); err != nil {
		return nil, err
	}
	return e.authenticator(e.OperatorAPIKey, "operator")
}

func (e Env) authenticator(apiKey, who string) (*core.IamAuthenticator, error) {
	auth := &core.IamAuthenticator{ApiKey: apiKey, URL: e.IAMURL, Client: &http.Client{Timeout: ClientTimeout}}
	if err := auth.Validate(); err != nil {
		return nil, fmt.Errorf("dial IAM for the %s identity at %s: %w", who, e.IAMURL, err)
	}
	return auth, nil
}

// ForKPInstance returns e bound to Key Protect instance id: same endpoint
// and API keys, another Bluemix-Instance. An empty id returns e unchanged.
// Clients built from it cache their own tokens: build one per identity and
// instance, once.
func (e Env) ForKPInstance(id string) Env {
	if id != "" {
		e.KPInstanceID = id
	}
	return e
}

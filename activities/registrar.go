package activities

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/IBM/go-sdk-core/v5/core"

	"github.com/byokflow/byokflow/internal/kprecords"
)

// ServiceRegistrar makes Key Protect registrations (key <-> cloud resource
// CRN) with the service identity. keyprotect-go-client v0.17.3 can only
// list registrations, so it calls the API directly:
//
//	POST   {KP URL}/api/v2/keys/{key id}/registrations/{url-encoded CRN}
//	DELETE {KP URL}/api/v2/keys/{key id}/registrations/{url-encoded CRN}
//
// Its authenticator caches the service's IAM token and refreshes it before
// it expires; build one ServiceRegistrar per worker.
type ServiceRegistrar struct {
	kp *kprecords.Client
}

// NewServiceRegistrar returns a registrar for Key Protect at kpURL (no
// trailing slash) and instance kpInstanceID, authenticating with auth (for
// example a core.IamAuthenticator for the service's API key). A nil client
// means a client with a 20 s timeout.
func NewServiceRegistrar(kpURL, kpInstanceID string, auth core.Authenticator, client *http.Client) *ServiceRegistrar {
	return &ServiceRegistrar{kp: kprecords.New(kpURL, kpInstanceID, auth, client)}
}

// registrationBody is the create body; preventKeyDeletion is required.
type registrationBody struct {
	PreventKeyDeletion bool   `json:"preventKeyDeletion"`
	Description        string `json:"description,omitempty"`
}

// CreateRegistration registers resourceCRN with the key. Any answer but
// 200/201/204 is returned as a *KPError.
func (r *ServiceRegistrar) CreateRegistration(ctx context.Context, keyID, resourceCRN, description string) error {
	body, err := json.Marshal(registrationBody{PreventKeyDeletion: false, Description: description})
	if err != nil {
		return err
	}
	return r.do(ctx, http.MethodPost, keyID, resourceCRN, body)
}

// DeleteRegistration removes the registration of resourceCRN from the key.
// Any answer but 200/204 is returned as a *KPError.
func (r *ServiceRegistrar) DeleteRegistration(ctx context.Context, keyID, resourceCRN string) error {
	return r.do(ctx, http.MethodDelete, keyID, resourceCRN, nil)
}

func (r *ServiceRegistrar) do(ctx context.Context, method, keyID, crn string, body []byte) error {
	path := "/api/v2/keys/" + url.PathEscape(keyID) + "/registrations/" + url.QueryEscape(crn)
	return r.kp.Do(ctx, method, path, nil, body, nil)
}

// KPError is a Key Protect error answer received outside
// keyprotect-go-client: the HTTP status, the reason codes and a message.
type KPError = kprecords.Error

// parseKPError reads the error envelope of spec section 4.1.
func parseKPError(status int, body []byte) *KPError { return kprecords.ParseError(status, body) }

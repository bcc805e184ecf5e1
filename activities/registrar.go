package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/IBM/go-sdk-core/v5/core"
	kp "github.com/IBM/keyprotect-go-client"

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
	baseURL    string
	instanceID string
	auth       core.Authenticator
	client     *http.Client
}

// NewServiceRegistrar returns a registrar for Key Protect at kpURL (no
// trailing slash) and instance kpInstanceID, authenticating with auth (for
// example a core.IamAuthenticator for the service's API key). A nil client
// means a client with a 30 s timeout.
func NewServiceRegistrar(kpURL, kpInstanceID string, auth core.Authenticator, client *http.Client) *ServiceRegistrar {
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	return &ServiceRegistrar{baseURL: kpURL, instanceID: kpInstanceID, auth: auth, client: client}
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
	u := r.baseURL + "/api/v2/keys/" + url.PathEscape(keyID) + "/registrations/" + url.QueryEscape(crn)
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build registration request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Bluemix-Instance", r.instanceID)
	if id := kp.GetCorrelationID(ctx); id != nil {
		req.Header.Set("correlation-id", id.String()) // the header keyprotect-go-client sends
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if err := r.auth.Authenticate(req); err != nil {
		return err
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	switch resp.StatusCode {
	case http.StatusOK, http.StatusCreated, http.StatusNoContent:
		return nil
	}
	return parseKPError(resp.StatusCode, data)
}

// KPError is a Key Protect error answer received outside
// keyprotect-go-client: the HTTP status, the reason codes and a message.
type KPError = kprecords.Error

// parseKPError reads the error envelope of spec section 4.1.
func parseKPError(status int, body []byte) *KPError { return kprecords.ParseError(status, body) }

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/IBM/go-sdk-core/v5/core"

	"github.com/byokflow/byokflow/internal/ibmenv"
)

// kpRecord is one call in Key Protect's activity record (what IBM Cloud
// Activity Tracker shows of Key Protect; the local emulator serves it at
// /admin/v1/activity): who called (IAM id), what (action, key), with
// which correlation id, and how it ended. It holds no secret.
type kpRecord struct {
	Time          string `json:"time"`
	InstanceID    string `json:"instanceId"`
	IAMID         string `json:"iamId"`
	Action        string `json:"action"`
	KeyID         string `json:"keyId"`
	CorrelationID string `json:"correlationId"`
	Status        int    `json:"status"`
	Reason        string `json:"reason,omitempty"`
	Outcome       string `json:"outcome"`
}

// kpActivity reads Key Protect's activity record of one Key Protect
// instance with the operator's IAM token (a role on the instance is
// enough). It is plain net/http: keyprotect-go-client has no such call.
type kpActivity struct {
	baseURL, instanceID string
	auth                core.Authenticator
	client              *http.Client
}

// maxActivityBody bounds one answer of the activity record.
const maxActivityBody = 64 << 20

func newKPActivity(env ibmenv.Env) (*kpActivity, error) {
	auth, err := env.OperatorAuthenticator()
	if err != nil {
		return nil, err
	}
	if err := env.Require("BYOK_KP_INSTANCE_ID"); err != nil {
		return nil, err
	}
	return &kpActivity{baseURL: env.KPURL, instanceID: env.KPInstanceID, auth: auth,
		client: &http.Client{Timeout: ibmenv.ClientTimeout}}, nil
}

// records returns the calls that carried correlationID, oldest first.
func (k *kpActivity) records(ctx context.Context, correlationID string) ([]kpRecord, error) {
	what := fmt.Sprintf("read Key Protect's activity record of instance %s", k.instanceID)
	u := k.baseURL + "/admin/v1/activity?" + url.Values{"correlationId": {correlationID}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: check BYOK_KP_URL", what, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Bluemix-Instance", k.instanceID)
	if err := k.auth.Authenticate(req); err != nil {
		return nil, fmt.Errorf("%s: get an IAM token: %w: check IBMCLOUD_API_KEY and BYOK_IAM_URL", what, err)
	}
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: check BYOK_KP_URL and that Key Protect is reachable", what, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxActivityBody))
	if err != nil {
		return nil, fmt.Errorf("%s: %w: run the command again", what, err)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("%s: HTTP 404: this Key Protect serves no activity record at %s: on IBM Cloud, "+
			"read Key Protect's events in Activity Tracker (filter by correlation id %s)", what, k.baseURL, correlationID)
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, fmt.Errorf("%s: HTTP %d: give IBMCLOUD_API_KEY a role (Reader or more) on the instance", what, resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%s: HTTP %d: run the command again later", what, resp.StatusCode)
	}
	var page struct {
		Records []kpRecord `json:"records"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return nil, fmt.Errorf("%s: the answer is not an activity record (%v): check BYOK_KP_URL", what, err)
	}
	return page.Records, nil
}

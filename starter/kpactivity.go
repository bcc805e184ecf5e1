package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/byokflow/byokflow/internal/ibmenv"
	"github.com/byokflow/byokflow/internal/kprecords"
)

// kpRecord is one call in Key Protect's activity record (what IBM Cloud
// Activity Tracker shows of Key Protect; the local emulator serves it at
// /admin/v1/activity): who called (IAM id), what (action, key), with
// which correlation id, and how it ended. It holds no secret.
type kpRecord = kprecords.Activity

// kpActivity reads Key Protect's activity record of one Key Protect
// instance with the operator's IAM token (a role on the instance is
// enough).
type kpActivity struct {
	baseURL, instanceID string
	list                *kprecords.Client
}

func newKPActivity(env ibmenv.Env) (*kpActivity, error) {
	auth, err := env.OperatorAuthenticator()
	if err != nil {
		return nil, err
	}
	if err := env.Require("BYOK_KP_INSTANCE_ID"); err != nil {
		return nil, err
	}
	return &kpActivity{baseURL: env.KPURL, instanceID: env.KPInstanceID,
		list: kprecords.New(env.KPURL, env.KPInstanceID, auth, &http.Client{Timeout: ibmenv.ClientTimeout})}, nil
}

// records returns the calls that carried correlationID, oldest first.
func (k *kpActivity) records(ctx context.Context, correlationID string) ([]kpRecord, error) {
	records, err := k.list.Activity(ctx, kprecords.ActivityFilter{CorrelationID: correlationID})
	if err == nil {
		return records, nil
	}
	what := fmt.Sprintf("read Key Protect's activity record of instance %s", k.instanceID)
	var kpErr *kprecords.Error
	switch {
	case !errors.As(err, &kpErr):
		return nil, fmt.Errorf("%s: %w: check BYOK_KP_URL, BYOK_IAM_URL and IBMCLOUD_API_KEY, and that Key Protect "+
			"is reachable", what, err)
	case kpErr.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("%s: HTTP 404: this Key Protect serves no activity record at %s: on IBM Cloud, "+
			"read Key Protect's events in Activity Tracker (filter by correlation id %s)", what, k.baseURL, correlationID)
	case kpErr.StatusCode == http.StatusUnauthorized || kpErr.StatusCode == http.StatusForbidden:
		return nil, fmt.Errorf("%s: HTTP %d: give IBMCLOUD_API_KEY a role (Reader or more) on the instance", what, kpErr.StatusCode)
	}
	return nil, fmt.Errorf("%s: HTTP %d: run the command again later", what, kpErr.StatusCode)
}

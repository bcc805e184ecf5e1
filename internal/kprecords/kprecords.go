// Package kprecords reads what Key Protect and IAM record about a key and
// an identity beyond what keyprotect-go-client v0.17.3 parses: a key's
// dual-authorization deletion state (keySetForDeletion, authExpiration),
// its registrations, and the activity record of the calls made on it (IBM
// Cloud Activity Tracker's events for Key Protect; the local emulator
// serves them at /admin/v1/activity).
//
// Guards and approvals are decided from these records, never from what a
// caller says. Client.Do also serves the calls the kp client lacks that
// change something (registrations). It imports the IBM SDKs and nothing
// of ours.
package kprecords

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/IBM/go-sdk-core/v5/core"
	kp "github.com/IBM/keyprotect-go-client"
)

// Client reads one Key Protect instance's records with one identity. Its
// authenticator caches the IAM token; build one per identity and instance.
type Client struct {
	baseURL    string
	instanceID string
	auth       core.Authenticator
	http       *http.Client
}

// New returns a client of Key Protect at kpURL (no trailing slash),
// instance kpInstanceID, authenticating with auth (a caching
// core.IamAuthenticator). A nil client means one with a 20 s timeout.
func New(kpURL, kpInstanceID string, auth core.Authenticator, client *http.Client) *Client {
	if client == nil {
		client = &http.Client{Timeout: 20 * time.Second}
	}
	return &Client{baseURL: strings.TrimRight(kpURL, "/"), instanceID: kpInstanceID, auth: auth, http: client}
}

// DeletionAuthorization is a key's dual-authorization deletion state as
// Key Protect reports it in the key's metadata.
type DeletionAuthorization struct {
	// PolicyEnabled: the key's deletion needs a second user's authorization.
	PolicyEnabled bool `json:"enabled"`
	// SetForDeletion: a user set the key for deletion and the
	// authorization has not expired; AuthExpiration is when it does.
	SetForDeletion bool      `json:"keySetForDeletion"`
	AuthExpiration time.Time `json:"authExpiration,omitzero"`
}

// DeletionAuthorization reads keyID's dualAuthDelete metadata.
func (c *Client) DeletionAuthorization(ctx context.Context, keyID string) (DeletionAuthorization, error) {
	var env struct {
		Resources []struct {
			DualAuthDelete *DeletionAuthorization `json:"dualAuthDelete"`
		} `json:"resources"`
	}
	if err := c.get(ctx, "/api/v2/keys/"+url.PathEscape(keyID)+"/metadata", nil, &env); err != nil {
		return DeletionAuthorization{}, err
	}
	if len(env.Resources) == 0 || env.Resources[0].DualAuthDelete == nil {
		return DeletionAuthorization{}, nil
	}
	return *env.Resources[0].DualAuthDelete, nil
}

// Registration is a resource registered with a key.
type Registration struct {
	ResourceCRN        string `json:"resourceCrn"`
	PreventKeyDeletion bool   `json:"preventKeyDeletion"`
	CreatedBy          string `json:"createdBy,omitempty"`
}

// Registrations lists every resource registered with keyID.
func (c *Client) Registrations(ctx context.Context, keyID string) ([]Registration, error) {
	var all []Registration
	for offset := 0; ; {
		var page struct {
			Metadata struct {
				Total int `json:"collectionTotal"`
			} `json:"metadata"`
			Resources []Registration `json:"resources"`
		}
		q := url.Values{"limit": {"200"}, "offset": {fmt.Sprint(offset)}}
		if err := c.get(ctx, "/api/v2/keys/"+url.PathEscape(keyID)+"/registrations", q, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Resources...)
		offset += len(page.Resources)
		if len(page.Resources) == 0 || offset >= page.Metadata.Total {
			return all, nil
		}
	}
}

// Activity is one call Key Protect recorded: who made it (the IAM id of
// its token), what it did to which key, with which correlation id, and
// how it ended. It holds no secret.
type Activity struct {
	Time          time.Time `json:"time"`
	InstanceID    string    `json:"instanceId"`
	IAMID         string    `json:"iamId"`
	Action        string    `json:"action"`
	KeyID         string    `json:"keyId"`
	CorrelationID string    `json:"correlationId"`
	Status        int       `json:"status"`
	Reason        string    `json:"reason,omitempty"`
	Outcome       string    `json:"outcome"`
}

// Actions of the activity record, as Key Protect names them.
const (
	ActionSetKeyForDeletion = "set_key_for_deletion"
	OutcomeSuccess          = "success"
)

// ActivityFilter narrows the activity record; empty fields match all.
type ActivityFilter struct {
	KeyID         string
	CorrelationID string
	Action        string
}

// Activity returns the recorded calls that match f, oldest first.
func (c *Client) Activity(ctx context.Context, f ActivityFilter) ([]Activity, error) {
	q := url.Values{}
	for k, v := range map[string]string{"keyId": f.KeyID, "correlationId": f.CorrelationID, "action": f.Action} {
		if v != "" {
			q.Set(k, v)
		}
	}
	var out struct {
		Records []Activity `json:"records"`
	}
	err := c.get(ctx, "/admin/v1/activity", q, &out)
	return out.Records, err
}

// Error is a Key Protect error answer: the HTTP status, the reason codes
// and a message.
type Error struct {
	StatusCode int
	Codes      []string
	Message    string
}

// Error renders the status, the reason codes and the message.
func (e *Error) Error() string {
	return fmt.Sprintf("key protect answered HTTP %d %v: %s", e.StatusCode, e.Codes, e.Message)
}

func (c *Client) get(ctx context.Context, path string, q url.Values, into any) error {
	return c.Do(ctx, http.MethodGet, path, q, nil, into)
}

// Do sends one Key Protect request that keyprotect-go-client cannot make
// (with the headers it would send, the context's correlation id included)
// and decodes a 200 answer into into (when not nil). Any answer but 200,
// 201 or 204 is returned as an *Error.
func (c *Client) Do(ctx context.Context, method, path string, q url.Values, body []byte, into any) error {
	u := c.baseURL + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build request %s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Bluemix-Instance", c.instanceID)
	if id := kp.GetCorrelationID(ctx); id != nil {
		req.Header.Set("correlation-id", id.String()) // the header keyprotect-go-client sends
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if err := c.auth.Authenticate(req); err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	switch resp.StatusCode {
	case http.StatusOK:
		if into == nil {
			return nil
		}
		if err := json.Unmarshal(data, into); err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
		return nil
	case http.StatusCreated, http.StatusNoContent:
		return nil
	}
	return ParseError(resp.StatusCode, data)
}

// ParseError reads Key Protect's error envelope (resources[0].errorMsg and
// reasons). A body that is not one keeps only the status.
func ParseError(status int, body []byte) *Error {
	var env struct {
		Resources []struct {
			ErrorMsg string `json:"errorMsg"`
			Reasons  []struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"reasons"`
		} `json:"resources"`
	}
	e := &Error{StatusCode: status, Message: http.StatusText(status)}
	if json.Unmarshal(body, &env) != nil || len(env.Resources) == 0 {
		return e
	}
	res := env.Resources[0]
	if res.ErrorMsg != "" {
		e.Message = res.ErrorMsg
	}
	for _, r := range res.Reasons {
		e.Codes = append(e.Codes, r.Code)
		if r.Message != "" {
			e.Message = r.Message
		}
	}
	return e
}

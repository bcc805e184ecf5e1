package emulator

import (
	"encoding/json"
	"net/http"
	"time"
)

// IAM wire shapes (spec §5.3, §6).

type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	Expiration   int64  `json:"expiration"`
	Scope        string `json:"scope"`
}

// tokenError is IAM's token endpoint error (BXNIM codes).
type tokenError struct {
	ErrorCode    string            `json:"errorCode"`
	ErrorMessage string            `json:"errorMessage"`
	Context      map[string]string `json:"context"`
}

// iamError is the IBM platform error model used by /v1.
type iamError struct {
	Trace      string         `json:"trace"`
	Errors     []iamErrorItem `json:"errors"`
	StatusCode int            `json:"status_code"`
}

type iamErrorItem struct {
	Code     string `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info,omitempty"`
	Details  any    `json:"details,omitempty"`
}

func writeIAMError(w http.ResponseWriter, status int, code, message string) {
	writeIAMErrorDetails(w, status, code, message, nil)
}

func writeIAMErrorDetails(w http.ResponseWriter, status int, code, message string, details any) {
	writeJSON(w, status, iamError{
		Trace:      newUUID(),
		Errors:     []iamErrorItem{{Code: code, Message: message, MoreInfo: "https://cloud.ibm.com/apidocs/iam-policy-management", Details: details}},
		StatusCode: status,
	})
}

// policyReq is a create body; subjects and resources stay raw so they
// echo back exactly.
type policyReq struct {
	Type        string          `json:"type"`
	Description *string         `json:"description"`
	Subjects    json.RawMessage `json:"subjects"`
	Roles       []struct {
		RoleID string `json:"role_id"`
	} `json:"roles"`
	Resources json.RawMessage `json:"resources"`
}

type policyJSON struct {
	ID               string          `json:"id"`
	Type             string          `json:"type"`
	Description      *string         `json:"description,omitempty"`
	Subjects         json.RawMessage `json:"subjects"`
	Roles            []roleJSON      `json:"roles"`
	Resources        json.RawMessage `json:"resources"`
	Href             string          `json:"href"`
	CreatedAt        iamTime         `json:"created_at"`
	CreatedByID      string          `json:"created_by_id"`
	LastModifiedAt   iamTime         `json:"last_modified_at"`
	LastModifiedByID string          `json:"last_modified_by_id"`
	State            string          `json:"state"`
}

type roleJSON struct {
	RoleID      string `json:"role_id"`
	DisplayName string `json:"display_name"`
	Description string `json:"description"`
}

type policyList struct {
	Limit    int          `json:"limit"`
	First    *pageLink    `json:"first,omitempty"`
	Next     *pageLink    `json:"next,omitempty"`
	Previous *pageLink    `json:"previous,omitempty"`
	Policies []policyJSON `json:"policies"`
}

type pageLink struct {
	Href  string `json:"href"`
	Start string `json:"start,omitempty"`
}

type apiKeyDetails struct {
	ID        string  `json:"id"`
	EntityTag string  `json:"entity_tag"`
	CRN       string  `json:"crn"`
	Locked    bool    `json:"locked"`
	CreatedAt iamTime `json:"created_at"`
	CreatedBy string  `json:"created_by"`
	Name      string  `json:"name"`
	IAMID     string  `json:"iam_id"`
	AccountID string  `json:"account_id"`
}

// iamTime renders RFC 3339 with milliseconds, as IAM does.
type iamTime time.Time

func (t iamTime) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Time(t).UTC().Format("2006-01-02T15:04:05.000Z") + `"`), nil
}

var roleDescriptions = map[string]string{
	"Reader":     "As a reader, you can perform read-only actions within a service such as viewing service-specific resources.",
	"ReaderPlus": "As a reader plus, you can also retrieve the key material of standard keys.",
	"Writer":     "As a writer, you have permissions beyond the reader role, including creating and editing service-specific resources.",
	"Manager":    "As a manager, you have permissions beyond the writer role to complete privileged actions as defined by the service.",
}

func renderRole(id string) roleJSON {
	name, _ := roleName(id)
	desc := roleDescriptions[name]
	if desc == "" {
		desc = "The " + name + " role."
	}
	return roleJSON{RoleID: id, DisplayName: name, Description: desc}
}

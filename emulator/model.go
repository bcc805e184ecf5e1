package emulator

import (
	"crypto/cipher"
	"encoding/json"
	"time"
)

// The persisted model. Everything here is written to state.json; fields
// tagged "-" are rebuilt in memory at load time.

type account struct {
	ID      string    `json:"id"`
	Created time.Time `json:"created"`
}

type instance struct {
	ID        string                     `json:"id"`
	AccountID string                     `json:"accountId"`
	Created   time.Time                  `json:"created"`
	Policies  map[string]*instancePolicy `json:"policies,omitempty"`
	KeyRings  map[string]*keyRing        `json:"keyRings,omitempty"`
	// ImportToken is the instance's one import token (secure import).
	ImportToken *importToken `json:"importToken,omitempty"`
}

type instancePolicy struct {
	Type       string          `json:"type"`
	Enabled    bool            `json:"enabled"`
	Attributes json.RawMessage `json:"attributes,omitempty"`
	CreatedBy  string          `json:"createdBy"`
	Created    time.Time       `json:"created"`
	UpdatedBy  string          `json:"updatedBy"`
	Updated    time.Time       `json:"updated"`
}

type keyRing struct {
	ID        string    `json:"id"`
	CreatedBy string    `json:"createdBy"`
	Created   time.Time `json:"created"`
}

const (
	kindUser    = "user"
	kindService = "service"
)

type identity struct {
	IAMID       string            `json:"iamId"`
	AccountID   string            `json:"accountId"`
	Kind        string            `json:"kind"`
	ServiceName string            `json:"serviceName,omitempty"`
	APIKeyHash  string            `json:"apiKeyHash"`
	Roles       map[string]string `json:"roles,omitempty"` // KP instance id -> role
	Created     time.Time         `json:"created"`
}

type key struct {
	ID            string          `json:"id"`
	InstanceID    string          `json:"instanceId"`
	Name          string          `json:"name"`
	Description   string          `json:"description,omitempty"`
	Aliases       []*alias        `json:"aliases,omitempty"`
	Tags          []string        `json:"tags,omitempty"`
	Extractable   bool            `json:"extractable"`
	Imported      bool            `json:"imported"`
	State         int             `json:"state"`
	KeyRingID     string          `json:"keyRingId"`
	CreatedBy     string          `json:"createdBy"`
	Created       time.Time       `json:"created"`
	Updated       time.Time       `json:"updated"`
	StateChanged  time.Time       `json:"stateChanged"`
	LastRotate    *time.Time      `json:"lastRotate,omitempty"`
	LastSync      *time.Time      `json:"lastSync,omitempty"` // the last actions/sync
	Expiration    *time.Time      `json:"expiration,omitempty"`
	Versions      []*keyVersion   `json:"versions"` // oldest first
	Rotation      *keyPolicy      `json:"rotation,omitempty"`
	DualAuth      *keyPolicy      `json:"dualAuth,omitempty"`
	DualAuthSet   *dualAuthMark   `json:"dualAuthSet,omitempty"`
	Deleted       *deletion       `json:"deleted,omitempty"`
	Registrations []*registration `json:"registrations,omitempty"`
}

type alias struct {
	Name      string    `json:"name"`
	CreatedBy string    `json:"createdBy"`
	Created   time.Time `json:"created"`
}

type keyVersion struct {
	ID      string    `json:"id"`
	Created time.Time `json:"created"`
	Sealed  []byte    `json:"sealed"` // material under the master key

	aead        cipher.AEAD // root keys: AES-GCM under the material
	aeadKeyBits int         // 128, 192 or 256
}

type keyPolicy struct {
	ID            string    `json:"id"`
	Enabled       bool      `json:"enabled"`
	IntervalMonth int       `json:"intervalMonth,omitempty"`
	CreatedBy     string    `json:"createdBy"`
	Created       time.Time `json:"created"`
	UpdatedBy     string    `json:"updatedBy"`
	Updated       time.Time `json:"updated"`
}

type dualAuthMark struct {
	By      string    `json:"by"`
	At      time.Time `json:"at"`
	Expires time.Time `json:"expires"` // zero: no expiry
}

type deletion struct {
	By string    `json:"by"`
	At time.Time `json:"at"`
}

type registration struct {
	ResourceCRN        string          `json:"resourceCrn"`
	Description        string          `json:"description,omitempty"`
	PreventKeyDeletion bool            `json:"preventKeyDeletion"`
	Metadata           json.RawMessage `json:"metadata,omitempty"`
	KeyVersionID       string          `json:"keyVersionId"`
	CreatedBy          string          `json:"createdBy"`
	Created            time.Time       `json:"created"`
	UpdatedBy          string          `json:"updatedBy"`
	Updated            time.Time       `json:"updated"`
}

// iamPolicy is an IAM access or authorization policy. Subjects and
// resources are kept exactly as received so they echo back unchanged.
type iamPolicy struct {
	ID          string          `json:"id"`
	AccountID   string          `json:"accountId"`
	Type        string          `json:"type"`
	Description *string         `json:"description,omitempty"`
	Subjects    json.RawMessage `json:"subjects"`
	Resources   json.RawMessage `json:"resources"`
	RoleIDs     []string        `json:"roleIds"`
	CreatedBy   string          `json:"createdBy"`
	Created     time.Time       `json:"created"`
	UpdatedBy   string          `json:"updatedBy"`
	Updated     time.Time       `json:"updated"`

	parsed *parsedPolicy // rebuilt from Subjects and Resources
}

func (k *key) latest() *keyVersion { return k.Versions[len(k.Versions)-1] }

func (k *key) version(id string) *keyVersion {
	for _, v := range k.Versions {
		if v.ID == id {
			return v
		}
	}
	return nil
}

func (k *key) aliasNames() []string {
	names := make([]string, len(k.Aliases))
	for i, a := range k.Aliases {
		names[i] = a.Name
	}
	return names
}

func (k *key) registration(crn string) *registration {
	for _, r := range k.Registrations {
		if r.ResourceCRN == crn {
			return r
		}
	}
	return nil
}

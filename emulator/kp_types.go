package emulator

import (
	"encoding/json"
	"time"
)

// Key Protect wire shapes (spec §1.5, §1.6, §2).

const (
	keyType          = "application/vnd.ibm.kms.key+json"
	policyType       = "application/vnd.ibm.kms.policy+json"
	versionType      = "application/vnd.ibm.kms.key.version+json"
	registrationType = "application/vnd.ibm.kms.registration+json"
	aliasType        = "application/vnd.ibm.kms.alias+json"
	keyRingType      = "application/vnd.ibm.kms.key_ring+json"
)

type collectionMeta struct {
	CollectionType  string `json:"collectionType"`
	CollectionTotal int    `json:"collectionTotal"`
	TotalCount      *int   `json:"totalCount,omitempty"`
}

// collection is the common envelope; Resources is omitted only when nil
// (the empty-policy form of spec §2.14).
type collection struct {
	Metadata  collectionMeta `json:"metadata"`
	Resources any            `json:"resources,omitempty"`
}

// inCollection is the request envelope, resources still raw.
type inCollection struct {
	Metadata  *collectionMeta   `json:"metadata"`
	Resources []json.RawMessage `json:"resources"`
}

type keyJSON struct {
	Type                  string        `json:"type"`
	ID                    string        `json:"id"`
	Name                  string        `json:"name"`
	Description           string        `json:"description,omitempty"`
	Aliases               []string      `json:"aliases,omitempty"`
	Tags                  []string      `json:"tags,omitempty"`
	State                 int           `json:"state"`
	Extractable           bool          `json:"extractable"`
	Imported              bool          `json:"imported"`
	CRN                   string        `json:"crn"`
	KeyRingID             string        `json:"keyRingID"`
	CreatedBy             string        `json:"createdBy"`
	CreationDate          stamp         `json:"creationDate"`
	LastUpdateDate        stamp         `json:"lastUpdateDate"`
	LastRotateDate        *stamp        `json:"lastRotateDate,omitempty"`
	ExpirationDate        *stamp        `json:"expirationDate,omitempty"`
	AlgorithmType         string        `json:"algorithmType"`
	AlgorithmMetadata     algorithmMeta `json:"algorithmMetadata"`
	AlgorithmBitSize      int           `json:"algorithmBitSize"`
	AlgorithmMode         string        `json:"algorithmMode"`
	KeyVersion            versionJSON   `json:"keyVersion"`
	DualAuthDelete        dualAuthJSON  `json:"dualAuthDelete"`
	Rotation              *rotationJSON `json:"rotation,omitempty"`
	Deleted               bool          `json:"deleted"`
	DeletionDate          *stamp        `json:"deletionDate,omitempty"`
	DeletedBy             string        `json:"deletedBy,omitempty"`
	RestoreAllowed        *bool         `json:"restoreAllowed,omitempty"`
	RestoreExpirationDate *stamp        `json:"restoreExpirationDate,omitempty"`
	PurgeAllowed          *bool         `json:"purgeAllowed,omitempty"`
	PurgeAllowedFrom      *stamp        `json:"purgeAllowedFrom,omitempty"`
	PurgeScheduledOn      *stamp        `json:"purgeScheduledOn,omitempty"`
	Payload               string        `json:"payload,omitempty"`
}

type algorithmMeta struct {
	BitLength string `json:"bitLength"`
	Mode      string `json:"mode"`
}

type versionJSON struct {
	ID           string `json:"id"`
	CreationDate *stamp `json:"creationDate,omitempty"`
}

type dualAuthJSON struct {
	Enabled           bool   `json:"enabled"`
	KeySetForDeletion *bool  `json:"keySetForDeletion,omitempty"`
	AuthExpiration    *stamp `json:"authExpiration,omitempty"`
}

type rotationJSON struct {
	Enabled       bool `json:"enabled"`
	IntervalMonth int  `json:"interval_month,omitempty"`
}

// keyCreateReq is one resource of a create request.
type keyCreateReq struct {
	Name                string          `json:"name"`
	Description         string          `json:"description"`
	Extractable         bool            `json:"extractable"`
	ExpirationDate      *string         `json:"expirationDate"`
	Aliases             []string        `json:"aliases"`
	Tags                []string        `json:"tags"`
	Payload             string          `json:"payload"`
	EncryptedNonce      string          `json:"encryptedNonce"`
	IV                  string          `json:"iv"`
	EncryptionAlgorithm string          `json:"encryptionAlgorithm"`
	Rotation            *rotationReq    `json:"rotation"`
	DualAuthDelete      *enabledReq     `json:"dualAuthDelete"`
	KeyRingID           string          `json:"keyRingID"`
	Type                json.RawMessage `json:"type"`
}

type rotationReq struct {
	Enabled       *bool `json:"enabled"`
	IntervalMonth *int  `json:"interval_month"`
}

type enabledReq struct {
	Enabled *bool `json:"enabled"`
}

// actionReq is the bare body of key actions (wrap, unwrap, rotate, ...).
type actionReq struct {
	Plaintext           string   `json:"plaintext"`
	Ciphertext          string   `json:"ciphertext"`
	AAD                 []string `json:"aad"`
	Payload             string   `json:"payload"`
	EncryptedNonce      string   `json:"encryptedNonce"`
	IV                  string   `json:"iv"`
	EncryptionAlgorithm string   `json:"encryptionAlgorithm"`
}

type actionResp struct {
	Plaintext           string       `json:"plaintext,omitempty"`
	Ciphertext          string       `json:"ciphertext,omitempty"`
	KeyVersion          *versionJSON `json:"keyVersion,omitempty"`
	RewrappedKeyVersion *versionJSON `json:"rewrappedKeyVersion,omitempty"`
}

type keyPolicyJSON struct {
	ID             string        `json:"id"`
	CRN            string        `json:"crn"`
	Type           string        `json:"type"`
	Rotation       *rotationJSON `json:"rotation,omitempty"`
	DualAuthDelete *dualAuthJSON `json:"dualAuthDelete,omitempty"`
	CreatedBy      string        `json:"createdBy"`
	CreationDate   stamp         `json:"creationDate"`
	UpdatedBy      string        `json:"updatedBy"`
	LastUpdateDate stamp         `json:"lastUpdateDate"`
}

// keyPolicyReq is one resource of a key policy PUT.
type keyPolicyReq struct {
	Rotation       *rotationReq `json:"rotation"`
	DualAuthDelete *enabledReq  `json:"dualAuthDelete"`
}

type instancePolicyJSON struct {
	PolicyType   string             `json:"policy_type"`
	PolicyData   instancePolicyData `json:"policy_data"`
	CreatedBy    string             `json:"createdBy"`
	CreationDate stamp              `json:"creationDate"`
	UpdatedBy    string             `json:"updatedBy"`
	LastUpdated  stamp              `json:"lastUpdated"`
}

type instancePolicyData struct {
	Enabled    *bool           `json:"enabled"`
	Attributes json.RawMessage `json:"attributes,omitempty"`
}

type registrationJSON struct {
	KeyID                string          `json:"keyId"`
	ResourceCRN          string          `json:"resourceCrn"`
	CreatedBy            string          `json:"createdBy"`
	CreationDate         stamp           `json:"creationDate"`
	UpdatedBy            string          `json:"updatedBy"`
	LastUpdated          stamp           `json:"lastUpdated"`
	Description          string          `json:"description,omitempty"`
	PreventKeyDeletion   bool            `json:"preventKeyDeletion"`
	KeyVersion           versionJSON     `json:"keyVersion"`
	RegistrationMetadata json.RawMessage `json:"registrationMetadata,omitempty"`
}

type registrationReq struct {
	Description          *string         `json:"description"`
	PreventKeyDeletion   *bool           `json:"preventKeyDeletion"`
	RegistrationMetadata json.RawMessage `json:"registrationMetadata"`
	KeyVersionID         *string         `json:"keyVersionId"`
}

type aliasJSON struct {
	KeyID        string `json:"keyId"`
	Alias        string `json:"alias"`
	CreatedBy    string `json:"createdBy"`
	CreationDate stamp  `json:"creationDate"`
}

type keyRingJSON struct {
	ID           string `json:"id"`
	CreationDate *stamp `json:"creationDate,omitempty"`
	CreatedBy    string `json:"createdBy,omitempty"`
}

// stamp renders a time as RFC 3339 in UTC (Key Protect dates).
type stamp time.Time

func (s stamp) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Time(s).UTC().Format(time.RFC3339Nano) + `"`), nil
}

func stampPtr(t *time.Time) *stamp {
	if t == nil {
		return nil
	}
	s := stamp(*t)
	return &s
}

func ptr[T any](v T) *T { return &v }

// Package ibmenv reads the settings of design.md section 7 from the
// environment and builds the real IBM SDK clients from them, once per
// process so their IAM tokens are cached. Pointing the variables at real IBM
// Cloud endpoints needs no code change; the emulator is only a default.
//
// It imports the IBM SDKs and nothing of ours.
package ibmenv

import (
	"cmp"
	"fmt"
	"net/url"
	"os"
	"strings"
)

// Defaults of the environment conventions (design.md section 7). Left
// unset, the IBM endpoints are the real IBM Cloud ones.
const (
	DefaultServiceName = "hyperp-dbaas-postgresql"
	DefaultRegion      = "us-south"
	DefaultKPURL       = "https://us-south.kms.cloud.ibm.com"
	DefaultIAMURL      = "https://iam.cloud.ibm.com"
)

// Env is the worker's environment. It holds the two API keys: never log it
// (String redacts them) and never put it in a workflow input.
type Env struct {
	OperatorAPIKey string // IBMCLOUD_API_KEY (required)
	ServiceAPIKey  string // BYOK_SERVICE_API_KEY (required)
	ServiceName    string // BYOK_SERVICE_NAME, default DefaultServiceName
	KPURL          string // BYOK_KP_URL, default DefaultKPURL
	KPInstanceID   string // BYOK_KP_INSTANCE_ID (required)
	IAMURL         string // BYOK_IAM_URL, default DefaultIAMURL
	AccountID      string // BYOK_ACCOUNT_ID (required)
	DatabaseURL    string // BYOK_DATABASE_URL (required): catalog and instance databases
	Region         string // BYOK_REGION, default: from BYOK_KP_URL, else DefaultRegion
	// The platform identity and Key Protect instance of the payload
	// codec's root key (package internal/codec).
	CodecAPIKey       string // BYOK_CODEC_API_KEY
	CodecKPInstanceID string // BYOK_CODEC_KP_INSTANCE_ID
}

// Read reads the environment with getenv (os.Getenv when nil) and applies
// the defaults; it checks nothing. Require or LoadEnv check.
func Read(getenv func(string) string) Env {
	if getenv == nil {
		getenv = os.Getenv
	}
	e := Env{
		OperatorAPIKey: getenv("IBMCLOUD_API_KEY"), ServiceAPIKey: getenv("BYOK_SERVICE_API_KEY"),
		ServiceName: getenv("BYOK_SERVICE_NAME"), KPURL: getenv("BYOK_KP_URL"),
		KPInstanceID: getenv("BYOK_KP_INSTANCE_ID"), IAMURL: getenv("BYOK_IAM_URL"),
		AccountID: getenv("BYOK_ACCOUNT_ID"), DatabaseURL: getenv("BYOK_DATABASE_URL"),
		Region:      getenv("BYOK_REGION"),
		CodecAPIKey: getenv("BYOK_CODEC_API_KEY"), CodecKPInstanceID: getenv("BYOK_CODEC_KP_INSTANCE_ID"),
	}
	return e.withDefaults()
}

// LoadEnv reads the environment like Read and fails naming every variable
// the control plane needs that is unset.
func LoadEnv(getenv func(string) string) (Env, error) {
	e := Read(getenv)
	if err := e.Require("IBMCLOUD_API_KEY", "BYOK_SERVICE_API_KEY", "BYOK_KP_INSTANCE_ID",
		"BYOK_ACCOUNT_ID", "BYOK_DATABASE_URL"); err != nil {
		return Env{}, err
	}
	return e, nil
}

// Require fails naming every listed variable that is unset.
func (e Env) Require(names ...string) error {
	values := map[string]string{
		"IBMCLOUD_API_KEY": e.OperatorAPIKey, "BYOK_SERVICE_API_KEY": e.ServiceAPIKey,
		"BYOK_KP_INSTANCE_ID": e.KPInstanceID, "BYOK_ACCOUNT_ID": e.AccountID,
		"BYOK_DATABASE_URL": e.DatabaseURL, "BYOK_CODEC_API_KEY": e.CodecAPIKey,
		"BYOK_CODEC_KP_INSTANCE_ID": e.CodecKPInstanceID,
	}
	var missing []string
	for _, n := range names {
		if values[n] == "" {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("load environment: %s unset: export them (`make stack` writes them to .run/env; "+
			"`emulator --dev` prints values for the local emulator)", strings.Join(missing, ", "))
	}
	return nil
}

func (e Env) withDefaults() Env {
	e.KPURL = strings.TrimRight(cmp.Or(e.KPURL, DefaultKPURL), "/")
	e.IAMURL = strings.TrimRight(cmp.Or(e.IAMURL, DefaultIAMURL), "/")
	e.ServiceName = cmp.Or(e.ServiceName, DefaultServiceName)
	e.Region = cmp.Or(e.Region, regionOf(e.KPURL))
	return e
}

// String renders e without its API keys or database password.
func (e Env) String() string {
	return fmt.Sprintf("{KPURL:%s KPInstanceID:%s IAMURL:%s AccountID:%s ServiceName:%s Region:%s DatabaseURL:%s}",
		e.KPURL, e.KPInstanceID, e.IAMURL, e.AccountID, e.ServiceName, e.Region, RedactURL(e.DatabaseURL))
}

// regionOf takes the region from a Key Protect endpoint such as
// https://eu-de.kms.cloud.ibm.com or https://private.us-south.kms.cloud.ibm.com.
func regionOf(kpURL string) string {
	u, err := url.Parse(kpURL)
	if err != nil {
		return DefaultRegion
	}
	labels := strings.Split(u.Hostname(), ".")
	for i := 1; i < len(labels); i++ {
		if labels[i] == "kms" && labels[i-1] != "private" {
			return labels[i-1]
		}
	}
	return DefaultRegion
}

// RedactURL hides the password of a postgres:// URL.
func RedactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		if strings.Contains(s, "password") {
			return "(redacted)"
		}
		return s
	}
	return u.Redacted()
}

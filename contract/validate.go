package contract

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"
)

var (
	instanceNameRE = regexp.MustCompile(`^[a-z][a-z0-9-]{2,39}$`)
	uuidRE         = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	keyAliasRE     = regexp.MustCompile(`^[A-Za-z0-9_-]{2,90}$`)
	// reservedAliases are words Key Protect refuses as key aliases.
	reservedAliases = []string{"allowed_ip", "key", "keys", "metadata", "policy",
		"policies", "registration", "registrations", "ring", "rings", "rotate",
		"wrap", "unwrap", "rewrap", "version", "versions"}
)

// ValidateInstanceName checks an instance name: 3 to 40 characters, lower-case
// letters, digits and dashes, starting with a letter.
func ValidateInstanceName(name string) error {
	if instanceNameRE.MatchString(name) {
		return nil
	}
	return fmt.Errorf("validate instance name %q: use 3-40 lower-case letters, "+
		"digits or dashes, starting with a letter, for example \"orders-db\"", name)
}

// ValidateNodeCount checks a node count after defaults: MinNodes..MaxNodes.
func ValidateNodeCount(n int) error {
	if n >= MinNodes && n <= MaxNodes {
		return nil
	}
	return fmt.Errorf("validate node count %d: choose %d to %d nodes, or leave it "+
		"unset for %d", n, MinNodes, MaxNodes, DefaultNodes)
}

// ValidateRootKeyID checks that id looks like a Key Protect key id (a UUID)
// or a key alias (2-90 letters, digits, '-' or '_', not a reserved word).
// Whether the key exists is for the ValidateRootKey activity to say.
func ValidateRootKeyID(id string) error {
	if uuidRE.MatchString(id) {
		return nil
	}
	if keyAliasRE.MatchString(id) && !slices.Contains(reservedAliases, id) {
		return nil
	}
	return fmt.Errorf("validate root key id %q: give the key's id (a UUID) or one "+
		"of its aliases, as `ibmcloud kp keys` lists them", id)
}

// ValidateKPInstanceID checks that id looks like a Key Protect instance id (a UUID).
func ValidateKPInstanceID(id string) error {
	if uuidRE.MatchString(id) {
		return nil
	}
	return fmt.Errorf("validate key protect instance id %q: give the instance's "+
		"GUID, as `ibmcloud resource service-instance <name> --id` prints it", id)
}

// MaxNodeDeadline bounds a node deadline: a workflow holds its instance's
// lock while it waits, so a longer wait is no deadline but an instance
// locked for good.
const MaxNodeDeadline = 30 * 24 * time.Hour

// ValidateNodeDeadline checks a node deadline after defaults: at least a
// minute, at most MaxNodeDeadline.
func ValidateNodeDeadline(d time.Duration) error {
	if d >= time.Minute && d <= MaxNodeDeadline {
		return nil
	}
	return fmt.Errorf("validate node deadline %s: give 1m to %s, or leave it "+
		"unset for %s", d, MaxNodeDeadline, DefaultNodeDeadline)
}

// Validate checks in after WithDefaults and returns every problem found.
func (in ProvisionInput) Validate() error {
	return errors.Join(
		ValidateInstanceName(in.InstanceID),
		ValidateRootKeyID(in.RootKeyID),
		ValidateKPInstanceID(in.KPInstanceID),
		ValidateNodeCount(in.Nodes),
		ValidateNodeDeadline(in.NodeDeadline.D()),
		ValidateAdminVerifier(in.AdminVerifier),
	)
}

// Validate checks in after WithDefaults and returns every problem found.
func (in RotateInput) Validate() error {
	return errors.Join(
		ValidateInstanceName(in.InstanceID),
		ValidateNodeDeadline(in.NodeDeadline.D()),
	)
}

package contract

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// input is a workflow input: defaults, then validation.
type input[T any] interface {
	WithDefaults() T
	Validate() error
}

// FuzzValidateInputs feeds arbitrary JSON into every workflow input's
// WithDefaults and Validate, and arbitrary strings into the id checks.
// Nothing may panic; WithDefaults is idempotent; an accepted input obeys
// the documented rules (checked here by hand, not by the same regular
// expressions), survives a JSON round trip unchanged and still validates;
// a refused admin verifier is never echoed. make reliability runs it for
// BYOK_FUZZTIME; go test runs the seeds.
func FuzzValidateInputs(f *testing.F) {
	const key, kp = "0b5f6a4e-1c2d-4e3f-8a9b-0c1d2e3f4a5b", "6f3c4b1e-2d5a-4e8f-9b7c-0a1d2e3f4b5c"
	verifier := "SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy"
	seeds := []string{
		fmt.Sprintf(`{"instanceId":"orders-db","rootKeyId":%q,"kpInstanceId":%q,"nodes":3,"nodeDeadline":"4h","adminVerifier":%q}`, key, kp, verifier),
		fmt.Sprintf(`{"backupId":"orders-db-20300102T030405","instanceId":"copy","rootKeyId":"my-root","nodes":1,"adminVerifier":%q}`, verifier),
		`{"instanceId":"orders-db","nodeDeadline":"1000000h"}`, `{"instanceId":"orders-db","nodeDeadline":-5000000000}`,
		`{"instanceId":"../x","rootKeyId":"../../keys","nodes":-1}`, `{"instanceId":"x;drop table instances","nodes":1000}`,
		`{"instanceId":"orders\u0000db"}`, `{"instanceId":"ördérs-db","rootKeyId":"rotate"}`, `{"instanceId":"ORDERS"}`,
		`{"instanceIds":["a-1","b-2"],"parallel":2,"batch":-1}`, `{"all":true,"rootKeyId":"k1"}`, `{"instanceIds":[]}`,
		`{"instanceId":"orders-db","keepRootKey":true,"requireApproval":true,"approvalTimeout":"1s"}`,
		`{"instanceId":"orders-db","keep":"500ms"}`, `{"grace":"-1h","maxReactions":501}`, `{"adminVerifier":"hunter2"}`,
		`{"nodeDeadline":"forever"}`, `{"nodeDeadline":1e400}`, `null`, `[]`, `{}`, `{"instanceId":{"x":1}}`, ``,
	}
	strs := []string{"orders-db", "", "../x", "a\x00b", "ab", strings.Repeat("a", 41), key, kp, "rotate", "x;drop", "日本語"}
	for i, s := range seeds {
		f.Add([]byte(s), strs[i%len(strs)])
	}
	f.Fuzz(func(t *testing.T, data []byte, s string) {
		fuzzInput(t, data, func(in ProvisionInput) error {
			return all(instanceOK(in.InstanceID), keyRefOK(in.RootKeyID), uuidOK(in.KPInstanceID),
				nodesOK(in.Nodes), deadlineOK(in.NodeDeadline), verifierOK(in.AdminVerifier))
		})
		fuzzInput(t, data, func(in RotateInput) error { return all(instanceOK(in.InstanceID), deadlineOK(in.NodeDeadline)) })
		fuzzInput(t, data, func(in SuspendInput) error { return all(instanceOK(in.InstanceID), deadlineOK(in.NodeDeadline)) })
		fuzzInput(t, data, func(in ResumeInput) error { return all(instanceOK(in.InstanceID), deadlineOK(in.NodeDeadline)) })
		fuzzInput(t, data, func(in BackupInput) error { return all(instanceOK(in.InstanceID), deadlineOK(in.NodeDeadline)) })
		fuzzInput(t, data, func(in RestoreInput) error {
			kpErr := error(nil)
			if in.KPInstanceID != "" {
				kpErr = uuidOK(in.KPInstanceID)
			}
			return all(backupIDOK(in.BackupID), instanceOK(in.InstanceID), keyRefOK(in.RootKeyID), kpErr,
				nodesOK(in.Nodes), deadlineOK(in.NodeDeadline), verifierOK(in.AdminVerifier))
		})
		fuzzInput(t, data, func(in ShredInput) error {
			return all(instanceOK(in.InstanceID), deadlineOK(in.NodeDeadline), atLeast(in.ApprovalTimeout.D(), time.Minute),
				check(!(in.RequireApproval && in.KeepRootKey), "approval with --keep-root-key"))
		})
		fuzzInput(t, data, func(in ReconcileInput) error {
			return all(deadlineOK(in.NodeDeadline), atLeast(in.Grace.D(), 0),
				check(in.MaxReactions >= 1 && in.MaxReactions <= 500, "max reactions"))
		})
		fuzzInput(t, data, func(in FleetRotateInput) error {
			errs := []error{deadlineOK(in.NodeDeadline), check(in.Parallel >= 1 && in.Parallel <= MaxFleetParallel, "parallel"),
				check(in.Batch >= 1, "batch")}
			for _, id := range in.InstanceIDs {
				errs = append(errs, instanceOK(id))
			}
			if in.RootKeyID != "" {
				errs = append(errs, keyRefOK(in.RootKeyID))
			}
			return all(errs...)
		})
		fuzzInput(t, data, func(in ScheduledBackupInput) error {
			return all(instanceOK(in.InstanceID), deadlineOK(in.NodeDeadline), atLeast(in.Keep.D(), 0))
		})
		fuzzIDs(t, s)
	})
}

// fuzzInput decodes data into a T and checks its validation.
func fuzzInput[T input[T]](t *testing.T, data []byte, rules func(T) error) {
	t.Helper()
	var in T
	if json.Unmarshal(data, &in) != nil {
		return
	}
	in = in.WithDefaults()
	if again := in.WithDefaults(); !reflect.DeepEqual(in, again) {
		t.Fatalf("%T.WithDefaults is not idempotent: %+v then %+v", in, in, again)
	}
	err := in.Validate()
	requireVerifierNotEchoed(t, in, err)
	if err != nil {
		return
	}
	if broken := rules(in); broken != nil {
		t.Fatalf("%T %+v was accepted but breaks the rules: %v", in, in, broken)
	}
	b, merr := json.Marshal(in)
	if merr != nil {
		t.Fatalf("marshal accepted %T: %v", in, merr)
	}
	var back T
	if uerr := json.Unmarshal(b, &back); uerr != nil {
		t.Fatalf("unmarshal accepted %T %s: %v", in, b, uerr)
	}
	if back = back.WithDefaults(); !reflect.DeepEqual(in, back) || back.Validate() != nil {
		t.Fatalf("%T changed on the wire: %+v became %+v (%v)", in, in, back, back.Validate())
	}
}

// requireVerifierNotEchoed: a refused message reads the same whatever the
// refused verifier was (it could be a password pasted by mistake).
func requireVerifierNotEchoed(t *testing.T, in any, err error) {
	t.Helper()
	v := reflect.ValueOf(&in).Elem().Elem()
	field := reflect.New(v.Type()).Elem()
	field.Set(v)
	f := field.FieldByName("AdminVerifier")
	if err == nil || !f.IsValid() || ValidateAdminVerifier(f.String()) == nil {
		return
	}
	f.SetString("not a verifier")
	other := field.Interface().(interface{ Validate() error }).Validate()
	if other == nil || other.Error() != err.Error() {
		t.Fatalf("the refusal of admin verifier %q depends on its value:\n%v\n%v", in, err, other)
	}
}

// fuzzIDs checks each id rule on s: an accepted id obeys it.
func fuzzIDs(t *testing.T, s string) {
	for name, c := range map[string]struct{ validate, rule func(string) error }{
		"instance name":    {ValidateInstanceName, instanceOK},
		"root key id":      {ValidateRootKeyID, keyRefOK},
		"kp instance id":   {ValidateKPInstanceID, uuidOK},
		"backup id":        {ValidateBackupID, backupIDOK},
		"admin verifier":   {ValidateAdminVerifier, verifierOK},
		"node deadline ns": {func(s string) error { return ValidateNodeDeadline(parseNS(s)) }, func(s string) error { return deadlineOK(Duration(parseNS(s))) }},
	} {
		if err := c.validate(s); err == nil {
			if broken := c.rule(s); broken != nil {
				t.Fatalf("%s %q was accepted but breaks the rule: %v", name, s, broken)
			}
		} else if other := c.validate("x"); name == "admin verifier" && (other == nil || other.Error() != err.Error()) {
			t.Fatalf("the refusal of admin verifier %q depends on its value: %v", s, err)
		}
	}
	var d Duration
	_ = json.Unmarshal([]byte(s), &d) // must not panic
}

// parseNS reads s as a Go duration, or 0.
func parseNS(s string) time.Duration { d, _ := time.ParseDuration(s); return d }

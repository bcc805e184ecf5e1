package contract

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/stretchr/testify/require"
)

// jsonName is the name field f has in JSON, from its tag ("" when untagged).
func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return name
}

// camelCaseProblem says what is wrong with name as the JSON name of the Go
// field goName, or "" when it is right: camelCase, acronyms as words
// ("kpInstanceId", not "KPInstanceID"), and equal to goName but for case, so
// that histories written with the Go names still decode into the field.
func camelCaseProblem(goName, name string) string {
	switch {
	case name == "" || name == "-":
		return "has no json name"
	case !strings.EqualFold(name, goName):
		return fmt.Sprintf("json name %q differs from the Go name by more than case", name)
	case !unicode.IsLower(rune(name[0])):
		return fmt.Sprintf("json name %q does not start lower-case", name)
	}
	for i := 1; i < len(name); i++ {
		if unicode.IsUpper(rune(name[i-1])) && unicode.IsUpper(rune(name[i])) {
			return fmt.Sprintf("json name %q writes an acronym in capitals (write ID as Id, CRN as Crn)", name)
		}
	}
	return ""
}

func TestWireTypes_EveryFieldHasACamelCaseJSONName(t *testing.T) {
	for _, v := range wireTypes {
		typ := reflect.TypeOf(v)
		for f := range typ.Fields() {
			require.True(t, f.IsExported(), "%s.%s: wire fields are exported", typ.Name(), f.Name)
			require.Empty(t, camelCaseProblem(f.Name, jsonName(f)), "%s.%s", typ.Name(), f.Name)
		}
	}
}

func TestCamelCaseProblem_Cases(t *testing.T) {
	for goName, tags := range map[string]map[string]bool{
		"KPInstanceID":     {"kpInstanceId": true, "KPInstanceID": false, "kpInstanceID": false, "kp_instance_id": false, "": false},
		"CiphertextSHA256": {"ciphertextSha256": true, "ciphertextSHA256": false},
		"InstanceCRN":      {"instanceCrn": true, "crn": false, "-": false},
		"AAD":              {"aad": true, "Aad": false},
	} {
		for tag, ok := range tags {
			require.Equal(t, ok, camelCaseProblem(goName, tag) == "", "%s as %q", goName, tag)
		}
	}
}

// fill sets every field of v, recursively, to a value that is not zero
// and differs from the others, so that a lost field shows.
func fill(v reflect.Value, n *int) {
	*n++
	switch {
	case v.Type() == reflect.TypeFor[time.Time]():
		v.Set(reflect.ValueOf(time.Date(2030, 1, 2, 3, 4, *n, 0, time.UTC)))
		return
	case v.Type() == reflect.TypeFor[Duration]():
		v.SetInt(int64(*n) * int64(time.Minute))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("value-%d", *n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(*n))
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		fill(v.Index(0), n)
		fill(v.Index(1), n)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), n)
	case reflect.Struct:
		for i := range v.NumField() {
			fill(v.Field(i), n)
		}
	case reflect.Uint8:
		v.SetUint(uint64(*n % 256))
	default:
		panic("fill: add a case for " + v.Type().String())
	}
}

// pascalCase is v as encoding/json wrote it before the wire structs had
// json tags and before Duration: members named as the Go fields, durations
// as numbers of nanoseconds.
func pascalCase(v reflect.Value) any {
	switch {
	case v.Type() == reflect.TypeFor[time.Time]():
		return v.Interface()
	case v.Type() == reflect.TypeFor[Duration]():
		return v.Int()
	}
	switch v.Kind() {
	case reflect.Struct:
		m := map[string]any{}
		for i := range v.NumField() {
			m[v.Type().Field(i).Name] = pascalCase(v.Field(i))
		}
		return m
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return v.Interface()
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = pascalCase(v.Index(i))
		}
		return out
	case reflect.Pointer:
		return pascalCase(v.Elem())
	}
	return v.Interface()
}

func TestWireTypes_DecodeThePascalCaseOfOlderHistories(t *testing.T) {
	for _, v := range wireTypes {
		typ := reflect.TypeOf(v)
		t.Run(typ.Name(), func(t *testing.T) {
			want := reflect.New(typ)
			fill(want.Elem(), new(int))
			old, err := json.Marshal(pascalCase(want.Elem()))
			require.NoError(t, err)

			got := reflect.New(typ)
			require.NoError(t, json.Unmarshal(old, got.Interface()), "%s", old)
			require.Equal(t, want.Interface(), got.Interface(), "decoded from %s", old)

			current, err := json.Marshal(want.Interface())
			require.NoError(t, err)
			again := reflect.New(typ)
			require.NoError(t, json.Unmarshal(current, again.Interface()))
			require.Equal(t, want.Interface(), again.Interface(), "round trip of %s", current)
		})
	}
}

// provisionInputV0 is a provision input as the starter wrote it before
// camelCase names and Duration.
const provisionInputV0 = `{"InstanceID":"orders-db","RootKeyID":"orders-root",` +
	`"KPInstanceID":"9b7c1a2e-1111-4a2b-8c3d-0123456789ab","Nodes":3,"CreateAuthorization":true,` +
	`"RequestedBy":"alice","NodeDeadline":14400000000000,"AdminVerifier":"` + testVerifier + `","AwaitData":false}`

// provisionInputV1 is the same input as it is written now.
const provisionInputV1 = `{"instanceId":"orders-db","rootKeyId":"orders-root",` +
	`"kpInstanceId":"9b7c1a2e-1111-4a2b-8c3d-0123456789ab","nodes":3,"createAuthorization":true,` +
	`"requestedBy":"alice","nodeDeadline":"4h0m0s","adminVerifier":"` + testVerifier + `","awaitData":false}`

func TestProvisionInput_OldAndNewWireForms(t *testing.T) {
	want := ProvisionInput{InstanceID: "orders-db", RootKeyID: "orders-root",
		KPInstanceID: "9b7c1a2e-1111-4a2b-8c3d-0123456789ab", Nodes: 3, CreateAuthorization: true,
		RequestedBy: "alice", NodeDeadline: Duration(4 * time.Hour), AdminVerifier: testVerifier}

	for _, doc := range []string{provisionInputV0, provisionInputV1} {
		var got ProvisionInput
		require.NoError(t, json.Unmarshal([]byte(doc), &got))
		require.Equal(t, want, got, doc)
	}
	b, err := json.Marshal(want)
	require.NoError(t, err)
	require.JSONEq(t, provisionInputV1, string(b))
	require.Contains(t, string(b), `"nodeDeadline":"4h0m0s"`, "the Web UI shows the deadline as written")
}

func TestRotateInput_DecodesTheInputOfTheReplayedHistory(t *testing.T) {
	// The input of workflows/testdata/rotate_v0_history.json.
	const doc = `{"InstanceID":"orders-db","RewrapOnly":false,"RequestedBy":"alice","NodeDeadline":0}`
	var got RotateInput
	require.NoError(t, json.Unmarshal([]byte(doc), &got))
	require.Equal(t, RotateInput{InstanceID: "orders-db", RequestedBy: "alice"}, got)
	require.Equal(t, DefaultNodeDeadline, got.WithDefaults().NodeDeadline.D())
}

func TestShredCertificate_V1StillDecodes(t *testing.T) {
	const v1 = `{"Format":"byokflow-shred-certificate/v1","InstanceID":"orders-db",` +
		`"InstanceCRN":"crn:v1:bluemix:public:hyperp-dbaas-postgresql:us-south:a/1:orders-db::",` +
		`"RootKeyID":"k1","Scope":"instance and root key","KeyDeleted":true,` +
		`"Key":{"RootKeyID":"k1","State":5,"StateName":"Destroyed","KeyVersionID":"v2","DualAuthDelete":false,` +
		`"Imported":true,"DeletionDate":"2030-01-02T03:04:05Z","DeletedBy":"IBMid-alice"},` +
		`"Nodes":[{"InstanceID":"orders-db","NodeID":"orders-db-1","Host":"a","State":"destroyed",` +
		`"ReportedAt":"2030-01-02T03:04:05Z","ServerUp":false,"StorageKeyID":"f00d","StorageKey":"removed"}],` +
		`"UnrecoverableBackups":["b1"],"Proof":{"Subject":"backup b1","RootKeyID":"k1","CiphertextSHA256":"ab",` +
		`"HTTPStatus":410,"ReasonCode":"KEY_DELETED_ERR","Message":"gone","At":"2030-01-02T03:04:06Z"},` +
		`"RequestedBy":"alice","ApprovedBy":"bob","WorkflowID":"shred-orders-db","RunID":"r1",` +
		`"StartedAt":"2030-01-02T03:00:00Z","CompletedAt":"2030-01-02T03:04:06Z","Statement":"gone"}`
	var c ShredCertificate
	require.NoError(t, json.Unmarshal([]byte(v1), &c))

	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	require.Equal(t, ShredCertificate{Format: "byokflow-shred-certificate/v1", InstanceID: "orders-db",
		InstanceCRN: "crn:v1:bluemix:public:hyperp-dbaas-postgresql:us-south:a/1:orders-db::", RootKeyID: "k1",
		Scope: ShredScopeInstanceAndKey, KeyDeleted: true,
		Key: RootKeyState{RootKeyID: "k1", State: KPStateDestroyed, StateName: "Destroyed", KeyVersionID: "v2",
			Imported: true, DeletionDate: at, DeletedBy: "IBMid-alice"},
		Nodes: []NodeReport{{InstanceID: "orders-db", NodeID: "orders-db-1", Host: "a", State: KeyDestroyed,
			ReportedAt: at, StorageKeyID: "f00d", StorageKey: "removed"}},
		UnrecoverableBackups: []string{"b1"},
		Proof: &ShredProof{Subject: "backup b1", RootKeyID: "k1", CiphertextSHA256: "ab", HTTPStatus: 410,
			ReasonCode: "KEY_DELETED_ERR", Message: "gone", At: at.Add(time.Second)},
		RequestedBy: "alice", ApprovedBy: "bob", WorkflowID: "shred-orders-db", RunID: "r1",
		StartedAt: time.Date(2030, 1, 2, 3, 0, 0, 0, time.UTC), CompletedAt: at.Add(time.Second), Statement: "gone"}, c)

	b, err := json.Marshal(c)
	require.NoError(t, err)
	for _, key := range []string{`"instanceCrn":`, `"ciphertextSha256":`, `"httpStatus":`, `"storageKeyId":`, `"deletionDate":`} {
		require.Contains(t, string(b), key, "a decoded v1 certificate encodes with camelCase keys")
	}
}

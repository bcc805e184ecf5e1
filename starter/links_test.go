package main

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestWebUILink_UnderTheUIBase(t *testing.T) {
	t.Setenv("BYOK_UI_URL", "http://127.0.0.1:8233/")
	t.Setenv("TEMPORAL_NAMESPACE", "")
	require.Equal(t, "http://127.0.0.1:8233/namespaces/default/workflows/provision-orders/run-1/history",
		webUILink("provision-orders", "run-1"))
	t.Setenv("BYOK_UI_URL", "")
	require.Empty(t, webUILink("provision-orders", "run-1"), "no link without a UI address")
}

func TestPrintJSON_AddsTheWebUILink(t *testing.T) {
	var out bytes.Buffer
	a := &app{stdout: &out, webUI: "http://ui/x"}
	require.NoError(t, a.printJSON(map[string]string{"instance": "orders"}))
	var doc map[string]string
	require.NoError(t, json.Unmarshal(out.Bytes(), &doc))
	require.Equal(t, map[string]string{"instance": "orders", "webUi": "http://ui/x"}, doc)

	out.Reset()
	require.NoError(t, a.printJSON([]int{1}))
	require.JSONEq(t, `[1]`, out.String(), "lists stay lists")
	out.Reset()
	require.NoError(t, a.printJSON(struct{}{}))
	require.JSONEq(t, `{"webUi":"http://ui/x"}`, out.String())
}

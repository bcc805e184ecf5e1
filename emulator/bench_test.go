package emulator_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	kp "github.com/IBM/keyprotect-go-client"

	"github.com/byokflow/byokflow/emulator/emulatortest"
)

// BenchmarkWrapUnwrap measures wrap+unwrap pairs by the service identity
// over loopback HTTP, with persistence on (a data directory is set):
// through the real kp client with its default transport (no keep-alive)
// and with a keep-alive transport, and through a plain keep-alive client.
func BenchmarkWrapUnwrap(b *testing.B) {
	env := emulatortest.Start(b)
	env.AuthorizeService(b)
	k := rootKey(b, env.OperatorClient(b), "bench")
	keepAlive := &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}
	b.Run("kpclient-default-transport", func(b *testing.B) {
		benchKP(b, env, k.ID, kp.DefaultTransport())
	})
	b.Run("kpclient-keepalive", func(b *testing.B) {
		benchKP(b, env, k.ID, keepAlive)
	})
	b.Run("rawhttp-keepalive", func(b *testing.B) {
		benchRaw(b, env, k.ID, &http.Client{Transport: keepAlive})
	})
}

func benchKP(b *testing.B, env *emulatortest.Env, keyID string, rt http.RoundTripper) {
	c, err := kp.New(kp.ClientConfig{BaseURL: env.URL, APIKey: env.Dev.ServiceAPIKey, TokenURL: env.URL + "/oidc/token",
		InstanceID: env.Dev.KPInstanceID, Verbose: kp.VerboseNone}, rt)
	if err != nil {
		b.Fatal(err)
	}
	aad := []string{"instance", "node"}
	pt := b64(dek(1))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			ct, err := c.Wrap(ctx, keyID, pt, &aad)
			if err != nil {
				b.Error(err)
				return
			}
			if _, err := c.Unwrap(ctx, keyID, ct, &aad); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportPairs(b)
}

func benchRaw(b *testing.B, env *emulatortest.Env, keyID string, client *http.Client) {
	tok := env.Token(b, env.Dev.ServiceAPIKey)
	base := env.URL + "/api/v2/keys/" + keyID + "/actions/"
	wrapBody, _ := json.Marshal(map[string]any{"plaintext": string(b64(dek(1))), "aad": []string{"instance", "node"}})
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			var w struct{ Ciphertext string }
			if err := post(client, base+"wrap", tok, env.Dev.KPInstanceID, wrapBody, &w); err != nil {
				b.Error(err)
				return
			}
			body, _ := json.Marshal(map[string]any{"ciphertext": w.Ciphertext, "aad": []string{"instance", "node"}})
			if err := post(client, base+"unwrap", tok, env.Dev.KPInstanceID, body, nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportPairs(b)
}

func post(c *http.Client, url, tok, inst string, body []byte, out any) error {
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Bluemix-Instance", inst)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return &rawErr{status: resp.StatusCode, code: string(b)}
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func reportPairs(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pairs/s")
}

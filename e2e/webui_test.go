package e2e

import (
	"context"
	"encoding/base64"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// SkipChromium is the one line the Web UI test prints when it cannot run.
const SkipChromium = "tier 4 web ui: no headless Chromium: install Debian's chromium (make test does), or set BYOK_TEST_CHROMIUM to its path"

// chromium returns the browser's path or skips the test.
func chromium(t *testing.T) string {
	if p := os.Getenv("BYOK_TEST_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip(SkipChromium)
	return ""
}

// browser starts headless Chromium with a fresh profile and nothing that
// phones home.
func browser(t *testing.T, path string) context.Context {
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.WindowSize(1400, 1000),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(cancelTimeout)
	return ctx
}

// pageText waits until the page's text contains every string of want, and
// returns it; it saves a screenshot named shot either way.
func pageText(t *testing.T, ctx context.Context, shot string, want ...string) string {
	t.Helper()
	var text string
	deadline := time.Now().Add(45 * time.Second)
	for {
		var err error
		text, err = chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		require.NoError(t, err)
		done := true
		for _, w := range want {
			done = done && strings.Contains(text, w)
		}
		if done || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100: PNG
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(t.ArtifactDir(), shot+".png"), png, 0o644))
	return text
}

func TestWebUI_ShowsTheDecodedInputThroughTheCodecServer(t *testing.T) {
	path := chromium(t)
	s := NewStack(t)
	s.StartWorker()
	s.StartNode("a")
	s.StartCodecServer()
	key := s.CreateRootKey("webui-root")
	name := UniqueName("webui")
	s.mustJSON(&statusDoc{}, "provision", "--instance", name, "--root-key", key, "--nodes", "1", "--create-authorization", "--json")

	ctx := browser(t, path)
	ui := "http://127.0.0.1:" + shared.ui.UI
	list := ui + "/namespaces/default/workflows?query=" + url.QueryEscape(`ByokInstanceID="`+name+`"`)
	link := `a[href*="/workflows/provision-` + name + `/"]`
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(list), chromedp.WaitVisible(link)))
	pageText(t, ctx, "1-search-by-instance", "provision-"+name)
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(link)))
	instance, deadline := `"instanceId": "`+name+`"`, `"nodeDeadline": "4h0m0s"`
	text := pageText(t, ctx, "2-decoded-input", "Input", instance, deadline)
	require.Contains(t, text, instance, "the Input panel shows the decoded input")
	require.Contains(t, text, deadline, "the deadline reads as a duration, not nanoseconds")
	require.NotContains(t, text, "binary/encrypted")

	s.StopCodecServer()
	require.NoError(t, chromedp.Do(ctx, chromedp.Reload()))
	sealed := base64.StdEncoding.EncodeToString([]byte("binary/encrypted")) // the UI shows metadata in base64
	text = pageText(t, ctx, "3-codec-server-stopped", sealed)
	require.Contains(t, text, sealed, "without the codec server the UI sees the sealed payload")
	require.NotContains(t, text, instance)

	r := s.Starter("schedule", "rotate", "--instance", name, "--every", "2160h")
	require.Equal(t, 0, r.Code, r.Stderr)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(ui+"/namespaces/default/schedules")))
	text = pageText(t, ctx, "4-schedules", "schedule-rotate-"+name)
	require.Contains(t, text, "schedule-rotate-"+name, "the Schedules page lists the rotation schedule")
	require.Equal(t, 0, s.Starter("schedule", "delete", "schedule-rotate-"+name).Code)
}

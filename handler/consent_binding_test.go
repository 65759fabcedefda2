package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestConsentBoundToBrowser: the pending request id is in the consent
// page's URL, so it can leak (history, screen sharing, a link pasted
// into a chat). Only the browser that started the request at /authorize
// may see or answer its consent page: another browser can neither deny it
// (the client would get access_denied) nor approve it in its own session
// (it would get the code and the victim's state). Issue 8 item 3.
func TestConsentBoundToBrowser(t *testing.T) {
	ts := newTestServer(t, nil)
	st := ts.stack
	victimClient := registerClient(t, st, "http://127.0.0.1:53682/callback")
	victim := newBrowser(t, st)
	resp, _ := victim.get(victimClient.authorizeURL(st, nil))
	consentPath := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(consentPath, "/consent?request=") {
		t.Fatalf("authorize: %d %q", resp.StatusCode, consentPath)
	}
	requestID, _ := url.QueryUnescape(strings.TrimPrefix(consentPath, "/consent?request="))

	// The attacker has a consent page of its own, so it holds a valid CSRF
	// cookie and token of this server.
	attacker := newBrowser(t, st)
	attackerClient := registerClient(t, st, "http://127.0.0.1:53682/callback")
	r2, _ := attacker.get(attackerClient.authorizeURL(st, nil))
	_, page := attacker.get(st.BaseURL + r2.Header.Get("Location"))
	csrf := hiddenField(t, page, "csrf_token")

	t.Run("another browser cannot open the page", func(t *testing.T) {
		r, body := attacker.get(st.BaseURL + consentPath)
		if r.StatusCode < 400 || strings.Contains(body, `name="csrf_token"`) {
			t.Fatalf("GET %s from another browser: %d, form shown: %v", consentPath, r.StatusCode, strings.Contains(body, "csrf_token"))
		}
	})
	for _, decision := range []string{"deny", "approve"} {
		t.Run("another browser cannot "+decision, func(t *testing.T) {
			r := attacker.postConsent(requestID, csrf, decision)
			if r.StatusCode != http.StatusForbidden || r.Header.Get("Location") != "" {
				t.Fatalf("POST /consent %s from another browser: %d Location %q, want 403 and no redirect", decision, r.StatusCode, r.Header.Get("Location"))
			}
		})
	}
	// The victim's request is untouched and completes in the victim's browser.
	q := victim.authorize(victimClient, st.BaseURL+consentPath, "AdeleV@contoso.example")
	if q.Get("code") == "" || q.Get("state") != victimClient.State {
		t.Fatalf("the victim's sign-in after the attempts: %v", q)
	}
}

func hiddenField(t *testing.T, page, name string) string {
	t.Helper()
	for _, m := range hiddenRE.FindAllStringSubmatch(page, -1) {
		if m[1] == name {
			return m[2]
		}
	}
	t.Fatalf("no hidden field %s in the page", name)
	return ""
}

// postConsent submits the consent form for request with the given CSRF
// token, as a same-origin form post.
func (b *browser) postConsent(request, csrf, decision string) *http.Response {
	b.t.Helper()
	form := url.Values{"request": {request}, "csrf_token": {csrf}, "decision": {decision}}
	req, _ := http.NewRequest(http.MethodPost, b.st.BaseURL+"/consent", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.st.BaseURL)
	r, err := b.http.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	r.Body.Close()
	return r
}

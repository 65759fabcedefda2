package oauth

import (
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
	"github.com/azure-mcp/entra-mcp-functions/handler/internal/tokens"
)

// consentPage renders GET /consent for a pending request of client to
// redirectURI, from the browser that started it, and returns the page
// with its markup stripped to text (and the raw page).
func consentPage(t *testing.T, h *Handler, clientID, redirectURI string) (text, raw string) {
	t.Helper()
	const flow = "flow-cookie-value"
	areq := store.AuthRequest{
		ID: tokens.NewOpaque(), ClientID: clientID, RedirectURI: redirectURI, Scope: "mcp:tools",
		BrowserBindingHash: tokens.Hash(flow), CreatedAt: t0, ExpiresAt: t0.Add(authRequestTTL),
	}
	if err := h.Store.PutAuthRequest(t.Context(), areq); err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/consent?request="+url.QueryEscape(areq.ID), nil)
	r.AddCookie(&http.Cookie{Name: h.cookieName(cookieFlow), Value: flow})
	w := httptest.NewRecorder()
	h.Consent(w, r)
	b, _ := io.ReadAll(w.Result().Body)
	if w.Code != http.StatusOK {
		t.Fatalf("GET /consent = %d\n%s", w.Code, b)
	}
	return pageText(string(b)), string(b)
}

var tagRE = regexp.MustCompile(`<[^>]*>`)

func pageText(page string) string {
	body := page
	if i := strings.Index(page, "<body>"); i >= 0 {
		body = page[i:]
	}
	return strings.Join(strings.Fields(html.UnescapeString(tagRE.ReplaceAllString(body, " "))), " ")
}

// TestConsentNamesMetadataDocumentClientsAsUnverified: a client ID metadata
// document on any https host can call itself "Visual Studio Code". What
// the server knows for sure is the host that serves the document, so the
// consent page names the app by that host and shows the document's name as
// the app's own claim, and it warns when the browser would be sent back to
// another origin than the client_id's (issue 8 item 2).
func TestConsentNamesMetadataDocumentClientsAsUnverified(t *testing.T) {
	s := newCIMDTestServer(t, func(w http.ResponseWriter, r *http.Request, self string) {
		serveJSON(w, "", strings.Replace(cimdDoc(self, ""), `"https://vscode.dev/redirect"`,
			`"https://vscode.dev/redirect","`+"https://"+r.Host+`/callback"`, 1))
	})
	h := newTestHandler(t, func(h *Handler) { h.Metadata = s.fetcher(t, nil) })
	clientID := s.URL + "/oauth/client-metadata.json"
	host := strings.TrimPrefix(s.URL, "https://")

	text, raw := consentPage(t, h, clientID, "https://vscode.dev/redirect")
	headline := pageText(raw[strings.Index(raw, "<h1"):strings.Index(raw, "</h1>")] + "</h1>")
	if strings.Contains(headline, "Visual Studio Code") || !strings.Contains(headline, host) {
		t.Errorf("headline %q: want the document's host %s, not the name it claims", headline, host)
	}
	for _, want := range []string{
		`"Visual Studio Code" is the name given by the app at ` + host + `, not verified`,
		"you will be sent back to vscode.dev, which is not " + host,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("consent page does not say %q:\n%s", want, text)
		}
	}

	// A redirect URI on the client_id's own origin gets no such warning.
	text, _ = consentPage(t, h, clientID, "https://"+host+"/callback")
	if strings.Contains(text, "which is not") {
		t.Errorf("same-origin redirect URI warned about:\n%s", text)
	}

	// A registered client's name was chosen by whoever registered it.
	reg := store.Client{ID: "registered", Name: "Visual Studio Code", RedirectURIs: []string{"https://app.example/cb"}}
	if err := h.Store.CreateClient(t.Context(), reg); err != nil {
		t.Fatal(err)
	}
	text, _ = consentPage(t, h, reg.ID, "https://app.example/cb")
	if !strings.Contains(text, "chosen by the application itself and is not verified") {
		t.Errorf("registered client without the unverified-name warning:\n%s", text)
	}
}

package entraemu

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/net/html"
)

// Consent says what SignInWith does when the emulator shows its consent
// prompt ("Permissions requested").
type Consent int

const (
	// ConsentUnexpected makes a consent prompt an error.
	ConsentUnexpected Consent = iota
	// ConsentAccept clicks Accept.
	ConsentAccept
	// ConsentCancel clicks Cancel.
	ConsentCancel
)

// SignIn does what a person does in a browser: it loads authorizeURL, picks
// the user with the given UPN on the sign-in page and submits the form. It
// returns the Location of the final redirect: the client's redirect URI
// with code and state, or with error parameters if the emulator redirected
// an error. An error page, a consent prompt or a network failure is
// returned as an error.
//
// client must trust the emulator; its redirect policy is not used (SignIn
// never follows redirects, since the redirect URI usually has no server).
func SignIn(client *http.Client, authorizeURL, upn string) (string, error) {
	return SignInWith(client, authorizeURL, upn, ConsentUnexpected)
}

// SignInWith is SignIn that answers the consent prompt as consent says.
func SignInWith(client *http.Client, authorizeURL, upn string, consent Consent) (string, error) {
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Get(authorizeURL)
	if err != nil {
		return "", err
	}
	status, body, loc, err := readPage(resp)
	if err != nil || status == http.StatusFound {
		return loc, err
	}
	if status != http.StatusOK {
		return "", fmt.Errorf("authorize answered %d: %s", status, pageText(body))
	}
	form, err := parseForm(body, "user", upn)
	if err != nil {
		return "", err
	}
	for step := 0; ; step++ {
		action, err := resp.Request.URL.Parse(form.action)
		if err != nil {
			return "", err
		}
		if resp, err = c.PostForm(action.String(), form.values); err != nil {
			return "", err
		}
		status, body, loc, err = readPage(resp)
		switch {
		case err != nil || status == http.StatusFound:
			return loc, err
		case status != http.StatusOK || step > 0:
			return "", fmt.Errorf("sign-in answered %d: %s", status, pageText(body))
		}
		var choice string
		switch consent {
		case ConsentAccept:
			choice = "accept"
		case ConsentCancel:
			choice = "cancel"
		default:
			return "", fmt.Errorf("unexpected consent prompt for %s: %s", upn, pageText(body))
		}
		if form, err = parseForm(body, "consent", choice); err != nil {
			return "", err
		}
	}
}

// readPage reads a response: the status, the body and, for a redirect, its
// Location.
func readPage(resp *http.Response) (int, []byte, string, error) {
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))
	resp.Body.Close()
	return resp.StatusCode, body, resp.Header.Get("Location"), err
}

type pageForm struct {
	action string
	values url.Values
}

// parseForm reads the form's action and hidden fields and adds the button
// named name with the given value, as a browser submits the clicked button.
func parseForm(page []byte, name, value string) (pageForm, error) {
	doc, err := html.Parse(strings.NewReader(string(page)))
	if err != nil {
		return pageForm{}, err
	}
	f := pageForm{values: url.Values{}}
	found := false
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			a := attrs(n)
			switch {
			case n.Data == "form":
				f.action = a["action"]
			case n.Data == "input" && a["type"] == "hidden":
				f.values.Add(a["name"], a["value"])
			case n.Data == "button" && a["name"] == name && strings.EqualFold(a["value"], value):
				f.values.Set(name, a["value"])
				found = true
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if !found {
		return f, fmt.Errorf("the page has no %s button %q: %s", name, value, pageText(page))
	}
	return f, nil
}

func attrs(n *html.Node) map[string]string {
	m := map[string]string{}
	for _, a := range n.Attr {
		m[a.Key] = a.Val
	}
	return m
}

// pageText extracts the error text of an emulator error page, the
// permissions a consent prompt asks for ("Permissions requested: Mail.Read
// (Read your mail)"), or the start of any other body, for an error message.
func pageText(body []byte) string {
	doc, err := html.Parse(strings.NewReader(string(body)))
	if err != nil {
		return string(body)
	}
	var b strings.Builder
	var perms []string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			a := attrs(n)
			switch {
			case n.Data == "p" && a["id"] == "error-message" && n.FirstChild != nil:
				b.WriteString(n.FirstChild.Data)
			case n.Data == "li" && a["data-permission"] != "" && n.FirstChild != nil:
				perms = append(perms, a["data-permission"]+" ("+n.FirstChild.Data+")")
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if len(perms) > 0 {
		b.WriteString("Permissions requested: " + strings.Join(perms, ", "))
	}
	if b.Len() == 0 {
		s := string(body)
		if len(s) > 300 {
			s = s[:300]
		}
		return s
	}
	return b.String()
}
